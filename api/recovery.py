"""Readiness, and the way back for a store that lost a venue's data (a Redis restarted empty).

While a venue is lost its sales are refused (503) and its quotes are answered from this
worker's cached plan, marked stale. The operator reconciles the sold counts
(`PUT /v1/venues/{venue}/inventory/{date}`, allowed while lost), then recovers the venue: the
plan this worker holds is republished if the store has none, and the store's data is accepted
as the truth from then on.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from api.clock import Clock, iso_utc
from api.day_state import DayStateReader, note_lost
from api.plan_cache import PlanCache
from api.store import Store, StoreLost
from api.venues import VenueRegistry
from pricing.errors import Conflict
from pricing.plan import parse_plan, plan_capacities

log = logging.getLogger("yieldgate.recovery")
RECOVERY_GUIDE = "README: Recovering a store that lost its data"


class RecoveryService:
    def __init__(
        self,
        venues: VenueRegistry,
        store: Store,
        plans: PlanCache,
        day_states: DayStateReader,
        clock: Clock,
    ) -> None:
        self._venues = venues
        self._store = store
        self._plans = plans
        self._day_states = day_states
        self._clock = clock

    async def check_ready(self) -> None:
        """Raise StoreUnavailable (503) unless the store answers and holds every venue's data."""
        await self._store.ping()
        lost = await self._store.lost_venues()
        for venue in self._venues:
            note_lost(venue.id, lost=venue.id in lost)
        if lost:
            raise StoreLost(
                f"the store lost the data of {', '.join(sorted(lost))} (a Redis that restarted "
                f"empty?); sales are refused until it is recovered ({RECOVERY_GUIDE})"
            )

    async def recover(self, venue_id: str, actor: str) -> dict[str, Any]:
        venue = self._venues.get(venue_id)
        if venue.id not in await self._store.lost_venues():
            raise Conflict(f"the store has not lost {venue.id}'s data: nothing to recover")
        republished = None
        if await self._store.current_version(venue.id) is None:
            republished = await self._republish(venue.id, actor)
        await self._store.recover(venue.id)
        note_lost(venue.id, lost=False)
        log.warning(
            "%s recovered %s's store data (republished plan: %s)", actor, venue.id, republished
        )
        return {
            "venue": venue.id,
            "recovered": True,
            "republished": republished,
            "live_version": await self._store.current_version(venue.id),
            "last_seen_sold": self._day_states.last_seen_sold(venue.id),
        }

    async def _republish(self, venue_id: str, actor: str) -> str | None:
        """The version republished, or None when another worker's recovery or a publish made a
        plan live meanwhile (that one stands)."""
        body = self._plans.last_known_body(venue_id)
        compiled = self._plans.last_known(venue_id)
        if body is None or compiled is None:
            raise Conflict(
                f"the store has no plan for {venue_id} and this worker holds none: publish one "
                "(POST /v1/plans), then recover again",
                field="venue",
            )
        plan = parse_plan(orjson.loads(body))
        result = await self._store.publish_plan(
            venue_id,
            compiled.version,
            body,
            actor,
            iso_utc(self._clock()),
            {"kind": "recovery", "days": len(plan.days)},
            capacities=plan_capacities(plan),
            only_if_none=True,
        )
        return compiled.version if result.outcome in ("published", "unchanged") else None
