"""The day cache: reused only while fresh, emptied by change notices, never keeps a raced read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from api.store import DayState, SaleRequest
from api.store.day_cache import DayCache
from api.store.redis_store import RedisStore

KEY = ("city-museum", "2027-03-03")
OLD = DayState(sold={"10:00": 1}, plan_version="v1")
NEW = DayState(sold={"10:00": 2}, plan_version="v1")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def live_cache(clock: Clock, ttl: float = 1.0) -> DayCache:
    cache = DayCache(ttl, clock=clock)
    cache.notices_started()
    return cache


def test_an_entry_is_reused_until_its_ttl_from_before_the_read() -> None:
    clock = Clock()
    cache = live_cache(clock)
    ticket = cache.ticket(KEY)
    clock.now += 0.3  # the read took 0.3 s
    cache.put(KEY, OLD, ticket)
    assert cache.get(KEY) == OLD
    clock.now += 0.69
    assert cache.get(KEY) == OLD
    clock.now += 0.01  # 1.0 s after the read was sent
    assert cache.get(KEY) is None


def test_a_change_notice_empties_the_day_and_a_raced_read_is_not_kept() -> None:
    cache = live_cache(Clock())
    cache.put(KEY, OLD, cache.ticket(KEY))
    ticket = cache.ticket(KEY)
    cache.day_changed(*KEY)  # arrives while the read is in flight
    assert cache.get(KEY) is None
    cache.put(KEY, OLD, ticket)
    assert cache.get(KEY) is None
    cache.put(KEY, NEW, cache.ticket(KEY))
    assert cache.get(KEY) == NEW


def test_a_plan_change_empties_every_day_of_the_venue_only() -> None:
    cache = live_cache(Clock())
    other = ("zoo", "2027-03-03")
    cache.put(KEY, OLD, cache.ticket(KEY))
    cache.put(other, OLD, cache.ticket(other))
    ticket = cache.ticket(KEY)
    cache.venue_changed("city-museum")
    assert cache.get(KEY) is None and cache.get(other) == OLD
    cache.put(KEY, OLD, ticket)
    assert cache.get(KEY) is None


def test_nothing_is_kept_while_notices_are_down_or_the_cache_is_off() -> None:
    clock = Clock()
    cache = live_cache(clock)
    cache.put(KEY, OLD, cache.ticket(KEY))
    ticket = cache.ticket(KEY)
    cache.notices_stopped()
    assert cache.get(KEY) is None and cache.ticket(KEY) is None
    cache.put(KEY, OLD, ticket)
    cache.notices_started()
    assert cache.get(KEY) is None  # the read before the reconnect could have missed a change
    off = live_cache(clock, ttl=0)
    off.put(KEY, OLD, off.ticket(KEY))
    assert off.get(KEY) is None


# --- on Redis: two stores stand for two workers -------------------------------------------------


async def following(store: RedisStore) -> RedisStore:
    await store.start()
    for _ in range(200):
        if store.following_notices:
            return store
        await asyncio.sleep(0.01)
    pytest.fail("the store never subscribed to change notices")


@pytest.fixture
async def workers(flushed_redis_url: str) -> AsyncIterator[tuple[RedisStore, RedisStore]]:
    first = await following(RedisStore.from_url(flushed_redis_url))
    second = await following(RedisStore.from_url(flushed_redis_url))
    yield first, second
    await first.close()
    await second.close()


def sale(order_id: str) -> SaleRequest:
    return SaleRequest(
        order_id, "city-museum", "2027-03-03", "10:00", 2, order_id, b"{}", f"q-{order_id}", 0
    )


async def on_sale(store: RedisStore) -> None:
    """A live plan that sells the sales' slot, so they are checked against its capacity."""
    capacities = {"2027-03-03": {"10:00": 10}}
    await store.publish_plan("city-museum", "v0", b"{}", "test", "now", {}, capacities=capacities)


async def eventually(check, seconds: float = 2.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.01)):
        if await check():
            return
        await asyncio.sleep(0.01)
    pytest.fail("the change never reached the other worker")


@pytest.mark.anyio
async def test_a_sale_in_one_worker_reaches_the_others_cache(
    workers: tuple[RedisStore, RedisStore], flushed_redis_url: str
) -> None:
    first, second = workers
    assert (await first.day_state(*KEY)).sold == {}
    # A write that bypasses the store sends no notice: the cached answer stands, which shows
    # the second read was served from the cache.
    raw = redis.Redis.from_url(flushed_redis_url)
    await raw.hset("yg:{city-museum}:sold:2027-03-03", "11:00", 5)
    await raw.aclose()
    assert (await first.day_state(*KEY)).sold == {}

    await on_sale(second)
    assert (await second.record_sale(sale("o-1"))).outcome == "recorded"

    async def first_sees_it() -> bool:
        return (await first.day_state(*KEY)).sold == {"10:00": 2, "11:00": 5}

    await eventually(first_sees_it)


@pytest.mark.anyio
async def test_a_publish_in_one_worker_reaches_the_others_cache(
    workers: tuple[RedisStore, RedisStore],
) -> None:
    first, second = workers
    assert (await first.day_state(*KEY)).plan_version is None
    await second.publish_plan("city-museum", "v1", b"{}", "test", "now", {}, capacities={})

    async def first_sees_it() -> bool:
        return (await first.day_state(*KEY)).plan_version == "v1"

    await eventually(first_sees_it)


@pytest.mark.anyio
async def test_a_worker_reads_its_own_writes_at_once(
    workers: tuple[RedisStore, RedisStore],
) -> None:
    first, _ = workers
    assert (await first.day_state(*KEY)).sold == {}
    await first.set_sold("city-museum", "2027-03-03", {"12:00": 7})
    assert (await first.day_state(*KEY)).sold == {"12:00": 7}
    await on_sale(first)
    await first.record_sale(sale("o-2"))
    assert (await first.day_state(*KEY)).sold == {"10:00": 2, "12:00": 7}
    await first.cancel_sale("o-2", "now")
    assert (await first.day_state(*KEY)).sold == {"10:00": 0, "12:00": 7}
