"""Each venue's calendar: what is known about the days ahead (public and school holidays,
exhibitions, the weather forecast, days the venue shuts), for the scenarios' forecasts.

DESIGN.md's Calendar CSV as a venue document (api/venue_documents.py), registered as
`<venue id>.calendar.csv`. Without one, a scenario assumes ordinary days and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.clock import Clock
from api.cpu_work import CpuWork
from api.store import Store
from api.venue_documents import VenueDocuments
from api.venues import VenueRegistry
from pricing.errors import NotFound
from pricing.venue import Venue


@dataclass(frozen=True)
class VenueCalendar:
    csv: str
    version: str
    source: str  # "uploaded" or the file's path
    closed: tuple[str, ...]  # ISO dates the calendar shuts


def check_calendar(text: str, venue: Venue | None, source: str) -> dict[str, Any]:
    """Parse the whole CSV (errors name line and column); runs in a worker. A calendar is the
    same for any venue; `venue` is there to match the other documents' check."""
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


class CalendarService:
    def __init__(
        self,
        venues: VenueRegistry,
        store: Store,
        clock: Clock,
        cpu: CpuWork,
        directory: Path | None,
    ) -> None:
        self._venues = venues
        self._documents = VenueDocuments(
            "calendar", check_calendar, ".calendar.csv", venues, store, clock, cpu, directory
        )

    async def upload(
        self, venue_id: str, body: bytes, content_type: str | None, actor: str
    ) -> dict[str, Any]:
        return await self._documents.upload(venue_id, body, content_type, actor)

    async def describe(self, venue_id: str) -> dict[str, Any]:
        venue = self._venues.get(venue_id)
        document = await self._documents.find(venue)
        if document is None:
            raise NotFound(
                f"venue {venue.id!r} has no calendar: upload one with "
                f"PUT /v1/venues/{venue.id}/calendar (text/csv)",
                field="venue",
            )
        return self._documents.describe(venue, document)

    async def resolve(self, venue: Venue) -> VenueCalendar | None:
        """The venue's calendar, or None when it has none (ordinary days are assumed)."""
        document = await self._documents.find(venue)
        if document is None:
            return None
        closed = document.checked.get("closed")
        return VenueCalendar(
            document.csv,
            document.version,
            document.source,
            tuple(str(day) for day in closed) if isinstance(closed, list) else (),
        )
