"""The History and Calendar CSV contracts: loading, and checks that name file, line and column.

Decisions beyond DESIGN.md:
- A row for a date on which the venue file has no entry slots (a weekday without hours, or a
  closed date) is skipped with a warning, not refused: opening hours change over the years and
  old history stays true. A slot that is not on the grid of an open date is an error (a typo or
  a wrong `slot_minutes` would otherwise silently vanish).
- An empty cell in an optional column means "not known": a flag counts as 0, weather is filled
  with the history's average by the model.
- Day-level columns (holiday, event, weather...) must agree across the rows of one date.
- Missing dates and slots are gaps: nothing is invented for them.
- Given `today` (the venue's date when the file is read), a row dated after it is an error: a
  history holds days that have begun. Today's rows are taken, though they may be partial.
- A day marked `disrupted` (a strike, partial closure or outage) is read and checked like any
  other, then kept apart in `History.disrupted`: its sales are not demand, so it is not in
  `History.days`, which every fit, level and members average reads. To them it is a gap. An
  empty cell means not disrupted; the rows of one date must agree.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pricing.calendar import entry_slots, parse_date
from pricing.errors import InvalidInput
from pricing.venue import Venue

FLAG_COLUMNS = ("holiday", "school_holiday", "event")
DISRUPTED = "disrupted"
WEATHER_COLUMNS = ("temp_c", "precip_mm")
DAY_COLUMNS = FLAG_COLUMNS + WEATHER_COLUMNS
HISTORY_REQUIRED = ("date", "slot", "capacity", "price", "sold")
HISTORY_OPTIONAL = ("members", *DAY_COLUMNS, DISRUPTED)
CALENDAR_OPTIONAL = (*DAY_COLUMNS, "closed")


@dataclass(frozen=True)
class SlotSales:
    capacity: int
    price: float
    sold: int
    members: int

    @property
    def sold_out(self) -> bool:
        """Demand was at least what was sold: the slot is censored, not observed."""
        return self.sold + self.members >= self.capacity


@dataclass
class DayHistory:
    date: dt.date
    covariates: dict[str, float | None]
    slots: dict[str, SlotSales]


@dataclass
class History:
    venue: Venue
    source: str
    days: dict[dt.date, DayHistory]  # the days whose sales are demand (not disrupted)
    covariate_columns: tuple[str, ...]
    warnings: list[str] = field(default_factory=list)
    disrupted: dict[dt.date, DayHistory] = field(default_factory=dict)  # left out of fits

    @property
    def first_date(self) -> dt.date:
        return min(self.days)

    @property
    def last_date(self) -> dt.date:
        return max(self.days)

    @property
    def row_count(self) -> int:
        return sum(len(day.slots) for day in self.days.values())

    def slot_names(self) -> list[str]:
        return sorted({slot for day in self.days.values() for slot in day.slots})

    def select(self, keep: Callable[[dt.date], bool]) -> History:
        """The same history restricted to the dates `keep` accepts (for backtests)."""
        days = {date: day for date, day in self.days.items() if keep(date)}
        disrupted = {date: day for date, day in self.disrupted.items() if keep(date)}
        return History(
            self.venue, self.source, days, self.covariate_columns, list(self.warnings), disrupted
        )


@dataclass
class Calendar:
    source: str
    days: dict[dt.date, dict[str, float | None]]
    closed: set[dt.date]
    covariate_columns: tuple[str, ...]
    warnings: list[str] = field(default_factory=list)


class _Cell:
    """Reads one cell and raises an error that says where it is."""

    def __init__(self, source: str, line: int, row: dict[str, str | None]) -> None:
        self.source, self.line, self.row = source, line, row

    def fail(self, column: str, problem: str) -> InvalidInput:
        return InvalidInput(
            f"{self.source} line {self.line}, column {column}: {problem}", field=column
        )

    def text(self, column: str) -> str:
        value = (self.row.get(column) or "").strip()
        if not value:
            raise self.fail(column, "is empty")
        return value

    def optional(self, column: str) -> str | None:
        value = (self.row.get(column) or "").strip()
        return value or None

    def date(self) -> dt.date:
        try:
            return parse_date(self.text("date"))
        except InvalidInput as exc:
            raise self.fail("date", exc.detail) from None

    def count(self, column: str, *, positive: bool = False) -> int:
        value = self.text(column) if column in HISTORY_REQUIRED else self.optional(column)
        if value is None:
            return 0
        try:
            number = int(value)
        except ValueError:
            raise self.fail(column, f"{value!r} is not a whole number") from None
        if number < 0:
            raise self.fail(column, f"{number} is negative")
        if positive and number == 0:
            raise self.fail(column, "must be above 0")
        return number

    def number(self, column: str, *, required: bool = False) -> float | None:
        value = self.text(column) if required else self.optional(column)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            raise self.fail(column, f"{value!r} is not a number") from None
        if not math.isfinite(number):
            raise self.fail(column, f"{value!r} is not a finite number")
        return number

    def flag(self, column: str) -> float | None:
        value = self.optional(column)
        if value is None:
            return None
        if value not in ("0", "1"):
            raise self.fail(column, f"{value!r} is not 0 or 1")
        return float(value)

    def day_value(self, column: str) -> float | None:
        if column in FLAG_COLUMNS:
            return self.flag(column)
        value = self.number(column)
        if column == "precip_mm" and value is not None and value < 0:
            raise self.fail(column, f"{value:g} is negative")
        if column == "temp_c" and value is not None and not -70 <= value <= 70:
            raise self.fail(column, f"{value:g} is not a plausible temperature")
        return value


def _rows(
    text: str, source: str, required: tuple[str, ...], known: tuple[str, ...], warnings: list[str]
) -> tuple[list[str], Iterator[tuple[int, dict[str, str | None]]]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in (reader.fieldnames or [])]
    if not header:
        raise InvalidInput(f"{source} line 1: no header row", field="header")
    reader.fieldnames = header
    for column in required:
        if column not in header:
            raise InvalidInput(
                f"{source} line 1, column {column}: required column is missing", field=column
            )
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise InvalidInput(f"{source} line 1, column {column}: appears twice", field=column)
        seen.add(column)
    unknown = [name for name in header if name not in required and name not in known]
    if unknown:
        warnings.append(f"{source}: ignored unknown column(s) {', '.join(unknown)}")

    def numbered() -> Iterator[tuple[int, dict[str, str | None]]]:
        for row in reader:
            if None in row:
                raise InvalidInput(
                    f"{source} line {reader.line_num}: more cells than header columns",
                    field="row",
                )
            yield reader.line_num, row

    return header, numbered()


def parse_history(
    text: str, venue: Venue, *, source: str = "history.csv", today: dt.date | None = None
) -> History:
    warnings: list[str] = []
    header, rows = _rows(text, source, HISTORY_REQUIRED, HISTORY_OPTIONAL, warnings)
    day_columns = tuple(column for column in DAY_COLUMNS if column in header)
    days: dict[dt.date, DayHistory] = {}
    disrupted: dict[dt.date, float | None] = {}
    skipped_closed: dict[dt.date, int] = {}
    for line, row in rows:
        cell = _Cell(source, line, row)
        date = cell.date()
        if today is not None and date > today:
            raise cell.fail(
                "date", f"{date} is after today ({today}); a history holds days that have begun"
            )
        slot = cell.text("slot")
        grid = entry_slots(venue, date)
        if not grid:
            skipped_closed[date] = skipped_closed.get(date, 0) + 1
            continue
        if slot not in grid:
            raise cell.fail(
                "slot",
                f"{slot} is not an entry slot on {date} ({date:%A}: {grid[0]} to {grid[-1]} "
                f"every {venue.slot_minutes} minutes)",
            )
        capacity = cell.count("capacity", positive=True)
        price = cell.number("price", required=True)
        assert price is not None
        if price < 0:
            raise cell.fail("price", f"{price:g} is negative")
        sold = cell.count("sold")
        members = cell.count("members")
        if sold > capacity:
            raise cell.fail("sold", f"{sold} is above the capacity {capacity}")
        if sold + members > capacity:
            raise cell.fail(
                "members", f"sold {sold} + members {members} is above the capacity {capacity}"
            )
        covariates = {column: cell.day_value(column) for column in day_columns}
        flag = cell.flag(DISRUPTED)
        if date in disrupted and flag != disrupted[date]:
            raise cell.fail(
                DISRUPTED,
                f"{_show(flag)} differs from {_show(disrupted[date])} on an earlier row of "
                f"{date}; a day has one value",
            )
        disrupted[date] = flag
        day = days.get(date)
        if day is None:
            day = days[date] = DayHistory(date, covariates, {})
        else:
            for column, value in covariates.items():
                if value != day.covariates[column]:
                    raise cell.fail(
                        column,
                        f"{_show(value)} differs from {_show(day.covariates[column])} on an "
                        f"earlier row of {date}; a day has one value",
                    )
        if slot in day.slots:
            raise cell.fail("slot", f"{date} {slot} appears twice")
        day.slots[slot] = SlotSales(capacity, price, sold, members)
    if skipped_closed:
        first = min(skipped_closed)
        warnings.append(
            f"{source}: skipped {sum(skipped_closed.values())} row(s) on {len(skipped_closed)} "
            f"date(s) the venue file has no opening hours for (first {first})"
        )
    apart = {date: days.pop(date) for date in sorted(days) if disrupted.get(date) == 1.0}
    if apart:
        first, last = min(apart), max(apart)
        span = f"{first}" if first == last else f"{first} to {last}"
        warnings.append(
            f"{source}: {len(apart)} disrupted day(s) ({span}) left out of the fit: their "
            "sales are not demand"
        )
    if not days:
        detail = "no rows on open days" + (" that are not disrupted" if apart else "")
        raise InvalidInput(f"{source}: {detail}", field="date")
    ordered = {date: days[date] for date in sorted(days)}
    return History(venue, source, ordered, day_columns, warnings, apart)


def parse_calendar(text: str, *, source: str = "calendar.csv") -> Calendar:
    warnings: list[str] = []
    header, rows = _rows(text, source, ("date",), CALENDAR_OPTIONAL, warnings)
    day_columns = tuple(column for column in DAY_COLUMNS if column in header)
    days: dict[dt.date, dict[str, float | None]] = {}
    closed: set[dt.date] = set()
    for line, row in rows:
        cell = _Cell(source, line, row)
        date = cell.date()
        if date in days or date in closed:
            raise cell.fail("date", f"{date} appears twice")
        if "closed" in header and cell.flag("closed") == 1.0:
            closed.add(date)
            continue
        days[date] = {column: cell.day_value(column) for column in day_columns}
    return Calendar(source, days, closed, day_columns, warnings)


def _read(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror}", field="path") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: not UTF-8 text", field="path") from None


def load_history(path: str | Path, venue: Venue, *, today: dt.date | None = None) -> History:
    return parse_history(_read(path), venue, source=str(path), today=today)


def load_calendar(path: str | Path) -> Calendar:
    return parse_calendar(_read(path), source=str(path))


def _show(value: float | None) -> str:
    return "empty" if value is None else f"{value:g}"
