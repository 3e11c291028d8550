"""Venue histories and scenario records, against every Store implementation."""

from __future__ import annotations

import pytest
import redis.asyncio as redis

from api.store import Store
from api.store.redis_store import RedisStore

pytestmark = pytest.mark.anyio

VENUE = "city-museum"
OTHER = "harbour-zoo"


async def test_no_document_reads_as_none(store: Store) -> None:
    assert await store.document(VENUE, "history") is None
    assert await store.document(VENUE, "calendar") is None


async def test_a_document_is_replaced_whole_with_its_metadata(store: Store) -> None:
    await store.put_document(VENUE, "history", b"date,slot\n1", {"version": "v1", "rows": 1})
    await store.put_document(VENUE, "history", b"date,slot\n2\n3", {"version": "v2", "rows": 2})

    stored = await store.document(VENUE, "history")
    assert stored is not None
    assert stored.body == b"date,slot\n2\n3"
    assert stored.meta == {"version": "v2", "rows": 2}
    assert await store.document(OTHER, "history") is None


async def test_a_venues_history_and_calendar_are_kept_apart(store: Store) -> None:
    await store.put_document(VENUE, "history", b"h", {"version": "h1"})
    await store.put_document(VENUE, "calendar", b"c", {"version": "c1"})
    history = await store.document(VENUE, "history")
    calendar = await store.document(VENUE, "calendar")
    assert history is not None and history.body == b"h"
    assert calendar is not None and calendar.body == b"c" and calendar.meta == {"version": "c1"}


async def test_an_unknown_scenario_reads_as_none(store: Store) -> None:
    assert await store.scenario("sc_nope") is None
    assert await store.list_scenarios(VENUE) == []


async def test_scenarios_are_found_by_id_and_listed_newest_first(store: Store) -> None:
    await store.save_scenario(VENUE, "sc_1", b'{"n": 1}')
    await store.save_scenario(VENUE, "sc_2", b'{"n": 2}')
    await store.save_scenario(OTHER, "sc_3", b'{"n": 3}')

    found = await store.scenario("sc_2")
    assert found is not None and found.venue == VENUE and found.record == b'{"n": 2}'
    assert await store.list_scenarios(VENUE) == [b'{"n": 2}', b'{"n": 1}']
    assert await store.list_scenarios(VENUE, limit=1) == [b'{"n": 2}']
    assert await store.list_scenarios(VENUE, limit=0) == []
    assert await store.list_scenarios(OTHER) == [b'{"n": 3}']


async def test_saving_a_scenario_again_replaces_it_in_place(store: Store) -> None:
    await store.save_scenario(VENUE, "sc_1", b'{"id": 1, "status": "running"}')
    await store.save_scenario(VENUE, "sc_2", b'{"id": 2, "status": "done"}')
    await store.save_scenario(VENUE, "sc_1", b'{"id": 1, "status": "done"}')

    found = await store.scenario("sc_1")
    assert found is not None and found.record == b'{"id": 1, "status": "done"}'
    # Listed once, where it was first created.
    assert await store.list_scenarios(VENUE) == [
        b'{"id": 2, "status": "done"}',
        b'{"id": 1, "status": "done"}',
    ]


@pytest.mark.redis
async def test_a_history_keeps_its_redis_key(
    redis_store: RedisStore, flushed_redis_url: str
) -> None:
    # Histories uploaded before the store kept calendars too live at this key: it must not move.
    await redis_store.put_document(VENUE, "history", b"h", {"version": "h1"})
    raw = redis.Redis.from_url(flushed_redis_url)
    try:
        assert await raw.hget(f"yg:{{{VENUE}}}:history", "body") == b"h"
    finally:
        await raw.aclose()
