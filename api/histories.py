"""Each venue's sales history, which scenarios forecast from (a venue document:
api/venue_documents.py; registered as `<venue id>.csv`). Without one, a scenario is a 409."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.clock import Clock
from api.cpu_work import CpuWork
from api.store import Store
from api.venue_documents import VenueDocument, VenueDocuments
from api.venues import VenueRegistry
from pricing.errors import Conflict
from pricing.venue import Venue


@dataclass(frozen=True)
class VenueHistory:
    csv: str
    version: str
    first_date: dt.date
    last_date: dt.date
    source: str  # "uploaded" or the file's path


def check_history(text: str, venue: Venue, source: str) -> dict[str, Any]:
    """Parse the whole CSV (errors name line and column); runs in a worker."""
    from forecasting.history import parse_history

    history = parse_history(text, venue, source=source)
    return {
        "rows": history.row_count,
        "days": len(history.days),
        "first_date": history.first_date.isoformat(),
        "last_date": history.last_date.isoformat(),
        "warnings": history.warnings,
    }


class HistoryService:
    def __init__(
        self,
        venues: VenueRegistry,
        store: Store,
        clock: Clock,
        cpu: CpuWork,
        history_dir: Path | None,
    ) -> None:
        self._venues = venues
        self._documents = VenueDocuments(
            "history", check_history, ".csv", venues, store, clock, cpu, history_dir
        )

    async def upload(
        self, venue_id: str, body: bytes, content_type: str | None, actor: str
    ) -> dict[str, Any]:
        return await self._documents.upload(venue_id, body, content_type, actor)

    async def describe(self, venue_id: str) -> dict[str, Any]:
        venue = self._venues.get(venue_id)
        return self._documents.describe(venue, await self._find(venue))

    async def resolve(self, venue: Venue) -> VenueHistory:
        """The venue's history to forecast from; 409 when it has none."""
        document = await self._find(venue)
        return VenueHistory(
            document.csv,
            document.version,
            dt.date.fromisoformat(str(document.checked["first_date"])),
            dt.date.fromisoformat(str(document.checked["last_date"])),
            document.source,
        )

    async def _find(self, venue: Venue) -> VenueDocument:
        document = await self._documents.find(venue)
        if document is None:
            directory = self._documents.directory
            raise Conflict(
                f"venue {venue.id!r} has no sales history to forecast from: upload one with "
                f"PUT /v1/venues/{venue.id}/history (text/csv)"
                + (f" or put {venue.id}.csv in {directory}" if directory is not None else ""),
                field="venue",
            )
        return document
