"""The local level (issue 11, item 1): a level shift the log-linear fit averages away is carried
forward by the exponentially weighted ratio of actual to fitted sales."""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np
import pytest
from historytools import history_of

from forecasting.history import History
from forecasting.model import MnlDemandModel
from forecasting.world import DemoWorld, WorldSpec, simulate_world

SHIFT = 1.3  # demand x1.3 from the shift on
AFTER = 28  # the history ends four weeks after the shift
HORIZON = 14


@cache
def shifted_world(seed: int = 22) -> tuple[DemoWorld, History, History]:
    """Two years of a 14-slot world whose demand is x1.3 from four weeks before the history's
    end on (the extra demand is drawn as Poisson(0.3 x true demand) on top of the sales, cut
    at the capacity left), the history to fit, and the 14 days after it with their truth. Rain
    acts on log(1 + mm), as in the model: a 2% test needs a well-specified mean."""
    spec = WorldSpec(
        seed=seed, days=728, slots_per_day=14, demand_scale=0.5, dispersion=0.002,
        rain_effect="log1p",
    )  # fmt: skip
    world = simulate_world(spec)
    end = spec.start + dt.timedelta(spec.days)
    shift = end - dt.timedelta(AFTER + HORIZON)
    rng = np.random.default_rng(seed)
    rows = []
    for original in world.history_rows:
        row = dict(original)
        date = dt.date.fromisoformat(row["date"])
        if date >= shift:
            extra = int(rng.poisson((SHIFT - 1) * world.true_demand[(date, row["slot"])]))
            left = int(row["capacity"]) - int(row["members"])
            row["sold"] = min(int(row["sold"]) + extra, left)
        rows.append(row)
    history = history_of(rows, world.venue)
    cutoff = shift + dt.timedelta(AFTER)
    return (
        world,
        history.select(lambda d: d < cutoff),
        history.select(lambda d: d >= cutoff),
    )


def _forecast_against_truth(model: MnlDemandModel, world: DemoWorld, ahead: History) -> float:
    """Forecast demand over the days after the history (at the prices charged, with the
    recorded covariates) divided by the true demand of those days."""
    prices = {(d, s): r.price for d, day in ahead.days.items() for s, r in day.slots.items()}
    covariates = {d: day.covariates for d, day in ahead.days.items()}
    predicted = truth = 0.0
    for day in model.predict(list(ahead.days), covariates=covariates, prices=prices):
        for i, slot in enumerate(day.slots):
            if slot in ahead.days[day.date].slots:
                predicted += float(day.expected[i])
                truth += SHIFT * world.true_demand[(day.date, slot)]
    return predicted / truth


def test_four_weeks_after_a_level_shift_the_corrected_forecast_is_within_two_percent() -> None:
    world, history, ahead = shifted_world()
    corrected = MnlDemandModel(local_level=True).fit(history)
    uncorrected = MnlDemandModel().fit(history)

    assert _forecast_against_truth(corrected, world, ahead) == pytest.approx(1.0, abs=0.02)
    assert abs(_forecast_against_truth(uncorrected, world, ahead) - 1) > 0.05
    assert corrected.level_ == pytest.approx(SHIFT, rel=0.05)
    # The shift is recent: the shortest half-life forecasts it best, and the notes say so.
    assert corrected.level_half_life_ == 7
    level_note = f"local level x{corrected.level_:.3f}"
    assert any(level_note in note and "half-life 7 days" in note for note in corrected.notes_)
    assert any(f"trend held flat after {corrected.fit_last_date_}" in n for n in corrected.notes_)
    # The price response is the MNL's, whatever the level.
    assert corrected.price_sensitivity_ == pytest.approx(0.12, rel=0.1)


def test_the_trend_is_flat_after_the_fit_and_the_level_scales_the_market() -> None:
    _, history, _ = shifted_world()
    model = MnlDemandModel(local_level=True).fit(history)
    far = model.last_date_ + dt.timedelta(400)
    near = model.last_date_ + dt.timedelta(400 - 364)  # the same weekday and season a year before
    flat = model.log_market(far, {}) - model.log_market(near, {})
    assert flat == pytest.approx(0.0, abs=0.02)  # only the annual terms' slight drift
    full = model.log_market(far, {}, level=False, flat_trend=False) - model.log_market(
        near, {}, level=False, flat_trend=False
    )
    assert full == pytest.approx(model.coefficients_["trend"] * 364 / 365.25, abs=0.02)
    ratio = model.log_market(far, {}) - model.log_market(far, {}, level=False)
    assert ratio == pytest.approx(np.log(model.level_))


def test_without_a_shift_the_level_stays_near_one_and_the_bands_are_refitted() -> None:
    world = simulate_world(WorldSpec(seed=4, days=728, slots_per_day=8))
    model = MnlDemandModel(local_level=True).fit(world.history())
    assert model.level_ == pytest.approx(1.0, abs=0.02)
    assert set(model.level_scores_) == {7, 14, 28, 56}
    assert model.level_half_life_ == 56  # a steady level: the longest memory does best
    # The dispersion is fitted again on the corrected out-of-fit forecasts: not the in-sample one.
    assert model.dispersion_ != model.dispersion_fit_
    assert 0 < model.dispersion_ < 0.1
