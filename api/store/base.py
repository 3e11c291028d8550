"""What the service needs from storage, and nothing more.

Every method is one atomic operation. Dates are ISO strings (YYYY-MM-DD), instants are ISO-8601
UTC strings, and sold counts include every ticket that uses capacity (free segments too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from pricing.errors import ServiceUnavailable


class StoreUnavailable(ServiceUnavailable):
    """The store cannot be reached or did not answer in time; nothing was written."""


@dataclass(frozen=True, slots=True)
class DayState:
    """What a quote needs from the store, fetched in one round trip."""

    sold: dict[str, int]  # slot -> tickets sold; absent slots have sold none
    plan_version: str | None  # the venue's live plan version, None before any publish


@dataclass(frozen=True, slots=True)
class SaleRequest:
    order_id: str
    venue: str
    date: str
    slot: str
    quantity: int  # tickets that use capacity
    fingerprint: str  # digest of the request body: same id + other body is a conflict
    record: bytes  # the answer to return now and to replay for the same request later


@dataclass(frozen=True, slots=True)
class SaleResult:
    # recorded: written now; replayed: same id and body seen before, nothing written;
    # conflict: same id, other body (or other venue); sold_out: it does not fit, nothing written
    outcome: Literal["recorded", "replayed", "conflict", "sold_out"]
    record: bytes | None = None  # the stored answer for recorded and replayed
    remaining: int | None = None  # tickets left in the slot, for sold_out


@dataclass(frozen=True, slots=True)
class CancelResult:
    # cancelled: tickets released now; already_cancelled: released before, nothing done now
    outcome: Literal["cancelled", "already_cancelled", "not_found"]
    venue: str | None = None
    date: str | None = None
    slot: str | None = None
    quantity: int = 0
    cancelled_at: str | None = None


@dataclass(frozen=True, slots=True)
class PlanMeta:
    version: str
    published_at: str
    published_by: str


@dataclass(frozen=True, slots=True)
class PublishResult:
    # published: now live; unchanged: this version with this body already exists (made live
    # again); version_conflict: this version exists with another body, nothing written;
    # skipped: only_if_none or only_if_current was asked and the live plan is not that
    outcome: Literal["published", "unchanged", "version_conflict", "skipped"]
    previous: str | None = None  # the version that was live before


@dataclass(frozen=True, slots=True)
class RollbackResult:
    outcome: Literal["rolled_back", "not_found"]
    previous: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: str
    action: str  # publish | rollback
    version: str
    previous: str | None
    actor: str
    at: str
    details: dict[str, object] = field(default_factory=dict)


# The CSV files a venue uploads for its forecasts: its sales history and its calendar.
DocumentKind = Literal["history", "calendar"]


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A venue's uploaded CSV (history or calendar) and what was learnt checking it."""

    body: bytes
    meta: dict[str, object]


@dataclass(frozen=True, slots=True)
class StoredScenario:
    venue: str
    record: bytes  # the scenario's JSON: inputs, status, progress and result


class Store(Protocol):
    async def start(self) -> None:
        """Begin any background work (the Redis store follows change notices)."""

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers."""

    async def day_state(self, venue: str, date: str) -> DayState: ...

    async def sold_counts(self, venue: str, date: str) -> dict[str, int]: ...

    async def set_sold(self, venue: str, date: str, sold: dict[str, int]) -> None:
        """Replace the whole day's sold counts (reconciliation with the ticketing system)."""

    async def record_sale(self, sale: SaleRequest, capacity: int) -> SaleResult:
        """Record a sale if the order id is new and sold + quantity <= capacity, atomically."""

    async def replayed_sale(self, venue: str, order_id: str, fingerprint: str) -> bytes | None:
        """The stored answer of an order recorded before with this same fingerprint, else None.

        Lets a retry be answered after its quote token has expired.
        """

    async def cancel_sale(self, order_id: str, at: str) -> CancelResult:
        """Release an order's tickets exactly once."""

    async def publish_plan(
        self,
        venue: str,
        version: str,
        body: bytes,
        actor: str,
        at: str,
        details: dict[str, object],
        *,
        only_if_none: bool = False,
        only_if_current: str | None = None,
    ) -> PublishResult:
        """Store a plan and make it live in one atomic swap; audited.

        `only_if_none` / `only_if_current`: skip unless no plan, or that version, is live (so a
        plan derived from the live one never overwrites a publish made in between).
        """

    async def current_version(self, venue: str) -> str | None: ...

    async def plan_body(self, venue: str, version: str) -> bytes | None: ...

    async def list_plans(self, venue: str) -> list[PlanMeta]:
        """Every version ever published, newest first."""

    async def rollback(self, venue: str, version: str, actor: str, at: str) -> RollbackResult:
        """Make an earlier version live again in one atomic swap; audited."""

    async def audit(self, venue: str, limit: int = 100) -> list[AuditEntry]:
        """Publishes and rollbacks, newest first."""

    async def put_document(
        self, venue: str, kind: DocumentKind, body: bytes, meta: dict[str, object]
    ) -> None:
        """Replace the venue's CSV of this kind and its metadata together, in one write."""

    async def document(self, venue: str, kind: DocumentKind) -> StoredDocument | None: ...

    async def save_scenario(self, venue: str, scenario_id: str, record: bytes) -> None:
        """Create or replace a scenario's record; a new id goes first in the venue's list."""

    async def scenario(self, scenario_id: str) -> StoredScenario | None: ...

    async def list_scenarios(self, venue: str, limit: int = 100) -> list[bytes]:
        """The venue's scenario records, newest first."""

    async def close(self) -> None: ...
