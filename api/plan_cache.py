"""Compiled plans kept in process, refreshed whenever the live version changes.

Every quote reads the live version in the same store round trip as the day's sold counts, so a
quote is always priced from the plan that was live at that read: a publish reaches every worker
on its very next quote, well inside the one-second promise. Only when the version changed is the
plan body fetched and compiled (in a worker thread, so the event loop keeps serving).
"""

from __future__ import annotations

import asyncio

import orjson

from api import metrics
from api.store import Store
from api.venues import VenueRegistry
from pricing.errors import NotFound
from pricing.plan import CompiledPlan, compile_plan, parse_plan


class PlanCache:
    def __init__(self, store: Store, venues: VenueRegistry) -> None:
        self._store = store
        self._venues = venues
        self._plans: dict[str, CompiledPlan] = {}
        self._bodies: dict[str, bytes] = {}  # each compiled plan's Plan JSON, to republish it
        self._locks: dict[str, asyncio.Lock] = {}

    def last_known(self, venue_id: str) -> CompiledPlan | None:
        return self._plans.get(venue_id)

    def last_known_body(self, venue_id: str) -> bytes | None:
        """The Plan JSON of `last_known`, for republishing it into a store that lost it."""
        return self._bodies.get(venue_id)

    async def plan_for(self, venue_id: str, version: str | None) -> CompiledPlan:
        cached = self._plans.get(venue_id)
        if cached is not None and cached.version == version:
            return cached
        if version is None:
            raise NotFound(f"no plan is published for venue {venue_id!r}", field="venue")
        lock = self._locks.setdefault(venue_id, asyncio.Lock())
        async with lock:
            cached = self._plans.get(venue_id)
            if cached is not None and cached.version == version:
                return cached
            body = await self._store.plan_body(venue_id, version)
            if body is None:
                raise NotFound(f"plan version {version!r} is not stored", field="version")
            venue = self._venues.get(venue_id)
            compiled = await asyncio.to_thread(
                lambda: compile_plan(parse_plan(orjson.loads(body)), venue, version)
            )
            self._plans[venue_id] = compiled
            self._bodies[venue_id] = body
            metrics.note_live_plan(venue_id, version, cached.version if cached else None)
            return compiled
