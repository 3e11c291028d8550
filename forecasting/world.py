"""A synthetic venue whose demand we know, for demos, tests and benchmarks.

Ground truth (saved as truth.json beside the data):
- Market size per open day: A_d = exp(theta . x_d) with the covariates of `features.py` plus
  holiday, school_holiday, event (special exhibitions), temp_c and precip_mm (per mm, or with
  `rain_effect="log1p"` on log(1 + mm), as the model takes it: forecasting/weather.py);
  realised market A_d * G_d with a day-level gamma shock G_d (mean 1, variance `dispersion`):
  the day-to-day surprise nobody recorded, which makes slot counts negative-binomial and
  correlated in a day.
- Slot choice: the multinomial logit v_ds = K * q_ws * exp(-b (p_ds - base)), P_ds =
  v_ds / (1 + sum_t v_dt); q_ws are the slot shares at base price of day type w (sum 1), and
  K = (1 - outside_share) / outside_share fixes the no-purchase share at base prices (the
  model's normalisation, see model.py). In the usual a_s notation: a_ws = log(K q_ws) + b base.
- Paid demand D_ds ~ Poisson(A_d G_d P_ds); members ~ Poisson (2 a slot on week days, 4 at
  weekends); sold = min(D_ds, capacity - members): a sold-out slot hides its true demand.
- Prices: four regimes (constant 18; base 20 with dear peaks and cheap shoulders; a year of
  weekly randomised slot prices from the ladder; a sharper peak/off-peak plan), so that b is
  identified from slot-to-slot and period-to-period price differences.
- About 1% of slot rows and a few whole days are missing (gaps, not zeros).
- bookings.csv: when the tickets of the history's last 28 days were bought (date, booked_on,
  tickets), lead times on the booking curve with a mean of 7 days (`mean_lead_days` in truth.json).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from forecasting.features import calendar_features, day_types, fourier_columns, weekday_columns
from forecasting.history import History, parse_history
from pricing.calendar import entry_slots
from pricing.venue import Venue, minutes_of, parse_venue_toml

EXAMPLE_HOURS = """\
[slot_capacities]
"17:00" = 60
"17:30" = 40

[hours]
tue = ["10:00", "18:00"]
wed = ["10:00", "18:00"]
thu = ["10:00", "18:00"]
fri = ["10:00", "21:00"]
sat = ["09:00", "18:00"]
sun = ["09:00", "18:00"]
"""

VENUE_TEMPLATE = """\
# A synthetic venue written by `yieldgate demo-data`; its true demand is in truth.json.
id = "demo-museum"
name = "Demo Museum"
timezone = "Europe/Amsterdam"
currency = "EUR"
vat_rate = 0.09
slot_minutes = {slot_minutes}
dwell_minutes = 120
slot_capacity = {capacity}
building_capacity = {building}
comfort_occupancy = {comfort}

{hours}
[prices]
ladder = [12, 14, 16, 18, 20, 22, 24, 26]
base = 20
floor = 12
ceiling = 26

[segments]
adult = 1.0
senior = 0.8
student = 0.6
child = 0.0
member = 0.0

[demand]
price_sensitivity_prior = 0.1
segment_mix = {{ adult = 0.6, senior = 0.2, student = 0.1, child = 0.1 }}

[objective]
kind = "balanced"
crowding_penalty = 2.0
"""

TRUE_EFFECTS = {
    "trend": 0.05,
    "weekday_wed": 0.03,
    "weekday_thu": 0.08,
    "weekday_fri": 0.20,
    "weekday_sat": 0.50,
    "weekday_sun": 0.45,
    "annual_sin_1": 0.04,
    "annual_cos_1": -0.15,
    "annual_sin_2": 0.03,
    "annual_cos_2": 0.06,
    "annual_sin_3": 0.0,
    "annual_cos_3": 0.02,
    "holiday": 0.35,
    "school_holiday": 0.20,
    "event": 0.30,
    "temp_c": -0.012,
    "precip_mm": 0.015,
    "log1p_precip_mm": 0.04,  # with rain_effect="log1p", instead of precip_mm
}


@dataclass(frozen=True)
class WorldSpec:
    seed: int = 7
    start: dt.date = dt.date(2024, 11, 5)
    days: int = 730
    calendar_days: int = 56
    slots_per_day: int | None = None  # None: the example venue's hours; N: N slots tue-sun
    price_sensitivity: float = 0.12
    outside_share: float = 0.5
    dispersion: float = 0.015
    constant_price: float | None = None  # every slot at one price: b is not identified
    demand_scale: float = 0.85  # market size against capacity (above 1: more sold-out slots)
    gap_share: float = 0.01
    mean_lead_days: float = 7.0  # the booking curve of bookings.csv (optimizer/booking_curve.py)
    booking_days: int = 28  # the history's last days whose booking dates bookings.csv gives
    # "per_mm" (the default, kept because other tests pin its realisation) or "log1p": rain
    # acts on log(1 + mm), which is the model's own family.
    rain_effect: str = "per_mm"


@dataclass
class DemoWorld:
    spec: WorldSpec
    venue_toml: str
    venue: Venue
    history_rows: list[dict[str, Any]]
    calendar_rows: list[dict[str, Any]]
    truth: dict[str, Any]
    true_demand: dict[tuple[dt.date, str], float] = field(default_factory=dict)
    bookings_rows: list[dict[str, Any]] = field(default_factory=list)

    def history_csv(self) -> str:
        return _csv(self.history_rows)

    def bookings_csv(self) -> str:
        return _csv(self.bookings_rows)

    def calendar_csv(self) -> str:
        return _csv(self.calendar_rows)

    def history(self) -> History:
        return parse_history(self.history_csv(), self.venue, source="history.csv")


def venue_toml(slots_per_day: int | None) -> str:
    if slots_per_day is None:
        return VENUE_TEMPLATE.format(
            slot_minutes=30, capacity=120, building=600, comfort=450, hours=EXAMPLE_HOURS
        )
    slot_minutes = 30 if slots_per_day <= 20 else 15
    opens = 10 * 60
    closes = opens + slots_per_day * slot_minutes
    span = f'["10:00", "{closes // 60:02d}:{closes % 60:02d}"]'
    hours = "[hours]\n" + "".join(
        f"{day} = {span}\n" for day in ("tue", "wed", "thu", "fri", "sat", "sun")
    )
    capacity = 120 if slot_minutes == 30 else 60
    building = capacity * 120 // slot_minutes
    return VENUE_TEMPLATE.format(
        slot_minutes=slot_minutes,
        capacity=capacity,
        building=building,
        comfort=building * 3 // 4,
        hours=hours,
    )


def easter(year: int) -> dt.date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (h + m - 7 * ((a + 11 * h + 22 * m) // 451) + 114) // 31
    day = (h + m - 7 * ((a + 11 * h + 22 * m) // 451) + 114) % 31 + 1
    return dt.date(year, n, day)


def public_holidays(year: int) -> set[dt.date]:
    sunday = easter(year)
    fixed = {(1, 1), (4, 27), (5, 5), (12, 25), (12, 26)}
    moving = {
        sunday,
        sunday + dt.timedelta(1),
        sunday + dt.timedelta(39),
        sunday + dt.timedelta(50),
    }
    return {dt.date(year, m, d) for m, d in fixed} | moving


def in_school_holiday(date: dt.date) -> bool:
    md = (date.month, date.day)
    return (
        (2, 15) <= md <= (2, 23)
        or (4, 26) <= md <= (5, 4)
        or (7, 12) <= md <= (8, 24)
        or (10, 18) <= md <= (10, 26)
        or md >= (12, 20)
        or md <= (1, 4)
    )


def _exhibitions(rng: np.random.Generator, first: dt.date, last: dt.date) -> set[dt.date]:
    """Two special exhibitions a year, five to seven weeks each, at random times."""
    dates: set[dt.date] = set()
    for year in range(first.year, last.year + 1):
        for half in (0, 1):
            opening = dt.date(year, 1 + 6 * half, 1) + dt.timedelta(int(rng.integers(0, 130)))
            length = int(rng.integers(35, 50))
            dates |= {opening + dt.timedelta(i) for i in range(length)}
    return dates


def _slot_shares(venue: Venue) -> dict[str, dict[str, float]]:
    """True slot shares at base price: late-morning peak, earlier at weekends, an evening
    bump on a late-opening day."""
    shares: dict[str, dict[str, float]] = {}
    for weekday, kind in day_types(venue).items():
        if kind in shares:
            continue
        grid = venue.weekday_slots[weekday]
        weekend = weekday in ("sat", "sun")
        peak = 11.5 * 60 if weekend else 12.5 * 60
        logits = []
        for slot in grid:
            t = minutes_of(slot)
            logit = -(((t - peak) / 150.0) ** 2)
            if t >= 18 * 60:
                logit = max(logit, -1.2)
            logits.append(logit)
        weights = np.exp(np.array(logits))
        weights /= weights.sum()
        shares[kind] = dict(zip(grid, (float(w) for w in weights), strict=True))
    return shares


def _price_plan(
    spec: WorldSpec, venue: Venue, rng: np.random.Generator
) -> dict[tuple[dt.date, str], float]:
    """The price history: regimes that move prices between periods and between slots."""
    prices: dict[tuple[dt.date, str], float] = {}
    ladder = [16.0, 18.0, 20.0, 22.0, 24.0]
    weekly_draw: dict[tuple[int, str, str], float] = {}
    for offset in range(spec.days + spec.calendar_days):
        date = spec.start + dt.timedelta(offset)
        grid = entry_slots(venue, date)
        share = offset / spec.days
        weekend = date.weekday() >= 5
        for index, slot in enumerate(grid):
            central = 0.25 <= index / max(len(grid) - 1, 1) <= 0.6
            if spec.constant_price is not None:
                price = spec.constant_price
            elif share < 0.25:
                price = 18.0
            elif share < 0.5:
                price = 24.0 if weekend and central else (16.0 if index < 2 else 20.0)
            elif share < 0.75:
                week = offset // 7
                key = (week, "weekend" if weekend else "week", slot)
                if key not in weekly_draw:
                    weekly_draw[key] = float(rng.choice(ladder))
                price = weekly_draw[key]
            else:
                price = (26.0 if weekend else 22.0) if central else 14.0 + 2.0 * (index % 3)
            prices[(date, slot)] = price
    return prices


def simulate_world(spec: WorldSpec | None = None) -> DemoWorld:
    spec = spec or WorldSpec()
    rng = np.random.default_rng(spec.seed)
    toml = venue_toml(spec.slots_per_day)
    venue = parse_venue_toml(toml, source="venue.toml")
    end = spec.start + dt.timedelta(spec.days)  # first day after the history
    last = end + dt.timedelta(spec.calendar_days)
    holidays = set().union(*(public_holidays(y) for y in range(spec.start.year, last.year + 1)))
    exhibitions = _exhibitions(rng, spec.start, last)
    shares = _slot_shares(venue)
    types = day_types(venue)
    prices = _price_plan(spec, venue, rng)
    reference_slots = len(venue.weekday_slots[next(iter(types))])
    capacity = venue.slot_capacity
    # Chosen so that an ordinary week day half-fills the slots and weekend peaks sell out.
    intercept = math.log(spec.demand_scale * capacity * reference_slots)
    odds = (1 - spec.outside_share) / spec.outside_share
    b = spec.price_sensitivity
    base = venue.prices.base
    if spec.rain_effect not in ("per_mm", "log1p"):
        raise ValueError(f"rain_effect: {spec.rain_effect!r} is not 'per_mm' or 'log1p'")
    effects = {name: TRUE_EFFECTS[name] for name in _effect_names(venue, spec.rain_effect)}

    history_rows: list[dict[str, Any]] = []
    calendar_rows: list[dict[str, Any]] = []
    true_demand: dict[tuple[dt.date, str], float] = {}
    temp_noise = 0.0
    for offset in range((last - spec.start).days):
        date = spec.start + dt.timedelta(offset)
        temp_noise = 0.7 * temp_noise + rng.normal(0, 2.5)
        seasonal_temp = 11 - 7 * math.cos(2 * math.pi * (date.timetuple().tm_yday - 20) / 365.25)
        day_values = {
            "holiday": float(date in holidays),
            "school_holiday": float(in_school_holiday(date)),
            "event": float(date in exhibitions),
            "temp_c": round(seasonal_temp + temp_noise, 1),
            "precip_mm": round(float(rng.gamma(0.8, 6.0)), 1) if rng.random() < 0.45 else 0.0,
        }
        grid = entry_slots(venue, date)
        if date >= end:
            closed = int((date.month, date.day) == (12, 25))  # a calendar can close a day
            calendar_rows.append({"date": date.isoformat(), **_flags(day_values), "closed": closed})
            continue
        if not grid or rng.random() < 0.005:
            continue  # a closed day, or a day the ticketing export lost
        x = calendar_features(venue, date, spec.start) | day_values
        x["log1p_precip_mm"] = math.log1p(day_values["precip_mm"])
        market = math.exp(intercept + sum(effects[name] * x[name] for name in effects))
        realised = market * rng.gamma(1 / spec.dispersion, spec.dispersion)
        kind = types[("mon", "tue", "wed", "thu", "fri", "sat", "sun")[date.weekday()]]
        v = {s: odds * shares[kind][s] * math.exp(-b * (prices[(date, s)] - base)) for s in grid}
        denominator = 1 + sum(v.values())
        weekend = date.weekday() >= 5
        for slot in grid:
            if rng.random() < spec.gap_share:
                continue
            slot_capacity = venue.capacity_of(slot)
            members = min(int(rng.poisson(4 if weekend else 2)), slot_capacity)
            mean = realised * v[slot] / denominator
            demand = int(rng.poisson(mean))
            true_demand[(date, slot)] = market * v[slot] / denominator
            history_rows.append(
                {
                    "date": date.isoformat(),
                    "slot": slot,
                    "capacity": slot_capacity,
                    "price": f"{prices[(date, slot)]:g}",
                    "sold": min(demand, slot_capacity - members),
                    "members": members,
                    **_flags(day_values),
                }
            )
    bookings_rows = _bookings(spec, history_rows, end)
    truth = {
        "description": "see forecasting/world.py for the generating process",
        "history_start": spec.start.isoformat(),
        "history_end": (end - dt.timedelta(1)).isoformat(),
        "trend_origin": spec.start.isoformat(),
        "price_sensitivity": b,
        "outside_share_at_base": spec.outside_share,
        "dispersion": spec.dispersion,
        "intercept": intercept,
        "effects": effects,
        "slot_shares": shares,
        "constant_price": spec.constant_price,
        "mean_lead_days": spec.mean_lead_days,
        "seed": spec.seed,
    }
    return DemoWorld(
        spec, toml, venue, history_rows, calendar_rows, truth, true_demand, bookings_rows
    )


def _bookings(
    spec: WorldSpec, history_rows: list[dict[str, Any]], end: dt.date
) -> list[dict[str, Any]]:
    """When the tickets of the history's last `booking_days` were bought: rows of (visit date,
    booking date, tickets). A ticket's lead time in whole days is P(lead <= d) = 1 - exp(-(d + 1)
    / mean_lead_days), as the booking-season simulator draws them. Its own random stream, so the
    history is the same with or without it."""
    rng = np.random.default_rng([spec.seed, 2])
    first = end - dt.timedelta(spec.booking_days)
    sold: dict[str, int] = {}
    for row in history_rows:
        if dt.date.fromisoformat(row["date"]) >= first:
            sold[row["date"]] = sold.get(row["date"], 0) + int(row["sold"])
    longest = int(10 * spec.mean_lead_days)
    at_least = np.exp(-np.arange(longest + 1) / spec.mean_lead_days)  # P(lead >= d)
    chances = at_least - np.append(at_least[1:], 0.0)  # P(lead = d); the tail on the longest
    rows: list[dict[str, Any]] = []
    for date, tickets in sorted(sold.items()):
        visit = dt.date.fromisoformat(date)
        for lead, n in enumerate(rng.multinomial(tickets, chances)):
            if n:
                booked = (visit - dt.timedelta(int(lead))).isoformat()
                rows.append({"date": date, "booked_on": booked, "tickets": int(n)})
    return rows


def write_demo(out_dir: str | Path, seed: int = 7, **spec_changes: Any) -> DemoWorld:
    """Write venue.toml, history.csv, calendar.csv, bookings.csv and truth.json into out_dir."""
    world = simulate_world(WorldSpec(seed=seed, **spec_changes))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "venue.toml").write_text(world.venue_toml, encoding="utf-8")
    (out / "history.csv").write_text(world.history_csv(), encoding="utf-8")
    (out / "calendar.csv").write_text(world.calendar_csv(), encoding="utf-8")
    (out / "bookings.csv").write_text(world.bookings_csv(), encoding="utf-8")
    (out / "truth.json").write_text(json.dumps(world.truth, indent=2) + "\n", encoding="utf-8")
    return world


def _effect_names(venue: Venue, rain_effect: str) -> list[str]:
    return [
        "trend",
        *weekday_columns(venue),
        *fourier_columns(),
        "holiday",
        "school_holiday",
        "event",
        "temp_c",
        "log1p_precip_mm" if rain_effect == "log1p" else "precip_mm",
    ]


def _flags(values: dict[str, float]) -> dict[str, Any]:
    return {
        name: int(value) if name in ("holiday", "school_holiday", "event") else value
        for name, value in values.items()
    }


def _csv(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
