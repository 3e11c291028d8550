"""Forecast JSON (the DESIGN contract) and the sold-counts CSV, read and checked field by field.

The optimizer reads the forecaster's file, not its code: these are our own types for the
contract, and every error names the field at fault (`days.3.slots.2.weights: 7 values for 8
price points`). One addition the contract may grow: an optional per-slot `members` (expected
free member visits, which use capacity); absent means none.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pricing.calendar import parse_date
from pricing.errors import InvalidInput

_CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


@dataclass(frozen=True)
class ForecastSlot:
    slot: str
    weights: tuple[float, ...]  # one MNL weight per price point
    expected: float | None = None
    members: float = 0.0


@dataclass(frozen=True)
class ForecastDay:
    date: dt.date
    arrivals: float  # A_d: the day's potential buyers
    slots: tuple[ForecastSlot, ...]


@dataclass(frozen=True)
class Forecast:
    venue: str
    price_points: tuple[float, ...]
    days: tuple[ForecastDay, ...]
    created_at: str | None = None
    model: str | None = None


def _fail(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", field=field)


def _object(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _fail(field, "expected an object")
    return value


def _list(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(field, "expected a list")
    return value


def _number(value: Any, field: str, *, minimum: float = 0.0) -> float:
    # bool is an int in Python, but `true` is no number of visitors
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(field, f"expected a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < minimum:
        raise _fail(field, f"{value!r} is not a finite number >= {minimum:g}")
    return number


def _optional_number(data: Mapping[str, Any], key: str, field: str) -> float | None:
    return None if data.get(key) is None else _number(data[key], f"{field}.{key}")


def _required(data: Mapping[str, Any], key: str, field: str) -> Any:
    if key not in data:
        raise _fail(f"{field}.{key}" if field else key, "missing")
    return data[key]


def parse_forecast(data: Any) -> Forecast:
    """Check decoded Forecast JSON against the contract; the first problem names its field."""
    root = _object(data, "forecast")
    venue = _required(root, "venue", "")
    if not isinstance(venue, str) or not venue:
        raise _fail("venue", "expected the venue id")
    points = _list(_required(root, "price_points", ""), "price_points")
    if not points:
        raise _fail("price_points", "at least one price point is needed")
    prices = tuple(_number(p, f"price_points.{i}") for i, p in enumerate(points))
    for i in range(1, len(prices)):
        if prices[i] <= prices[i - 1]:
            raise _fail(f"price_points.{i}", "price points must be strictly ascending")
    days: list[ForecastDay] = []
    seen: set[dt.date] = set()
    for d, raw_day in enumerate(_list(_required(root, "days", ""), "days")):
        day = _parse_day(raw_day, f"days.{d}", len(prices))
        if day.date in seen:
            raise _fail(f"days.{d}.date", f"{day.date} appears twice")
        seen.add(day.date)
        days.append(day)
    created_at, model = root.get("created_at"), root.get("model")
    return Forecast(
        venue=venue,
        price_points=prices,
        days=tuple(days),
        created_at=created_at if isinstance(created_at, str) else None,
        model=model if isinstance(model, str) else None,
    )


def _parse_day(raw: Any, field: str, n_prices: int) -> ForecastDay:
    data = _object(raw, field)
    date_text = _required(data, "date", field)
    if not isinstance(date_text, str):
        raise _fail(f"{field}.date", "expected a date (YYYY-MM-DD)")
    try:
        date = parse_date(date_text, field=f"{field}.date")
    except InvalidInput as exc:
        raise _fail(f"{field}.date", exc.detail) from None
    arrivals = _number(_required(data, "arrivals", field), f"{field}.arrivals")
    slots: list[ForecastSlot] = []
    seen: set[str] = set()
    for s, raw_slot in enumerate(_list(_required(data, "slots", field), f"{field}.slots")):
        slot = _parse_slot(raw_slot, f"{field}.slots.{s}", n_prices)
        if slot.slot in seen:
            raise _fail(f"{field}.slots.{s}.slot", f"{slot.slot} appears twice on {date}")
        seen.add(slot.slot)
        slots.append(slot)
    return ForecastDay(date, arrivals, tuple(slots))


def _parse_slot(raw: Any, field: str, n_prices: int) -> ForecastSlot:
    data = _object(raw, field)
    clock = _required(data, "slot", field)
    if not isinstance(clock, str) or not _CLOCK.fullmatch(clock):
        raise _fail(f"{field}.slot", f"{clock!r} is not an entry time (HH:MM)")
    raw_weights = _list(_required(data, "weights", field), f"{field}.weights")
    if len(raw_weights) != n_prices:
        raise _fail(f"{field}.weights", f"{len(raw_weights)} values for {n_prices} price points")
    weights = tuple(_number(w, f"{field}.weights.{k}") for k, w in enumerate(raw_weights))
    members = _optional_number(data, "members", field)
    return ForecastSlot(
        slot=clock,
        weights=weights,
        expected=_optional_number(data, "expected", field),
        members=members or 0.0,
    )


def load_forecast(text: str, *, source: str = "forecast") -> Forecast:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{source}: not valid JSON: {exc}") from None
    try:
        return parse_forecast(data)
    except InvalidInput as exc:
        raise InvalidInput(f"{source}: {exc.detail}", field=exc.field) from None


SoldCounts = dict[tuple[dt.date, str], int]


def parse_sold_csv(text: str, *, source: str = "sold") -> SoldCounts:
    """`date,slot,sold` rows: tickets already sold per slot. Errors name the line and column."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"date", "slot", "sold"} - set(reader.fieldnames or ())
    if missing:
        raise InvalidInput(f"{source}: missing column(s) {', '.join(sorted(missing))}")
    counts: SoldCounts = {}
    for line, row in enumerate(reader, start=2):
        where = f"{source} line {line}"
        try:
            date = parse_date((row["date"] or "").strip(), field="date")
        except InvalidInput as exc:
            raise InvalidInput(f"{where}: date: {exc.detail}", field="date") from None
        slot = (row["slot"] or "").strip()
        if not _CLOCK.fullmatch(slot):
            raise InvalidInput(f"{where}: slot: {slot!r} is not HH:MM", field="slot")
        text_sold = (row["sold"] or "").strip()
        if not (text_sold.isascii() and text_sold.isdigit()):
            raise InvalidInput(
                f"{where}: sold: {text_sold!r} is not a whole number >= 0", field="sold"
            )
        if (date, slot) in counts:
            raise InvalidInput(f"{where}: {date} {slot} appears twice", field="slot")
        counts[(date, slot)] = int(text_sold)
    return counts
