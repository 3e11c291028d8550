"""A venue's CSV documents for its forecasts: the sales history and the calendar.

Each is uploaded (`PUT /v1/venues/{venue}/<kind>`, kept in the store) or registered as a file in
the settings' history directory; an upload takes precedence. An upload is checked in full
before it is stored, so a bad file never replaces a good one. A document's version is a digest
of its bytes (fitted models are cached by the history's).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from api.clock import Clock, iso_utc
from api.cpu_work import CpuWork
from api.store import DocumentKind, Store
from api.venues import VenueRegistry
from pricing.calendar import local_now
from pricing.errors import Conflict, InvalidInput, UnsupportedMediaType, YieldgateError
from pricing.venue import Venue

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
CSV_MEDIA_TYPES = ("text/csv", "text/plain")


@dataclass(frozen=True)
class VenueDocument:
    csv: str
    version: str
    source: str  # "uploaded" or the file's path
    checked: Mapping[str, Any]  # what checking it found (and, uploaded, who and when)


def document_version(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:16]


def decode_csv(body: bytes, source: str) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{source}: not UTF-8 text (byte {exc.start})", field="body") from None


def uploaded_csv(body: bytes, content_type: str | None, what: str) -> str:
    """The text of an uploaded CSV, or why it is refused. (The size cap, MAX_UPLOAD_BYTES, is
    enforced while the body streams in: api/request_guard.py.)"""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in CSV_MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"send the {what} as text/csv, not {media_type or 'no content type'}",
            field="content-type",
        )
    return decode_csv(body, "body")


class VenueDocuments:
    """One kind of document for every venue: uploads, and the uploaded or registered one.
    Subclasses say which kind, how it is checked, and what its absence means."""

    kind: ClassVar[DocumentKind]
    file_suffix: ClassVar[str]  # the registered file is <venue id><file_suffix>

    @staticmethod
    def check(text: str, venue: Venue, source: str, today: dt.date) -> dict[str, Any]:
        """What checking the whole file found; InvalidInput naming line and column. `today`
        is the venue's date (a history has no rows after it). Runs in a worker, so it must be
        a module-level function."""
        raise NotImplementedError

    def missing(self, venue: Venue) -> YieldgateError:
        """What describing a venue without the document answers."""
        raise NotImplementedError

    def __init__(
        self,
        venues: VenueRegistry,
        store: Store,
        clock: Clock,
        cpu: CpuWork,
        directory: Path | None,
    ) -> None:
        self.directory = directory
        self._venues = venues
        self._store = store
        self._clock = clock
        self._cpu = cpu
        self._checked_files: dict[tuple[str, str], dict[str, Any]] = {}

    async def upload(
        self, venue_id: str, body: bytes, content_type: str | None, actor: str
    ) -> dict[str, Any]:
        venue = self._venues.get(venue_id)
        text = uploaded_csv(body, content_type, self.kind)
        checked = await self._cpu.run(self.check, text, venue, "body", self._today(venue))
        meta: dict[str, Any] = {
            "version": document_version(body),
            **checked,
            "uploaded_at": iso_utc(self._clock()),
            "uploaded_by": actor,
        }
        await self._store.put_document(venue.id, self.kind, body, meta)
        return {"venue": venue.id, "source": "uploaded", **meta}

    async def describe(self, venue_id: str) -> dict[str, Any]:
        venue = self._venues.get(venue_id)
        document = await self.find(venue)
        if document is None:
            raise self.missing(venue)
        return {
            "venue": venue.id,
            "source": document.source,
            "version": document.version,
            **document.checked,
        }

    async def find(self, venue: Venue) -> VenueDocument | None:
        """The uploaded document, else the registered file's, else None. A registered file
        that is not valid is a 409 naming the kind."""
        stored = await self._store.document(venue.id, self.kind)
        if stored is not None:
            meta = stored.meta
            return VenueDocument(
                stored.body.decode("utf-8-sig"), str(meta["version"]), "uploaded", meta
            )
        path = self.directory / f"{venue.id}{self.file_suffix}" if self.directory else None
        if path is None or not path.is_file():
            return None
        body = await self._cpu.run(path.read_bytes)
        version = document_version(body)
        text = decode_csv(body, str(path))
        key = (str(path), version)
        if key not in self._checked_files:
            try:
                self._checked_files[key] = await self._cpu.run(
                    self.check, text, venue, str(path), self._today(venue)
                )
            except InvalidInput as exc:
                raise Conflict(
                    f"the registered {self.kind} is not valid: {exc.detail}", field=self.kind
                ) from None
        return VenueDocument(text, version, str(path), self._checked_files[key])

    def _today(self, venue: Venue) -> dt.date:
        return local_now(venue, self._clock()).date()
