"""The day's state for the quote path, with a fallback for when the store is unreachable.

When the store fails, quotes keep answering from the cached plan and the last sold counts seen,
marked stale, and skip the store for `retry_seconds` so a dead store costs no time per request.
A store that lost the venue's data (a Redis restarted empty) is answered the same way: its empty
counts and missing plan are not the venue's, so the last ones seen stand until it is recovered.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from api import metrics
from api.plan_cache import PlanCache
from api.store import DayState, Store, StoreUnavailable
from pricing.plan import CompiledPlan

MAX_REMEMBERED_DAYS = 10_000
LOST_VENUES: set[str] = set()  # as this process last saw them, so the gauge moves on changes only


def note_lost(venue: str, *, lost: bool) -> None:
    if lost != (venue in LOST_VENUES):
        (LOST_VENUES.add if lost else LOST_VENUES.discard)(venue)
        metrics.STORE_LOST.labels(venue).set(int(lost))


@dataclass(frozen=True, slots=True)
class PricingState:
    plan: CompiledPlan
    sold: dict[str, int]
    stale: bool


class DayStateReader:
    def __init__(self, store: Store, plans: PlanCache, retry_seconds: float) -> None:
        self._store = store
        self._plans = plans
        self._retry_seconds = retry_seconds
        self._skip_store_until = 0.0
        self._last_sold: OrderedDict[tuple[str, str], dict[str, int]] = OrderedDict()

    def last_seen_sold(self, venue: str) -> dict[str, dict[str, int]]:
        """The sold counts this process last read for each of the venue's dates."""
        return {date: dict(sold) for (v, date), sold in self._last_sold.items() if v == venue}

    async def read(self, venue: str, date: str) -> PricingState:
        if time.monotonic() >= self._skip_store_until:
            try:
                state = await self._store.day_state(venue, date)
            except StoreUnavailable:
                metrics.STORE_ERRORS.labels("day_state").inc()
                self._skip_store_until = time.monotonic() + self._retry_seconds
            else:
                if state.lost:
                    note_lost(venue, lost=True)
                    return self._stale(venue, date)
                if venue in LOST_VENUES:
                    note_lost(venue, lost=False)
                return await self._fresh(venue, date, state)
        return self._stale(venue, date)

    async def _fresh(self, venue: str, date: str, state: DayState) -> PricingState:
        key = (venue, date)
        self._last_sold[key] = state.sold
        self._last_sold.move_to_end(key)
        if len(self._last_sold) > MAX_REMEMBERED_DAYS:
            self._last_sold.popitem(last=False)
        try:
            plan = await self._plans.plan_for(venue, state.plan_version)
        except StoreUnavailable:
            metrics.STORE_ERRORS.labels("plan_body").inc()
            self._skip_store_until = time.monotonic() + self._retry_seconds
            return self._stale(venue, date)
        return PricingState(plan, state.sold, stale=False)

    def _stale(self, venue: str, date: str) -> PricingState:
        plan = self._plans.last_known(venue)
        if plan is None:
            raise StoreUnavailable("the store is unreachable and no plan is cached yet")
        return PricingState(plan, self._last_sold.get((venue, date), {}), stale=True)
