"""The market-size covariates x_d and the slot-appeal day types, shared by the model and the demo
world so that the world's truth and the fitted coefficients mean the same thing."""

from __future__ import annotations

import datetime as dt
import math

from pricing.calendar import entry_slots
from pricing.venue import WEEKDAYS, Venue

FOURIER_ORDER = 3
SLOT_SEASON_ORDER = 2  # yearly harmonics of each slot's appeal: the hour profile follows daylight
DAYS_PER_YEAR = 365.25


def weekday_columns(venue: Venue) -> list[str]:
    """One dummy per open weekday except the first, which is the reference level."""
    open_days = [day for day in WEEKDAYS if day in venue.hours]
    return [f"weekday_{day}" for day in open_days[1:]]


def fourier_columns() -> list[str]:
    return [f"annual_{kind}_{k}" for k in range(1, FOURIER_ORDER + 1) for kind in ("sin", "cos")]


def year_fraction(date: dt.date) -> float:
    start = dt.date(date.year, 1, 1)
    length = (dt.date(date.year + 1, 1, 1) - start).days
    return (date - start).days / length


def slot_season_row(date: dt.date) -> list[float]:
    """The yearly Fourier terms that move a slot's appeal through the year (sin, cos per order)."""
    angle = 2 * math.pi * year_fraction(date)
    return [f(k * angle) for k in range(1, SLOT_SEASON_ORDER + 1) for f in (math.sin, math.cos)]


def calendar_features(venue: Venue, date: dt.date, origin: dt.date) -> dict[str, float]:
    """Trend (years since origin), weekday dummies and annual Fourier terms of one date."""
    values = {"trend": (date - origin).days / DAYS_PER_YEAR}
    weekday = WEEKDAYS[date.weekday()]
    for column in weekday_columns(venue):
        values[column] = 1.0 if column == f"weekday_{weekday}" else 0.0
    angle = 2 * math.pi * year_fraction(date)
    for k in range(1, FOURIER_ORDER + 1):
        values[f"annual_sin_{k}"] = math.sin(k * angle)
        values[f"annual_cos_{k}"] = math.cos(k * angle)
    return values


def day_types(venue: Venue) -> dict[str, str]:
    """Weekday -> day type. Weekdays share slot appeals when they share a slot grid and are all
    weekend or all week days; the type is named after its weekdays ("tue+wed+thu")."""
    groups: dict[tuple[bool, tuple[str, ...]], list[str]] = {}
    for day in WEEKDAYS:
        if day in venue.hours:
            key = (day in ("sat", "sun"), venue.weekday_slots[day])
            groups.setdefault(key, []).append(day)
    return {day: "+".join(days) for days in groups.values() for day in days}


def day_type_of(venue: Venue, date: dt.date) -> str | None:
    if not entry_slots(venue, date):
        return None
    return day_types(venue)[WEEKDAYS[date.weekday()]]
