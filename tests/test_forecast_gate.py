"""The model choice by backtest (issue 11, item 5) and bands that mean what they say (item 7)."""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np
import pytest
from historytools import history_of
from test_forecast_level import shifted_world

from api.scenario_demand import scenario_demand
from api.scenario_request import Overrides
from forecasting.backtest import run_backtest
from forecasting.forecast import build_forecast
from forecasting.gate import GatedDemandModel, fit_forecaster
from forecasting.history import History
from forecasting.model import MnlDemandModel
from forecasting.world import WorldSpec, simulate_world, venue_toml
from pricing.calendar import entry_slots
from pricing.venue import parse_venue_toml


@cache
def weekly_history() -> History:
    """A year of a venue whose every weekday-and-slot level wanders on its own, a random walk
    from week to week; sales are Poisson around it, the price never changes. Last week's sales
    are then the best forecast there is. The MNL's market size and slot profiles are smooth in
    time and its local level is one for the whole day, so it cannot follow 56 walks."""
    venue = parse_venue_toml(venue_toml(8), source="venue.toml")
    rng = np.random.default_rng(5)
    log_level = np.log(rng.uniform(20, 100, size=(7, 8)))
    rows = []
    start = dt.date(2024, 1, 2)
    for i in range(364):
        date = start + dt.timedelta(i)
        log_level[date.weekday()] += rng.normal(0, 0.25, 8)
        log_level = np.clip(log_level, np.log(10), np.log(400))
        for j, slot in enumerate(entry_slots(venue, date)):
            sold = int(rng.poisson(np.exp(log_level[date.weekday(), j])))
            rows.append(
                {"date": date.isoformat(), "slot": slot, "capacity": 4000, "price": 20,
                 "sold": sold}
            )  # fmt: skip
    return history_of(rows, venue)


@cache
def weekly_model() -> GatedDemandModel:
    model = fit_forecaster(weekly_history())
    assert isinstance(model, GatedDemandModel)
    return model


def test_on_a_series_the_model_cannot_beat_the_gate_picks_seasonal_naive_and_says_so() -> None:
    model = weekly_model()
    assert model.choice_ == "naive" and model.name == "seasonal-naive"
    assert model.scores_["naive"] < min(model.scores_[c] for c in ("full", "level", "blend"))
    history = weekly_history()
    start = history.last_date + dt.timedelta(1)
    forecast = build_forecast(model, history.venue, start, 14)
    assert forecast["model"] == "seasonal-naive"
    (why,) = [n for n in forecast["notes"] if n.startswith("model: ")]
    assert why.startswith(
        f"model: seasonal-naive (backtest WAPE {model.scores_['naive']:.3f} vs "
        f"level-corrected {model.scores_['level']:.3f}, full {model.scores_['full']:.3f}"
    )
    assert "the price response and slot weights are the full mnl's" in why
    # Each slot's demand is last week's sales; the weights are the full MNL's, and the arrivals
    # are what makes the MNL's slot demands add up to the same day total.
    last_week = {
        (d.weekday(), s): r.sold
        for d, day in history.days.items()
        if d > history.last_date - dt.timedelta(7)
        for s, r in day.slots.items()
    }
    ladder = np.array(history.venue.prices.ladder, dtype=float)
    base = list(ladder).index(history.venue.prices.base)
    for day in forecast["days"]:
        date = dt.date.fromisoformat(day["date"])
        slots, weights = model.full_.slot_weights(date, ladder)
        assert [s["slot"] for s in day["slots"]] == slots
        for i, slot in enumerate(day["slots"]):
            assert slot["expected"] == pytest.approx(last_week[(date.weekday(), slot["slot"])])
            assert slot["weights"] == pytest.approx(weights[i], rel=1e-3)
        v = weights[:, base]
        total = sum(s["expected"] for s in day["slots"])
        assert day["arrivals"] * v.sum() / (1 + v.sum()) == pytest.approx(total, rel=1e-3)
        assert np.exp(model.log_market(date, {})) == pytest.approx(day["arrivals"], rel=1e-3)


def test_scenarios_take_the_winners_market_and_say_it_cannot_read_the_calendar() -> None:
    from forecasting.history import parse_calendar

    model = weekly_model()
    start = weekly_history().last_date + dt.timedelta(1)
    dates = [start + dt.timedelta(i) for i in range(7)]
    calendar = parse_calendar("date,holiday\n" + "".join(f"{d},0\n" for d in dates))
    demand = scenario_demand(model, dates, Overrides(), calendar)
    assert demand.model == "seasonal-naive"
    assert any("cannot use the calendar" in note for note in demand.notes)
    for date, day in demand.days.items():
        assert day.arrivals == pytest.approx(np.exp(model.log_market(date, {})))


def test_after_a_level_shift_the_gate_picks_the_level_corrected_model() -> None:
    _, history, _ = shifted_world()
    model = fit_forecaster(history)
    assert isinstance(model, GatedDemandModel)
    assert model.choice_ == "level" and model.name == "level-corrected mnl"
    assert model.scores_["level"] < model.scores_["full"]
    assert any(n.startswith("model: level-corrected mnl (backtest WAPE") for n in model.notes_)
    assert any(n.startswith("local level x") for n in model.notes_)
    # The optimizer's price response is the MNL's fitted on the whole history.
    assert model.price_sensitivity_ == model.full_.price_sensitivity_


def test_a_history_too_short_for_the_gate_gets_the_full_model_and_a_note() -> None:
    history = simulate_world(WorldSpec(seed=2, days=100, slots_per_day=4)).history()
    model = fit_forecaster(history)
    assert model.name == "mnl" and not isinstance(model, GatedDemandModel)
    assert isinstance(model, MnlDemandModel) and not model.local_level
    assert any("model: mnl (the history is too short for the 3 x 14 day backtest" in note
               for note in model.notes_)  # fmt: skip


def test_eighty_percent_bands_of_the_default_forecaster_cover_seventy_to_ninety_percent() -> None:
    # Little sold out, so that coverage is of demand, not of capacity; three folds of four
    # weeks, about 570 slot rows, fixed seed.
    history = simulate_world(WorldSpec(seed=11, days=420, slots_per_day=8, demand_scale=0.6))
    result = run_backtest(history.history(), folds=3, horizon=28)
    scores = result.overall["model"]
    assert scores.rows > 500
    assert 0.7 <= scores.coverage <= 0.9
    assert 0.7 <= scores.coverage_open <= 0.9
    assert scores.wape < result.overall["seasonal_naive"].wape


@pytest.mark.parametrize(("mu", "alpha"), [(3.0, 0.0), (40.0, 0.0), (40.0, 0.015), (300.0, 0.02)])
def test_an_eighty_percent_count_band_holds_about_eighty_percent(mu: float, alpha: float) -> None:
    from forecasting import counts
    from forecasting.prediction import count_band

    rng = np.random.default_rng(0)
    means = rng.uniform(0.8 * mu, 1.2 * mu, 4000)  # many means, so rounding evens out
    if alpha > 0:
        n = 1 / alpha
        draws = rng.negative_binomial(n, n / (n + means))
    else:
        draws = rng.poisson(means)
    low, high = count_band(0.1, 0.9, means, alpha)
    assert np.all(low <= means) and np.all(means <= high)
    inside = np.mean((low <= draws) & (draws <= high))
    assert 0.77 <= inside <= 0.83
    # The plain quantiles hold the small counts too often.
    plain = (counts.quantile(0.1, means, alpha), counts.quantile(0.9, means, alpha))
    assert np.mean((plain[0] <= draws) & (draws <= plain[1])) >= inside
