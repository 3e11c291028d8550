"""What the service needs from storage, and nothing more.

Every method is one atomic operation. Dates are ISO strings (YYYY-MM-DD), instants are ISO-8601
UTC strings, and sold counts include every ticket that uses capacity (free segments too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from pricing.errors import ServiceUnavailable


class StoreUnavailable(ServiceUnavailable):
    """The store cannot be reached or did not answer in time; nothing was written."""


class StoreLost(StoreUnavailable):
    """The store answers but no longer holds what it held (a Redis that restarted empty)."""


# The live plan's capacity per date and slot, as the sale path checks it: date -> slot -> seats.
Capacities = Mapping[str, Mapping[str, int]]


@dataclass(frozen=True, slots=True)
class DayState:
    """What a quote needs from the store, fetched in one round trip."""

    sold: dict[str, int]  # slot -> tickets sold; absent slots have sold none
    plan_version: str | None  # the venue's live plan version, None before any publish
    # True when the venue's data vanished since this store first saw it (see `lost_venues`):
    # `sold` and `plan_version` then describe an empty store, not the venue's sales.
    lost: bool = False


@dataclass(frozen=True, slots=True)
class SaleRequest:
    order_id: str
    venue: str
    date: str
    slot: str
    quantity: int  # tickets that use capacity
    fingerprint: str  # digest of the request body: same id + other body is a conflict
    record: bytes  # the answer to return now and to replay for the same request later
    quote_id: str  # the quote this sale honours: it pays for one order only
    quote_expires_at: int  # unix seconds; after it no token can use the quote, so it is forgotten


SaleOutcome = Literal[
    "recorded", "replayed", "conflict", "quote_used", "not_on_sale", "sold_out", "store_lost"
]


@dataclass(frozen=True, slots=True)
class SaleResult:
    """What `record_sale` did. Checked in this order, and nothing is written unless recorded:

    replayed: this order id was recorded before with this fingerprint (its first answer again);
    conflict: this order id was used before with another fingerprint, or by another venue;
    store_lost: the venue's data vanished (see `lost_venues`); counting from zero would oversell;
    quote_used: another order already used this quote (`used_by` names it);
    not_on_sale: the live plan has no such date and slot (or no plan is live);
    sold_out: sold + quantity would pass the slot's capacity in the live plan;
    recorded: counted, the order and the quote's use stored, in one atomic step.
    """

    outcome: SaleOutcome
    record: bytes | None = None  # the stored answer for recorded and replayed
    remaining: int | None = None  # tickets left in the slot, for sold_out
    used_by: str | None = None  # the order that used the quote, for quote_used


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
    async def start(self, venues: Sequence[str] = ()) -> None:
        """Begin any background work (the Redis store follows change notices), and mark each
        venue's data with a generation marker unless it has one (see `lost_venues`)."""

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers."""

    async def lost_venues(self) -> list[str]:
        """The venues whose generation marker vanished since this store first saw it.

        A marker is written once per venue, when a store first meets that venue, and is only
        ever removed with the rest of the data (a Redis that restarted without persistence, a
        failover to an empty replica). While a venue is lost its sales answer `store_lost` and
        its day states say `lost`, until `recover` is called.
        """

    async def recover(self, venue: str) -> None:
        """Accept the store's current data for the venue as the truth from now on (a new
        generation marker), after its plan was republished and its sold counts reconciled."""

    async def day_state(self, venue: str, date: str) -> DayState: ...

    async def sold_counts(self, venue: str, date: str) -> dict[str, int]: ...

    async def set_sold(self, venue: str, date: str, sold: dict[str, int]) -> None:
        """Replace the whole day's sold counts (reconciliation with the ticketing system)."""

    async def record_sale(self, sale: SaleRequest) -> SaleResult:
        """Record a sale in one atomic step: the order id is new, the quote unused, the slot in
        the live plan, and sold + quantity within the live plan's capacity (see SaleResult)."""

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
        capacities: Capacities,
        only_if_none: bool = False,
        only_if_current: str | None = None,
    ) -> PublishResult:
        """Store a plan and make it live in one atomic swap; audited.

        `capacities` are the plan's slot capacities, kept with the version: a sale is checked
        against those of whichever version is live at that moment (a rollback included).
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
