"""Each venue's calendar: what is known about the days ahead (public and school holidays,
exhibitions, the weather forecast, days the venue shuts), for the scenarios' forecasts.

DESIGN.md's Calendar CSV as a venue document (api/venue_documents.py), registered as
`<venue id>.calendar.csv`. Without one, a scenario assumes ordinary days and says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from api.venue_documents import VenueDocuments
from pricing.errors import NotFound, YieldgateError
from pricing.venue import Venue


@dataclass(frozen=True)
class VenueCalendar:
    csv: str
    version: str
    source: str  # "uploaded" or the file's path
    closed: tuple[str, ...]  # ISO dates the calendar shuts


def check_calendar(
    text: str, venue: Venue | None, source: str, today: dt.date | None = None
) -> dict[str, Any]:
    """Parse the whole CSV (errors name line and column); runs in a worker. A calendar is the
    same for any venue and any day; `venue` and `today` are there to match the other
    documents' check."""
    from forecasting.history import parse_calendar

    calendar = parse_calendar(text, source=source)
    dates = sorted([*calendar.days, *calendar.closed])
    return {
        "days": len(dates),
        "first_date": dates[0].isoformat() if dates else None,
        "last_date": dates[-1].isoformat() if dates else None,
        "closed": sorted(d.isoformat() for d in calendar.closed),
        "columns": list(calendar.covariate_columns),
        "warnings": calendar.warnings,
    }


class CalendarService(VenueDocuments):
    kind = "calendar"
    file_suffix = ".calendar.csv"
    check = staticmethod(check_calendar)

    def missing(self, venue: Venue) -> YieldgateError:
        return NotFound(
            f"venue {venue.id!r} has no calendar: upload one with "
            f"PUT /v1/venues/{venue.id}/calendar (text/csv)",
            field="venue",
        )

    async def resolve(self, venue: Venue) -> VenueCalendar | None:
        """The venue's calendar, or None when it has none (ordinary days are assumed)."""
        document = await self.find(venue)
        if document is None:
            return None
        closed = document.checked.get("closed")
        return VenueCalendar(
            document.csv,
            document.version,
            document.source,
            tuple(str(day) for day in closed) if isinstance(closed, list) else (),
        )
