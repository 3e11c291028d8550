"""Publishing, listing and rolling back plans; the bootstrap plan a venue gets at start."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets
from collections.abc import Mapping, Sequence
from types import EllipsisType
from typing import Any

import orjson

from api.clock import Clock, iso_utc
from api.store import Store, StoreUnavailable
from api.venues import VenueRegistry
from pricing.bootstrap import bootstrap_plan
from pricing.calendar import local_now
from pricing.errors import Conflict, NotFound
from pricing.plan import Plan, parse_plan, validate_plan

log = logging.getLogger("yieldgate.plans")


def new_version(now: dt.datetime) -> str:
    return f"{iso_utc(now)}-{secrets.token_hex(2)}"


def plan_bytes(plan: Plan) -> bytes:
    return orjson.dumps(plan.model_dump(mode="json", exclude_none=True))


class PlanService:
    def __init__(self, venues: VenueRegistry, store: Store, clock: Clock) -> None:
        self._venues = venues
        self._store = store
        self._clock = clock

    async def publish(
        self,
        data: Any,
        actor: str,
        *,
        audit_details: Mapping[str, object] | None = None,
        replacing: str | EllipsisType | None = ...,
    ) -> dict[str, Any]:
        """Make a plan live; `audit_details` are added to the audit entry (why, and what for).

        `replacing`: the version this plan was derived from (None: no live plan); if another is
        live by the time of the swap, nothing is published and the answer is 409.
        """
        plan = parse_plan(data)
        venue = self._venues.get(plan.venue)
        validate_plan(plan, venue)
        now = self._clock()
        version = plan.version or new_version(now)
        plan = plan.model_copy(update={"version": version})
        at = iso_utc(now)
        details: dict[str, object] = {
            "days": len(plan.days),
            "first_date": str(plan.days[0].date) if plan.days else None,
            "last_date": str(plan.days[-1].date) if plan.days else None,
            **(audit_details or {}),
        }
        result = await self._store.publish_plan(
            venue.id,
            version,
            plan_bytes(plan),
            actor,
            at,
            details,
            only_if_none=replacing is None,
            only_if_current=replacing if isinstance(replacing, str) else None,
        )
        if result.outcome == "skipped":
            raise Conflict(
                f"the live plan changed to {result.previous!r} meanwhile; nothing was published",
                field="version",
            )
        if result.outcome == "version_conflict":
            raise Conflict(
                f"version {version!r} was already published with different content",
                field="version",
            )
        return {
            "venue": venue.id,
            "version": version,
            "published_at": at,
            "published_by": actor,
            "previous": result.previous,
        }

    async def list(self, venue_id: str) -> dict[str, Any]:
        venue = self._venues.get(venue_id)
        plans = await self._store.list_plans(venue.id)
        current = await self._store.current_version(venue.id)
        return {
            "venue": venue.id,
            "current": current,
            "plans": [dataclasses.asdict(meta) for meta in plans],
        }

    async def current(self, venue_id: str) -> bytes:
        venue = self._venues.get(venue_id)
        version = await self._store.current_version(venue.id)
        body = await self._store.plan_body(venue.id, version) if version else None
        if body is None:
            raise NotFound(f"no plan is published for venue {venue.id!r}", field="venue")
        return body

    async def rollback(self, venue_id: str, version: str, actor: str) -> dict[str, Any]:
        venue = self._venues.get(venue_id)
        at = iso_utc(self._clock())
        result = await self._store.rollback(venue.id, version, actor, at)
        if result.outcome == "not_found":
            raise NotFound(f"venue {venue.id!r} has no plan version {version!r}", field="version")
        return {
            "venue": venue.id,
            "version": version,
            "previous": result.previous,
            "rolled_back_at": at,
            "rolled_back_by": actor,
        }

    async def audit(self, venue_id: str, limit: int) -> dict[str, Any]:
        venue = self._venues.get(venue_id)
        entries = await self._store.audit(venue.id, limit)
        return {"venue": venue.id, "entries": [dataclasses.asdict(e) for e in entries]}

    async def publish_at_start(self, documents: Sequence[Any]) -> None:
        """Make each plan live unless its venue already has one; a bad plan stops the start."""
        now = self._clock()
        for data in documents:
            plan = parse_plan(data)
            venue = self._venues.get(plan.venue)
            validate_plan(plan, venue)
            plan = plan.model_copy(update={"version": plan.version or new_version(now)})
            try:
                result = await self._store.publish_plan(
                    venue.id,
                    plan.version or "",
                    plan_bytes(plan),
                    "start-up",
                    iso_utc(now),
                    {"days": len(plan.days), "kind": "start-up"},
                    only_if_none=True,
                )
            except StoreUnavailable as exc:
                log.warning("start-up plan for %s not published: %s", venue.id, exc.detail)
                continue
            if result.outcome == "published":
                log.info("published start-up plan %s for %s", plan.version, venue.id)

    async def bootstrap(self, days: int) -> None:
        """Give every venue without a live plan one to quote from (base price, step at 70%)."""
        now = self._clock()
        for venue in self._venues:
            start = local_now(venue, now).date()
            plan = bootstrap_plan(venue, start, days, new_version(now))
            try:
                result = await self._store.publish_plan(
                    venue.id,
                    plan.version or "",
                    plan_bytes(plan),
                    "bootstrap",
                    iso_utc(now),
                    {"days": days, "kind": "bootstrap"},
                    only_if_none=True,
                )
            except StoreUnavailable as exc:
                log.warning("no bootstrap plan for %s: %s", venue.id, exc.detail)
                continue
            if result.outcome == "published":
                log.info("published a %d-day bootstrap plan for %s", days, venue.id)
