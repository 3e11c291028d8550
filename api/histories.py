"""Each venue's sales history, which scenarios forecast from (a venue document:
api/venue_documents.py; registered as `<venue id>.csv`). Without one, a scenario is a 409."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from api.venue_documents import VenueDocuments
from pricing.errors import Conflict, YieldgateError
from pricing.venue import Venue


@dataclass(frozen=True)
class VenueHistory:
    csv: str
    version: str
    first_date: dt.date
    last_date: dt.date
    source: str  # "uploaded" or the file's path


def check_history(
    text: str, venue: Venue, source: str, today: dt.date | None = None
) -> dict[str, Any]:
    """Parse the whole CSV (errors name line and column; a row after `today`, the venue's
    date, is one); runs in a worker."""
    from forecasting.history import parse_history

    history = parse_history(text, venue, source=source, today=today)
    return {
        "rows": history.row_count,
        "days": len(history.days),
        "first_date": history.first_date.isoformat(),
        "last_date": history.last_date.isoformat(),
        "warnings": history.warnings,
    }


class HistoryService(VenueDocuments):
    kind = "history"
    file_suffix = ".csv"
    check = staticmethod(check_history)

    def missing(self, venue: Venue) -> YieldgateError:
        where = f" or put {venue.id}.csv in {self.directory}" if self.directory else ""
        return Conflict(
            f"venue {venue.id!r} has no sales history to forecast from: upload one with "
            f"PUT /v1/venues/{venue.id}/history (text/csv){where}",
            field="venue",
        )

    async def resolve(self, venue: Venue) -> VenueHistory:
        """The venue's history to forecast from; 409 when it has none."""
        document = await self.find(venue)
        if document is None:
            raise self.missing(venue)
        return VenueHistory(
            document.csv,
            document.version,
            dt.date.fromisoformat(str(document.checked["first_date"])),
            dt.date.fromisoformat(str(document.checked["last_date"])),
            document.source,
        )
