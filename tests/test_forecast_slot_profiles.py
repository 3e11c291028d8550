"""Slot profiles through the year and by weekday (issue 11, item 3), against a world whose shares
are known: the late slot draws more in summer and on Fridays, a holiday arrives like a weekend."""

from __future__ import annotations

import datetime as dt
import math
from functools import cache

import numpy as np
import pytest
from historytools import history_of

from forecasting.history import History
from forecasting.model import MnlDemandModel
from forecasting.world import venue_toml
from pricing.calendar import entry_slots
from pricing.venue import Venue, parse_venue_toml

MARKET = 800.0  # people who consider the day; half of them buy (outside share 0.5)
START = dt.date(2023, 1, 3)
HOLIDAYS = {START + dt.timedelta(k) for k in range(15, 2 * 364, 45)}  # 8 a year, any weekday


def venue() -> Venue:
    return parse_venue_toml(venue_toml(4), source="venue.toml")


def true_shares(date: dt.date, *, holiday: bool = False) -> np.ndarray:
    """Four slots. The late slot's appeal swings with the year (+0.5 at midsummer, -0.5 at
    midwinter), is 0.6 higher on Fridays; weekends and holidays favour the middle slots."""
    angle = 2 * math.pi * (date - dt.date(date.year, 6, 21)).days / 365.25
    appeal = np.array([0.0, 0.3, 0.2, -0.4 + 0.5 * math.cos(angle)])
    if date.weekday() == 4 and not holiday:
        appeal[3] += 0.6
    if date.weekday() >= 5 or holiday:
        appeal[1:3] += 0.5
    shares = np.exp(appeal)
    return np.asarray(shares / shares.sum())


@cache
def history() -> History:
    rng = np.random.default_rng(11)
    the_venue = venue()
    rows = []
    for i in range(2 * 364):
        date = START + dt.timedelta(i)
        slots = entry_slots(the_venue, date)
        if not slots:
            continue
        holiday = date in HOLIDAYS
        mean = MARKET * 0.5 * true_shares(date, holiday=holiday)
        for slot, mu in zip(slots, mean, strict=True):
            rows.append(
                {"date": date.isoformat(), "slot": slot, "capacity": 5000, "price": 20,
                 "sold": int(rng.poisson(mu)), "holiday": int(holiday)}
            )  # fmt: skip
    return history_of(rows, the_venue)


@cache
def model() -> MnlDemandModel:
    return MnlDemandModel().fit(history())


def fitted_shares(date: dt.date, *, holiday: bool = False) -> np.ndarray:
    fitted = model()
    covariates = {"holiday": 1.0 if holiday else 0.0}
    _, weights = fitted.slot_weights(date, np.array([fitted.base_price_]), covariates)
    v = weights[:, 0]
    return np.asarray(v / v.sum())


def next_weekday(date: dt.date, weekday: int) -> dt.date:
    return date + dt.timedelta((weekday - date.weekday()) % 7)


@pytest.mark.parametrize(
    ("month", "day", "weekday"),
    [(1, 10, 2), (4, 10, 2), (6, 20, 2), (10, 10, 2), (1, 10, 4), (7, 1, 4), (6, 20, 6)],
)
def test_the_slot_profile_follows_the_season_and_the_weekday(
    month: int, day: int, weekday: int
) -> None:
    date = next_weekday(dt.date(2025, month, day), weekday)  # a year after the history
    assert fitted_shares(date) == pytest.approx(true_shares(date), rel=0.06, abs=0.005)


def test_the_late_slot_share_more_than_doubles_from_winter_to_summer() -> None:
    winter = next_weekday(dt.date(2025, 1, 5), 2)
    summer = next_weekday(dt.date(2025, 6, 22), 2)
    fitted = fitted_shares(summer)[3] / fitted_shares(winter)[3]
    truth = true_shares(summer)[3] / true_shares(winter)[3]
    assert truth > 2
    assert fitted == pytest.approx(truth, rel=0.08)


def test_a_holiday_on_a_week_day_learns_its_own_profile() -> None:
    wednesday = next_weekday(dt.date(2025, 3, 1), 2)
    assert fitted_shares(wednesday, holiday=True) == pytest.approx(
        true_shares(wednesday, holiday=True), rel=0.1, abs=0.01
    )
    truth = true_shares(wednesday, holiday=True)[1] / true_shares(wednesday)[1]
    assert truth > 1.15
    fitted = fitted_shares(wednesday, holiday=True)[1] / fitted_shares(wednesday)[1]
    assert fitted == pytest.approx(truth, rel=0.05)


def test_a_short_history_keeps_one_profile_through_the_year() -> None:
    short = history().select(lambda d: d < START + dt.timedelta(120))
    fitted = MnlDemandModel().fit(short)
    assert not fitted._appeals.free_season.any()
    winter, summer = next_weekday(dt.date(2025, 1, 5), 2), next_weekday(dt.date(2025, 6, 22), 2)
    base = np.array([fitted.base_price_])
    assert fitted.slot_weights(winter, base)[1] == pytest.approx(
        fitted.slot_weights(summer, base)[1]
    )
