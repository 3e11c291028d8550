"""Day states kept in process until the store says they changed, and never longer than `ttl`.

The Redis store fills it on reads and empties entries when a change notice arrives (every write
publishes one), so most quotes need no round trip at all. Two rules keep it honest:
- an entry is used only while younger than `ttl`, so even a lost notice costs at most `ttl`;
- a read that raced with a change notice is not kept: each read takes a ticket first, and the
  answer is stored only if no change to its day, its venue or the notice feed happened since.
While the notice feed is down the cache is dark: nothing is kept and every read goes to Redis.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from api.store.base import DayState

DayKey = tuple[str, str]  # venue, date
Ticket = tuple[int, int, int]


class DayCache:
    def __init__(
        self,
        ttl: float,
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._entries: dict[DayKey, tuple[float, DayState]] = {}
        self._day_changes: dict[DayKey, int] = {}
        self._venue_changes: dict[str, int] = {}
        self._epoch = 0  # moves when the notice feed connects or drops
        self._live = False

    @property
    def live(self) -> bool:
        return self._live

    def get(self, key: DayKey) -> DayState | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock() - entry[0] >= self._ttl:
            del self._entries[key]
            return None
        return entry[1]

    def ticket(self, key: DayKey) -> tuple[float, Ticket] | None:
        """Take before reading the store; None while the cache is dark or disabled."""
        if not self._live or self._ttl <= 0:
            return None
        marks = (self._epoch, self._venue_changes.get(key[0], 0), self._day_changes.get(key, 0))
        return self._clock(), marks

    def put(self, key: DayKey, state: DayState, ticket: tuple[float, Ticket] | None) -> None:
        if ticket is None or not self._live:
            return
        taken_at, marks = ticket
        current = (self._epoch, self._venue_changes.get(key[0], 0), self._day_changes.get(key, 0))
        if marks != current:
            return
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        # Aged from before the read was sent, so the promise of `ttl` holds from the store's side.
        self._entries[key] = (taken_at, state)

    def day_changed(self, venue: str, date: str) -> None:
        key = (venue, date)
        self._day_changes[key] = self._day_changes.get(key, 0) + 1
        self._entries.pop(key, None)

    def venue_changed(self, venue: str) -> None:
        self._venue_changes[venue] = self._venue_changes.get(venue, 0) + 1
        for key in [key for key in self._entries if key[0] == venue]:
            del self._entries[key]

    def notices_started(self) -> None:
        self._epoch += 1
        self._entries.clear()
        self._live = True

    def notices_stopped(self) -> None:
        self._epoch += 1
        self._entries.clear()
        self._live = False
