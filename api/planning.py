"""Publishing, listing and rolling back plans; the bootstrap plan a venue gets at start."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from api.clock import Clock, iso_utc
from api.store import PublishResult, Store, StoreUnavailable
from api.venues import VenueRegistry
from pricing.bootstrap import bootstrap_plan
from pricing.calendar import local_now
from pricing.errors import Conflict, InvalidInput, NotFound
from pricing.plan import (
    MergedPlan,
    Plan,
    merge_into_live,
    parse_plan,
    plan_capacities,
    validate_plan,
)

log = logging.getLogger("yieldgate.plans")
MERGE_ATTEMPTS = 5  # publishes racing on one venue; each lost race merges again


def new_version(now: dt.datetime) -> str:
    return f"{iso_utc(now)}-{secrets.token_hex(2)}"


def plan_bytes(plan: Plan) -> bytes:
    return orjson.dumps(plan.model_dump(mode="json", exclude_none=True))


def _republished(plan: Plan, stored: Plan) -> MergedPlan:
    """A version sent again (a retried publish): the stored plan, made live as it was, if the
    dates sent are the stored ones; else the stored body stands and the store answers
    version_conflict (the plan as sent is returned, which differs from it)."""
    stored_days = {day.date: day for day in stored.days}
    if all(stored_days.get(day.date) == day for day in plan.days):
        return MergedPlan(
            stored, days_new=len(plan.days), days_kept=len(stored.days) - len(plan.days)
        )
    return MergedPlan(plan, days_new=len(plan.days), days_kept=0)


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
        replace_all: bool = False,
    ) -> dict[str, Any]:
        """Make a plan's dates live: they replace the live plan's, every other date keeps its
        prices (DESIGN.md, The store); `replace_all` takes every other date off sale instead.

        The merge is published with a compare-and-swap on the live version, so a publish made
        meanwhile is merged with, never overwritten. `audit_details` join the audit entry.
        """
        plan = parse_plan(data)
        venue = self._venues.get(plan.venue)
        validate_plan(plan, venue)
        if not plan.days:
            raise InvalidInput(
                "the plan has no days; to take dates off sale, publish a plan without them "
                "using ?replace=all",
                field="days",
            )
        now = self._clock()
        version = plan.version or new_version(now)
        today = local_now(venue, now).date()
        for _attempt in range(MERGE_ATTEMPTS):
            live_version = await self._store.current_version(venue.id)
            known = await self._store.plan_body(venue.id, version)
            if known is not None:
                merged = _republished(plan, parse_plan(orjson.loads(known)))
            elif replace_all:
                merged = MergedPlan(plan, days_new=len(plan.days), days_kept=0)
            else:
                live = await self._live_plan(venue.id, live_version)
                merged = merge_into_live(plan, live, keep_from=today)
            result = await self._publish(
                merged,
                version,
                actor,
                now,
                {
                    "replace": "all" if replace_all else "dates",
                    "replaced": live_version,
                    **(audit_details or {}),
                },
                live_version,
            )
            if result.outcome != "skipped":
                break
        else:
            raise Conflict(
                "the live plan kept changing while this one was merged into it; nothing was "
                "published, try again",
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
            "published_at": iso_utc(now),
            "published_by": actor,
            "previous": result.previous,
            "days": len(merged.plan.days),
            "days_from_plan": merged.days_new,
            "days_kept": merged.days_kept,
        }

    async def _live_plan(self, venue_id: str, version: str | None) -> Plan | None:
        body = await self._store.plan_body(venue_id, version) if version else None
        return parse_plan(orjson.loads(body)) if body else None

    async def _publish(
        self,
        merged: MergedPlan,
        version: str,
        actor: str,
        now: dt.datetime,
        audit_details: Mapping[str, object],
        live_version: str | None,
    ) -> PublishResult:
        plan = merged.plan.model_copy(update={"version": version})
        details: dict[str, object] = {
            "days": len(plan.days),
            "first_date": str(plan.days[0].date) if plan.days else None,
            "last_date": str(plan.days[-1].date) if plan.days else None,
            "days_from_plan": merged.days_new,
            "days_kept": merged.days_kept,
            **audit_details,
        }
        return await self._store.publish_plan(
            plan.venue,
            version,
            plan_bytes(plan),
            actor,
            iso_utc(now),
            details,
            capacities=plan_capacities(plan),
            only_if_none=live_version is None,
            only_if_current=live_version,
        )

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
                    capacities=plan_capacities(plan),
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
                    capacities=plan_capacities(plan),
                    only_if_none=True,
                )
            except StoreUnavailable as exc:
                log.warning("no bootstrap plan for %s: %s", venue.id, exc.detail)
                continue
            if result.outcome == "published":
                log.info("published a %d-day bootstrap plan for %s", days, venue.id)
