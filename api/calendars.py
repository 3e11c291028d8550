"""Each venue's calendar: what is known about the days ahead (public and school holidays,
exhibitions, the weather forecast, days the venue shuts), for the scenarios' forecasts.

The Calendar CSV of DESIGN.md, uploaded (`PUT /v1/venues/{venue}/calendar`, kept in the store)
or registered as `<venue id>.calendar.csv` in the settings' history directory; an upload takes
precedence. It is checked in full before it is stored, so a bad file never replaces a good one.
Without one, a scenario assumes ordinary days and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.clock import Clock, iso_utc
from api.cpu_work import CpuWork
from api.histories import decode_csv, history_version, uploaded_csv
from api.store import Store
from api.venues import VenueRegistry
from pricing.errors import Conflict, InvalidInput, NotFound


@dataclass(frozen=True)
class VenueCalendar:
    csv: str
    version: str
    source: str  # "uploaded" or the file's path
    closed: tuple[str, ...]  # ISO dates the calendar shuts


def check_calendar(text: str, source: str) -> dict[str, Any]:
    """Parse the whole CSV (errors name line and column); runs in a worker."""
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
        self._store = store
        self._clock = clock
        self._cpu = cpu
        self._dir = directory
        self._checked_files: dict[tuple[str, str], dict[str, Any]] = {}

    async def upload(
        self, venue_id: str, body: bytes, content_type: str | None, actor: str
    ) -> dict[str, Any]:
        venue = self._venues.get(venue_id)
        text = uploaded_csv(body, content_type, "calendar")
        checked = await self._cpu.run(check_calendar, text, "body")
        meta: dict[str, Any] = {
            "version": history_version(body),
            **checked,
            "uploaded_at": iso_utc(self._clock()),
            "uploaded_by": actor,
        }
        await self._store.put_document(venue.id, "calendar", body, meta)
        return {"venue": venue.id, "source": "uploaded", **meta}

    async def describe(self, venue_id: str) -> dict[str, Any]:
        venue = self._venues.get(venue_id)
        stored = await self._store.document(venue.id, "calendar")
        if stored is not None:
            return {"venue": venue.id, "source": "uploaded", **stored.meta}
        calendar = await self.resolve(venue.id)
        if calendar is None:
            raise NotFound(
                f"venue {venue.id!r} has no calendar: upload one with "
                f"PUT /v1/venues/{venue.id}/calendar (text/csv)",
                field="venue",
            )
        checked = self._checked_files[(calendar.source, calendar.version)]
        return {
            "venue": venue.id,
            "source": calendar.source,
            "version": calendar.version,
            **checked,
        }

    async def resolve(self, venue_id: str) -> VenueCalendar | None:
        """The venue's calendar, or None when it has none (ordinary days are assumed)."""
        stored = await self._store.document(venue_id, "calendar")
        if stored is not None:
            closed = stored.meta.get("closed")
            return VenueCalendar(
                stored.body.decode("utf-8-sig"),
                str(stored.meta["version"]),
                "uploaded",
                tuple(str(day) for day in closed) if isinstance(closed, list) else (),
            )
        path = self._dir / f"{venue_id}.calendar.csv" if self._dir is not None else None
        if path is None or not path.is_file():
            return None
        body = await self._cpu.run(path.read_bytes)
        version = history_version(body)
        text = decode_csv(body, str(path))
        key = (str(path), version)
        if key not in self._checked_files:
            try:
                self._checked_files[key] = await self._cpu.run(check_calendar, text, str(path))
            except InvalidInput as exc:
                raise Conflict(
                    f"the registered calendar is not valid: {exc.detail}", field="calendar"
                ) from None
        return VenueCalendar(text, version, str(path), tuple(self._checked_files[key]["closed"]))
