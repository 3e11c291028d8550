"""The Store in process memory, for a single instance, development and tests.

Its semantics match RedisStore exactly. No method awaits between reading and writing, so each
one runs to completion on the event loop and is atomic like a Redis script. Nothing expires.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from itertools import count, islice

from api.store.base import (
    AuditEntry,
    CancelResult,
    DayState,
    DocumentKind,
    PlanMeta,
    PublishResult,
    RollbackResult,
    SaleRequest,
    SaleResult,
    StoredDocument,
    StoredScenario,
)

AUDIT_MAX_ENTRIES = 10_000


@dataclass(slots=True)
class _Order:
    sale: SaleRequest
    cancelled_at: str | None = None


@dataclass(slots=True)
class _VenuePlans:
    bodies: dict[str, bytes] = field(default_factory=dict)
    history: list[PlanMeta] = field(default_factory=list)  # newest first
    current: str | None = None
    audit: deque[AuditEntry] = field(default_factory=lambda: deque(maxlen=AUDIT_MAX_ENTRIES))


class MemoryStore:
    """Every venue's sales, plans and audit in plain dicts; lost when the process ends."""

    def __init__(self) -> None:
        self._sold: dict[tuple[str, str], dict[str, int]] = {}
        self._orders: dict[tuple[str, str], _Order] = {}  # (venue, order id) -> order
        self._order_venues: dict[str, str] = {}  # order id -> the venue that used it first
        self._plans: dict[str, _VenuePlans] = {}
        self._audit_ids = count(1)
        self._documents: dict[tuple[str, DocumentKind], StoredDocument] = {}
        self._scenarios: dict[str, StoredScenario] = {}  # id -> venue and record
        self._scenario_ids: dict[str, list[str]] = {}  # venue -> ids, newest first

    async def start(self) -> None:
        return None

    async def ping(self) -> None:
        return None

    async def day_state(self, venue: str, date: str) -> DayState:
        return DayState(
            sold=dict(self._sold.get((venue, date), {})),
            plan_version=self._venue_plans(venue).current,
        )

    async def sold_counts(self, venue: str, date: str) -> dict[str, int]:
        return dict(self._sold.get((venue, date), {}))

    async def set_sold(self, venue: str, date: str, sold: dict[str, int]) -> None:
        if sold:
            self._sold[(venue, date)] = dict(sold)
        else:
            self._sold.pop((venue, date), None)

    async def record_sale(self, sale: SaleRequest, capacity: int) -> SaleResult:
        # The first venue to use an order id owns it, even if that sale was refused.
        if self._order_venues.setdefault(sale.order_id, sale.venue) != sale.venue:
            return SaleResult("conflict")
        order = self._orders.get((sale.venue, sale.order_id))
        if order is not None:
            if order.sale.fingerprint == sale.fingerprint:
                return SaleResult("replayed", record=order.sale.record)
            return SaleResult("conflict")
        sold = self._sold.get((sale.venue, sale.date), {}).get(sale.slot, 0)
        if sold + sale.quantity > capacity:
            return SaleResult("sold_out", remaining=max(capacity - sold, 0))
        self._sold.setdefault((sale.venue, sale.date), {})[sale.slot] = sold + sale.quantity
        self._orders[(sale.venue, sale.order_id)] = _Order(sale)
        return SaleResult("recorded", record=sale.record)

    async def replayed_sale(self, venue: str, order_id: str, fingerprint: str) -> bytes | None:
        order = self._orders.get((venue, order_id))
        if order is None or order.sale.fingerprint != fingerprint:
            return None
        return order.sale.record

    async def cancel_sale(self, order_id: str, at: str) -> CancelResult:
        venue = self._order_venues.get(order_id)
        order = None if venue is None else self._orders.get((venue, order_id))
        if order is None:
            return CancelResult("not_found")
        sale = order.sale
        if order.cancelled_at is not None:
            return CancelResult(
                "already_cancelled",
                venue=sale.venue,
                date=sale.date,
                slot=sale.slot,
                quantity=sale.quantity,
                cancelled_at=order.cancelled_at,
            )
        day = self._sold.get((sale.venue, sale.date), {})
        if day.get(sale.slot, 0) > 0:
            day[sale.slot] = max(day[sale.slot] - sale.quantity, 0)
        order.cancelled_at = at
        return CancelResult(
            "cancelled",
            venue=sale.venue,
            date=sale.date,
            slot=sale.slot,
            quantity=sale.quantity,
            cancelled_at=at,
        )

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
        plans = self._plans.setdefault(venue, _VenuePlans())
        existing = plans.bodies.get(version)
        if existing is not None and existing != body:
            return PublishResult("version_conflict")
        previous = plans.current
        if only_if_none and previous is not None:
            return PublishResult("skipped", previous=previous)
        if only_if_current is not None and previous != only_if_current:
            return PublishResult("skipped", previous=previous)
        # Round-trip through JSON so details behave as they do in Redis (and fail the same way).
        details = json.loads(json.dumps(details))
        if existing is None:
            plans.bodies[version] = body
            plans.history.insert(0, PlanMeta(version, published_at=at, published_by=actor))
        plans.current = version
        self._append_audit(plans, "publish", version, previous, actor, at, details)
        return PublishResult("published" if existing is None else "unchanged", previous=previous)

    async def current_version(self, venue: str) -> str | None:
        return self._venue_plans(venue).current

    async def plan_body(self, venue: str, version: str) -> bytes | None:
        return self._venue_plans(venue).bodies.get(version)

    async def list_plans(self, venue: str) -> list[PlanMeta]:
        return list(self._venue_plans(venue).history)

    async def rollback(self, venue: str, version: str, actor: str, at: str) -> RollbackResult:
        plans = self._venue_plans(venue)
        if version not in plans.bodies:
            return RollbackResult("not_found")
        previous = plans.current
        plans.current = version
        self._append_audit(plans, "rollback", version, previous, actor, at, {})
        return RollbackResult("rolled_back", previous=previous)

    async def audit(self, venue: str, limit: int = 100) -> list[AuditEntry]:
        return list(islice(reversed(self._venue_plans(venue).audit), max(limit, 0)))

    async def put_document(
        self, venue: str, kind: DocumentKind, body: bytes, meta: dict[str, object]
    ) -> None:
        self._documents[(venue, kind)] = StoredDocument(bytes(body), json.loads(json.dumps(meta)))

    async def document(self, venue: str, kind: DocumentKind) -> StoredDocument | None:
        return self._documents.get((venue, kind))

    async def save_scenario(self, venue: str, scenario_id: str, record: bytes) -> None:
        if scenario_id not in self._scenarios:
            self._scenario_ids.setdefault(venue, []).insert(0, scenario_id)
        self._scenarios[scenario_id] = StoredScenario(venue, bytes(record))

    async def scenario(self, scenario_id: str) -> StoredScenario | None:
        return self._scenarios.get(scenario_id)

    async def list_scenarios(self, venue: str, limit: int = 100) -> list[bytes]:
        ids = self._scenario_ids.get(venue, [])[: max(limit, 0)]
        return [self._scenarios[scenario_id].record for scenario_id in ids]

    async def close(self) -> None:
        return None

    def _venue_plans(self, venue: str) -> _VenuePlans:
        """For reading: an unknown venue reads as one with no plans, and is not kept."""
        return self._plans.get(venue) or _VenuePlans()

    def _append_audit(
        self,
        plans: _VenuePlans,
        action: str,
        version: str,
        previous: str | None,
        actor: str,
        at: str,
        details: dict[str, object],
    ) -> None:
        entry_id = f"{next(self._audit_ids)}-0"
        plans.audit.append(AuditEntry(entry_id, action, version, previous, actor, at, details))
