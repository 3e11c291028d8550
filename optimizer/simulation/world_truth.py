"""A demo world's true demand, read back from what `yieldgate demo-data` wrote
(forecasting/world.py): what the simulated customers are drawn from
(optimizer/simulation/simulate.py), what a perfect forecaster would say, and the most revenue
any pricing policy could expect.

- a visit date's market A_d = exp(intercept + effects . x_d), x_d from `calendar_features` and
  the calendar's holiday, school_holiday, event, temp_c and precip_mm (or log(1 + precip_mm));
  the realised market is A_d G_d with a day-level gamma shock G_d (mean 1, variance
  `dispersion`), and the number of potential buyers is Poisson(A_d G_d);
- each buyer sees every slot's current price p_s and picks slot s with probability
  v_s / (1 + sum_t v_t), v_s = K q_ws exp(-b (p_s - base)), or buys nothing; a sold-out slot
  is not offered (v_s = 0);
- members, Poisson(2) a slot on week days and Poisson(4) at weekends, visit free and take a
  place (and a sales position, as they do through the quote path) if one is left.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from forecasting.features import calendar_features, day_types
from forecasting.history import Calendar, load_calendar
from optimizer.forecast_io import Forecast, ForecastDay, ForecastSlot
from optimizer.run import OptimizerSettings, optimize
from pricing.calendar import entry_slots
from pricing.errors import InvalidInput
from pricing.venue import WEEKDAYS, Objective, Venue, parse_venue_toml

FloatArray = npt.NDArray[np.float64]

# forecasting/world.py draws members per slot with these means (not recorded in truth.json).
MEMBERS_PER_SLOT_WEEKDAY = 2.0
MEMBERS_PER_SLOT_WEEKEND = 4.0
DAY_COLUMNS = ("holiday", "school_holiday", "event", "temp_c", "precip_mm")


@dataclass(frozen=True)
class WorldTruth:
    """A demo world's true demand: what the simulated customers are drawn from."""

    venue: Venue
    calendar: Calendar
    trend_origin: dt.date
    intercept: float
    effects: Mapping[str, float]
    price_sensitivity: float
    buy_odds: float  # K = (1 - outside share) / outside share at base prices
    dispersion: float
    slot_shares: Mapping[str, Mapping[str, float]]  # day type -> slot -> q at base price
    members_weekday: float = MEMBERS_PER_SLOT_WEEKDAY  # mean member visits a slot
    members_weekend: float = MEMBERS_PER_SLOT_WEEKEND

    def market_size(self, date: dt.date) -> float:
        """A_d: the expected number of people who consider visiting on `date`."""
        if date in self.calendar.closed:
            raise InvalidInput(f"the world's calendar closes {date}", field="date")
        values = self.calendar.days.get(date)
        if values is None:
            raise InvalidInput(f"{date} is not in the world's calendar", field="date")
        x: dict[str, float] = dict(calendar_features(self.venue, date, self.trend_origin))
        for column in DAY_COLUMNS:
            value = values.get(column)
            if value is None:
                raise InvalidInput(f"the world's calendar has no {column} on {date}", field=column)
            x[column] = value
        x["log1p_precip_mm"] = math.log1p(x["precip_mm"])  # a rain_effect="log1p" world's
        missing = sorted(set(self.effects) - set(x))
        if missing:
            raise InvalidInput(f"truth.json: unknown effect(s) {', '.join(missing)}")
        return math.exp(self.intercept + sum(e * x[name] for name, e in self.effects.items()))

    def slot_appeal(self, date: dt.date, slots: Sequence[str]) -> FloatArray:
        """K q_ws per slot: the MNL weight at the base price."""
        kind = day_types(self.venue).get(WEEKDAYS[date.weekday()])
        shares = self.slot_shares.get(kind or "")
        if shares is None:
            raise InvalidInput(f"truth.json: no slot shares for {date} (closed?)", field="date")
        unknown = [slot for slot in slots if slot not in shares]
        if unknown:
            raise InvalidInput(f"truth.json: no share for {unknown[0]} on {date}", field="slot")
        return self.buy_odds * np.array([shares[slot] for slot in slots])

    def weights(self, date: dt.date, slots: Sequence[str], prices: FloatArray) -> FloatArray:
        """v_ds at `prices`: one row of prices per slot (slots x anything)."""
        base = self.venue.prices.base
        appeal = self.slot_appeal(date, slots)
        return appeal[:, None] * np.exp(-self.price_sensitivity * (prices - base))

    def members_mean(self, date: dt.date) -> float:
        return self.members_weekend if date.weekday() >= 5 else self.members_weekday


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror}", field="world") from None


def load_world(directory: str | Path) -> WorldTruth:
    """Read venue.toml, calendar.csv and truth.json written by `yieldgate demo-data`."""
    root = Path(directory)
    if not root.is_dir():
        raise InvalidInput(f"{root}: not a directory (expected a demo-data world)", field="world")
    venue = parse_venue_toml(_read(root / "venue.toml"), source=str(root / "venue.toml"))
    calendar = load_calendar(root / "calendar.csv")
    source = root / "truth.json"
    try:
        truth = json.loads(_read(source))
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{source}: not valid JSON: {exc}", field="world") from None
    try:
        outside = float(truth["outside_share_at_base"])
        return WorldTruth(
            venue=venue,
            calendar=calendar,
            trend_origin=dt.date.fromisoformat(truth["trend_origin"]),
            intercept=float(truth["intercept"]),
            effects={str(k): float(v) for k, v in truth["effects"].items()},
            price_sensitivity=float(truth["price_sensitivity"]),
            buy_odds=(1 - outside) / outside,
            dispersion=float(truth["dispersion"]),
            slot_shares={
                str(kind): {str(s): float(q) for s, q in shares.items()}
                for kind, shares in truth["slot_shares"].items()
            },
        )
    except (KeyError, TypeError, ValueError, AttributeError, ZeroDivisionError) as exc:
        raise InvalidInput(f"{source}: not a demo world's truth ({exc!r})", field="world") from None


def truth_forecast(truth: WorldTruth, dates: Sequence[dt.date]) -> Forecast:
    """What a perfect forecaster would say: the world's own A_d, MNL weights at every ladder
    price and mean member visits. Planning from it separates forecast error from the rest."""
    venue = truth.venue
    prices = np.array(venue.prices.ladder, dtype=np.float64)
    days = []
    for date in dates:
        slots = list(entry_slots(venue, date))
        if not slots or date in truth.calendar.closed:
            continue
        weights = truth.weights(date, slots, np.broadcast_to(prices, (len(slots), len(prices))))
        days.append(
            ForecastDay(
                date=date,
                arrivals=truth.market_size(date),
                slots=tuple(
                    ForecastSlot(
                        slot=slot,
                        weights=tuple(float(w) for w in weights[s]),
                        members=truth.members_mean(date),
                    )
                    for s, slot in enumerate(slots)
                ),
            )
        )
    return Forecast(venue=venue.id, price_points=tuple(float(p) for p in prices), days=tuple(days))


def revenue_upper_bound(
    truth: WorldTruth,
    dates: Sequence[dt.date],
    *,
    settings: OptimizerSettings | None = None,
) -> float:
    """The most revenue any pricing policy can expect on `dates` of this world, however it
    learns, re-solves or reacts to the day: the sales-based LP on the true mean demand.

    Why it bounds: whatever the policy, each buyer chooses by the MNL among the slots offered
    to them, so its expected sales and non-buyers satisfy the LP's market balance and one-price
    rows (Gallego, Ratliff & Shebalov 2015; Liu & van Ryzin 2008 for the choice-based LP), and
    it never sells past a slot's capacity. The market balance needs only the mean number of
    buyers, so the day shock does not loosen it. Left out, each of which makes the bound looser
    than the best achievable, never tighter: members (one turned away from a full slot frees a
    place the LP could not count on) and the building's capacity (sales do not enforce it, so a
    policy may pass it). Revenue objective, the venue's ladder, floor and ceiling; no fairness
    rule."""
    forecast = truth_forecast(truth, dates)
    forecast = dataclasses.replace(
        forecast,
        days=tuple(
            dataclasses.replace(
                day,
                slots=tuple(dataclasses.replace(slot, members=0.0) for slot in day.slots),
            )
            for day in forecast.days
        ),
    )
    prices = truth.venue.prices.model_copy(update={"fairness": None})
    venue = truth.venue.model_copy(
        update={"objective": Objective(kind="revenue"), "prices": prices, "building_capacity": None}
    )
    chosen = settings or OptimizerSettings(workers=1)
    result = optimize(venue, forecast, settings=dataclasses.replace(chosen, fairness=None))
    if result.plan is None:
        raise InvalidInput(f"the bound did not solve: {result.failures[0].reason()}")
    return sum(day.revenue for day in result.kpis)
