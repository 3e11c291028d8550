"""Opening hours to entry slots per date, in the venue's own time zone."""

from __future__ import annotations

import datetime as dt
import re

from pricing.errors import InvalidInput
from pricing.venue import WEEKDAYS, Venue

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
