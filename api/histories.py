"""Each venue's sales history, which scenarios forecast from.

A history is uploaded (`PUT /v1/venues/{venue}/history`, kept in the store) or registered as
`<venue id>.csv` in the settings' history directory; an upload takes precedence. An upload is
checked in full before it is stored, so a bad file never replaces a good one. A history's
version is a digest of its bytes: fitted models are cached by it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.clock import Clock, iso_utc
from api.cpu_work import CpuWork
from api.store import Store
from api.venues import VenueRegistry
from pricing.errors import (
    Conflict,
    InvalidInput,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from pricing.venue import Venue

MAX_HISTORY_BYTES = 64 * 1024 * 1024
CSV_MEDIA_TYPES = ("text/csv", "text/plain")


@dataclass(frozen=True)
class VenueHistory:
    csv: str
    version: str
    first_date: dt.date
    last_date: dt.date
    source: str  # "uploaded" or the file's path


def history_version(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:16]


def decode_csv(body: bytes, source: str) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{source}: not UTF-8 text (byte {exc.start})", field="body") from None


def uploaded_csv(body: bytes, content_type: str | None, what: str) -> str:
    """The text of an uploaded CSV (the history or the calendar), or why it is refused."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in CSV_MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"send the {what} as text/csv, not {media_type or 'no content type'}",
            field="content-type",
        )
    if len(body) > MAX_HISTORY_BYTES:
        raise PayloadTooLarge(
            f"the {what} is {len(body)} bytes; at most {MAX_HISTORY_BYTES} are accepted",
            field="body",
        )
    return decode_csv(body, "body")


def check_history(text: str, venue: Venue, source: str) -> dict[str, Any]:
    """Parse the whole CSV (errors name line and column); runs in a worker thread."""
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
        self._store = store
        self._clock = clock
        self._cpu = cpu
        self._dir = history_dir
        self._checked_files: dict[tuple[str, str], dict[str, Any]] = {}

    async def upload(
        self, venue_id: str, body: bytes, content_type: str | None, actor: str
    ) -> dict[str, Any]:
        venue = self._venues.get(venue_id)
        text = uploaded_csv(body, content_type, "history")
        checked = await self._cpu.run(check_history, text, venue, "body")
        meta: dict[str, Any] = {
            "version": history_version(body),
            **checked,
            "uploaded_at": iso_utc(self._clock()),
            "uploaded_by": actor,
        }
        await self._store.put_document(venue.id, "history", body, meta)
        return {"venue": venue.id, "source": "uploaded", **meta}

    async def describe(self, venue_id: str) -> dict[str, Any]:
        venue = self._venues.get(venue_id)
        stored = await self._store.document(venue.id, "history")
        if stored is not None:
            return {"venue": venue.id, "source": "uploaded", **stored.meta}
        history = await self.resolve(venue)
        checked = self._checked_files[(history.source, history.version)]
        return {"venue": venue.id, "source": history.source, "version": history.version, **checked}

    async def resolve(self, venue: Venue) -> VenueHistory:
        """The venue's history to forecast from; 409 when it has none."""
        stored = await self._store.document(venue.id, "history")
        if stored is not None:
            return VenueHistory(
                stored.body.decode("utf-8-sig"),
                str(stored.meta["version"]),
                dt.date.fromisoformat(str(stored.meta["first_date"])),
                dt.date.fromisoformat(str(stored.meta["last_date"])),
                "uploaded",
            )
        path = self._dir / f"{venue.id}.csv" if self._dir is not None else None
        if path is None or not path.is_file():
            raise Conflict(
                f"venue {venue.id!r} has no sales history to forecast from: upload one with "
                f"PUT /v1/venues/{venue.id}/history (text/csv)"
                + (f" or put {venue.id}.csv in {self._dir}" if self._dir is not None else ""),
                field="venue",
            )
        body = await self._cpu.run(path.read_bytes)
        version = history_version(body)
        text = decode_csv(body, str(path))
        key = (str(path), version)
        if key not in self._checked_files:
            try:
                self._checked_files[key] = await self._cpu.run(
                    check_history, text, venue, str(path)
                )
            except InvalidInput as exc:
                raise Conflict(
                    f"the registered history is not valid: {exc.detail}", field="history"
                ) from None
        checked = self._checked_files[key]
        return VenueHistory(
            text,
            version,
            dt.date.fromisoformat(checked["first_date"]),
            dt.date.fromisoformat(checked["last_date"]),
            str(path),
        )
