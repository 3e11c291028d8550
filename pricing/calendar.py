"""Opening hours to entry slots per date, in the venue's own time zone, and the calendar rules of
a sale: which dates and entry slots are still on sale at a given instant."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from pricing.errors import InvalidInput, NotFound
from pricing.venue import WEEKDAYS, Venue, minutes_of

# fromisoformat alone also takes "2027-W01-2" and "20270105  " (ten characters, not YYYY-MM-DD)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def entry_slots(venue: Venue, date: dt.date) -> tuple[str, ...]:
    """Entry times of a date: from opening, every slot_minutes, the last one a slot before closing.

    A weekday without hours, or a date in `closed_dates`, has none.
    """
    if date in venue.closed_dates:
        return ()
    return venue.weekday_slots.get(WEEKDAYS[date.weekday()], ())


def local_now(venue: Venue, now: dt.datetime) -> dt.datetime:
    """An aware instant seen on the venue's wall clock."""
    return now.astimezone(venue.zone)


def slot_start(venue: Venue, date: dt.date, slot: str) -> dt.datetime:
    """The aware instant a slot opens (wall-clock time in the venue's zone)."""
    return dt.datetime.combine(date, dt.time(int(slot[:2]), int(slot[3:5])), tzinfo=venue.zone)


def parse_date(text: str, *, field: str = "date") -> dt.date:
    """A strict YYYY-MM-DD date, or an InvalidInput naming the field."""
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date (YYYY-MM-DD)", field=field) from None


@dataclass(frozen=True, slots=True)
class SaleDay:
    """A date checked against the venue's calendar and clock."""

    date: dt.date
    from_minute: int  # the earliest entry minute still on sale that day (0 for a future date)


def sale_day(venue: Venue, text: str, now: dt.datetime) -> SaleDay:
    """Refuse a malformed or past date (422) or a closed day (404)."""
    date = parse_date(text)
    local = local_now(venue, now)
    today = local.date()
    if date < today:
        raise InvalidInput(f"{date} is in the past at {venue.display_name()}", field="date")
    if not entry_slots(venue, date):
        raise NotFound(f"{venue.display_name()} is closed on {date}", field="date")
    # An entry slot stays on sale until it ends, so a visitor can still come in late.
    from_minute = 0 if date > today else local.hour * 60 + local.minute - venue.slot_minutes + 1
    return SaleDay(date, from_minute)


def check_slot(venue: Venue, day: SaleDay, slot: str) -> None:
    if slot not in entry_slots(venue, day.date):
        raise NotFound(f"{slot} is not an entry slot on {day.date}", field="slot")
    if minutes_of(slot) < day.from_minute:
        raise InvalidInput(f"the {slot} entry slot on {day.date} is over", field="slot")
