"""One behavioural suite for every Store implementation, plus what only Redis can get wrong."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as redis

from api.store import SaleRequest, Store, StoreUnavailable
from api.store.redis_store import ORDER_TTL_SECONDS, RedisStore

pytestmark = pytest.mark.anyio

VENUE = "city-museum"
DATE = "2027-01-05"
SLOT = "10:00"
AT = "2027-01-01T09:00:00Z"


def sale(
    order_id: str = "order-1",
    *,
    venue: str = VENUE,
    date: str = DATE,
    slot: str = SLOT,
    quantity: int = 2,
    fingerprint: str = "fp-1",
) -> SaleRequest:
    record = f"{order_id}:{venue}:{quantity}:{fingerprint}".encode()
    return SaleRequest(order_id, venue, date, slot, quantity, fingerprint, record)


async def publish(
    store: Store, version: str, body: bytes = b"plan", *, only_if_none: bool = False
) -> str:
    result = await store.publish_plan(
        VENUE, version, body, "ops@example.com", AT, {"reason": "test"}, only_if_none=only_if_none
    )
    return result.outcome


# --- sales ---------------------------------------------------------------------------------------


async def test_a_recorded_sale_counts_its_tickets(store: Store) -> None:
    result = await store.record_sale(sale(quantity=3), capacity=10)

    assert result.outcome == "recorded"
    assert result.record == sale(quantity=3).record
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 3}


async def test_a_replay_returns_the_first_record_and_counts_nothing(store: Store) -> None:
    first = await store.record_sale(sale(), capacity=10)
    replay = await store.record_sale(sale(), capacity=10)

    assert replay.outcome == "replayed"
    assert replay.record == first.record
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 2}


async def test_a_replay_is_answered_even_when_the_slot_has_since_sold_out(store: Store) -> None:
    await store.record_sale(sale(quantity=2), capacity=2)

    assert (await store.record_sale(sale(quantity=2), capacity=2)).outcome == "replayed"


async def test_the_same_order_id_with_another_body_is_a_conflict(store: Store) -> None:
    await store.record_sale(sale(fingerprint="fp-1"), capacity=10)
    result = await store.record_sale(sale(fingerprint="fp-2", quantity=5), capacity=10)

    assert result.outcome == "conflict"
    assert result.record is None
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 2}


async def test_the_same_order_id_at_another_venue_is_a_conflict(store: Store) -> None:
    await store.record_sale(sale(venue=VENUE), capacity=10)
    result = await store.record_sale(sale(venue="harbour-tower"), capacity=10)

    assert result.outcome == "conflict"
    assert await store.sold_counts("harbour-tower", DATE) == {}


async def test_an_order_id_belongs_to_the_first_venue_even_if_its_sale_was_refused(
    store: Store,
) -> None:
    assert (await store.record_sale(sale(quantity=5), capacity=1)).outcome == "sold_out"

    assert (await store.record_sale(sale(venue="harbour-tower"), capacity=10)).outcome == (
        "conflict"
    )
    assert (await store.record_sale(sale(quantity=1), capacity=1)).outcome == "recorded"


async def test_capacity_is_enforced_exactly_at_the_boundary(store: Store) -> None:
    assert (await store.record_sale(sale("a", quantity=7), capacity=10)).outcome == "recorded"
    assert (await store.record_sale(sale("b", quantity=3), capacity=10)).outcome == "recorded"

    refused = await store.record_sale(sale("c", quantity=1), capacity=10)

    assert refused.outcome == "sold_out"
    assert refused.remaining == 0
    assert refused.record is None
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 10}


async def test_sold_out_reports_what_is_left_and_writes_nothing(store: Store) -> None:
    await store.record_sale(sale("a", quantity=7), capacity=10)

    refused = await store.record_sale(sale("b", quantity=4), capacity=10)

    assert (refused.outcome, refused.remaining) == ("sold_out", 3)
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 7}
    assert (await store.cancel_sale("b", AT)).outcome == "not_found"


async def test_remaining_is_never_negative_after_capacity_shrinks(store: Store) -> None:
    await store.set_sold(VENUE, DATE, {SLOT: 12})

    refused = await store.record_sale(sale(quantity=1), capacity=10)

    assert (refused.outcome, refused.remaining) == ("sold_out", 0)


async def test_slots_and_dates_are_counted_apart(store: Store) -> None:
    await store.record_sale(sale("a", slot="10:00", quantity=1), capacity=10)
    await store.record_sale(sale("b", slot="11:00", quantity=2), capacity=10)
    await store.record_sale(sale("c", date="2027-01-06", quantity=4), capacity=10)

    assert await store.sold_counts(VENUE, DATE) == {"10:00": 1, "11:00": 2}
    assert await store.sold_counts(VENUE, "2027-01-06") == {SLOT: 4}


async def test_concurrent_sales_never_oversell(store: Store) -> None:
    results = await asyncio.gather(
        *(store.record_sale(sale(f"order-{n}", quantity=1), capacity=20) for n in range(50))
    )

    outcomes = [result.outcome for result in results]
    assert outcomes.count("recorded") == 20
    assert outcomes.count("sold_out") == 30
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 20}


# --- cancellations -------------------------------------------------------------------------------


async def test_a_cancel_releases_the_tickets_once(store: Store) -> None:
    await store.record_sale(sale("keep", quantity=1), capacity=10)
    await store.record_sale(sale("drop", quantity=3), capacity=10)

    first = await store.cancel_sale("drop", AT)
    second = await store.cancel_sale("drop", "2027-01-02T00:00:00Z")

    assert first.outcome == "cancelled"
    assert (first.venue, first.date, first.slot, first.quantity) == (VENUE, DATE, SLOT, 3)
    assert first.cancelled_at == AT
    assert second.outcome == "already_cancelled"
    assert (second.venue, second.date, second.slot, second.quantity) == (VENUE, DATE, SLOT, 3)
    assert second.cancelled_at == AT
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 1}


async def test_cancelling_an_unknown_order_is_not_found(store: Store) -> None:
    result = await store.cancel_sale("never-sold", AT)

    assert result.outcome == "not_found"
    assert result.venue is None


async def test_a_cancel_never_takes_the_count_below_zero(store: Store) -> None:
    await store.record_sale(sale(quantity=3), capacity=10)
    await store.set_sold(VENUE, DATE, {SLOT: 1})

    assert (await store.cancel_sale("order-1", AT)).outcome == "cancelled"
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 0}


async def test_released_tickets_can_be_sold_again(store: Store) -> None:
    await store.record_sale(sale("a", quantity=2), capacity=2)
    await store.cancel_sale("a", AT)

    assert (await store.record_sale(sale("b", quantity=2), capacity=2)).outcome == "recorded"


# --- sold counts and day state -------------------------------------------------------------------


async def test_set_sold_replaces_the_whole_day(store: Store) -> None:
    await store.record_sale(sale("a", slot="10:00", quantity=4), capacity=10)
    await store.record_sale(sale("b", slot="11:00", quantity=2), capacity=10)

    await store.set_sold(VENUE, DATE, {"11:00": 5, "12:00": 1})

    assert await store.sold_counts(VENUE, DATE) == {"11:00": 5, "12:00": 1}


async def test_set_sold_with_nothing_clears_the_day(store: Store) -> None:
    await store.record_sale(sale(), capacity=10)

    await store.set_sold(VENUE, DATE, {})

    assert await store.sold_counts(VENUE, DATE) == {}


async def test_day_state_holds_the_counts_and_the_live_version(store: Store) -> None:
    empty = await store.day_state(VENUE, DATE)
    assert (empty.sold, empty.plan_version) == ({}, None)

    await store.record_sale(sale(quantity=3), capacity=10)
    await publish(store, "v1")

    state = await store.day_state(VENUE, DATE)
    assert state.sold == {SLOT: 3}
    assert state.plan_version == "v1"


# --- plans ---------------------------------------------------------------------------------------


async def test_publishing_makes_a_plan_live(store: Store) -> None:
    assert await store.current_version(VENUE) is None

    first = await store.publish_plan(VENUE, "v1", b"one", "ana", AT, {})
    second = await store.publish_plan(VENUE, "v2", b"two", "ben", AT, {})

    assert (first.outcome, first.previous) == ("published", None)
    assert (second.outcome, second.previous) == ("published", "v1")
    assert await store.current_version(VENUE) == "v2"
    assert await store.plan_body(VENUE, "v1") == b"one"
    assert await store.plan_body(VENUE, "v2") == b"two"
    assert await store.plan_body(VENUE, "v3") is None


async def test_republishing_the_same_version_and_body_is_unchanged_and_live_again(
    store: Store,
) -> None:
    await publish(store, "v1", b"one")
    await publish(store, "v2", b"two")

    again = await store.publish_plan(VENUE, "v1", b"one", "ana", AT, {})

    assert (again.outcome, again.previous) == ("unchanged", "v2")
    assert await store.current_version(VENUE) == "v1"
    assert [plan.version for plan in await store.list_plans(VENUE)] == ["v2", "v1"]


async def test_a_version_with_another_body_is_a_conflict_and_writes_nothing(store: Store) -> None:
    await publish(store, "v1", b"one")

    assert await publish(store, "v1", b"other") == "version_conflict"
    assert await store.plan_body(VENUE, "v1") == b"one"
    assert len(await store.audit(VENUE)) == 1


async def test_only_if_none_skips_when_a_plan_is_live(store: Store) -> None:
    assert await publish(store, "v1", only_if_none=True) == "published"

    skipped = await store.publish_plan(VENUE, "v2", b"two", "ana", AT, {}, only_if_none=True)

    assert (skipped.outcome, skipped.previous) == ("skipped", "v1")
    assert await store.current_version(VENUE) == "v1"
    assert await store.plan_body(VENUE, "v2") is None


async def test_only_if_current_never_overwrites_a_publish_made_in_between(store: Store) -> None:
    await publish(store, "v1")
    derived_from_v1 = await store.publish_plan(
        VENUE, "v2", b"two", "ana", AT, {}, only_if_current="v1"
    )
    assert derived_from_v1.outcome == "published"

    stale = await store.publish_plan(VENUE, "v3", b"three", "ben", AT, {}, only_if_current="v1")

    assert (stale.outcome, stale.previous) == ("skipped", "v2")
    assert await store.current_version(VENUE) == "v2"
    assert await store.plan_body(VENUE, "v3") is None
    assert [e.version for e in await store.audit(VENUE)] == ["v2", "v1"]


async def test_list_plans_is_newest_first_with_who_and_when(store: Store) -> None:
    await store.publish_plan(VENUE, "v1", b"one", "ana", "2027-01-01T00:00:00Z", {})
    await store.publish_plan(VENUE, "v2", b"two", "ben", "2027-01-02T00:00:00Z", {})

    plans = await store.list_plans(VENUE)

    assert [(p.version, p.published_by, p.published_at) for p in plans] == [
        ("v2", "ben", "2027-01-02T00:00:00Z"),
        ("v1", "ana", "2027-01-01T00:00:00Z"),
    ]
    assert await store.list_plans("harbour-tower") == []


async def test_rollback_makes_an_earlier_version_live(store: Store) -> None:
    await publish(store, "v1")
    await publish(store, "v2", b"two")

    result = await store.rollback(VENUE, "v1", "ana", AT)

    assert (result.outcome, result.previous) == ("rolled_back", "v2")
    assert await store.current_version(VENUE) == "v1"
    assert [plan.version for plan in await store.list_plans(VENUE)] == ["v2", "v1"]


async def test_rollback_to_an_unknown_version_is_not_found(store: Store) -> None:
    await publish(store, "v1")

    result = await store.rollback(VENUE, "v9", "ana", AT)

    assert (result.outcome, result.previous) == ("not_found", None)
    assert await store.current_version(VENUE) == "v1"
    assert len(await store.audit(VENUE)) == 1


async def test_plans_of_one_venue_are_invisible_to_another(store: Store) -> None:
    await publish(store, "v1")

    assert await store.current_version("harbour-tower") is None
    assert await store.plan_body("harbour-tower", "v1") is None
    assert (await store.rollback("harbour-tower", "v1", "ana", AT)).outcome == "not_found"


# --- audit ---------------------------------------------------------------------------------------


async def test_the_audit_lists_publishes_and_rollbacks_newest_first(store: Store) -> None:
    await store.publish_plan(VENUE, "v1", b"one", "ana", "2027-01-01T00:00:00Z", {"n": 1})
    await store.publish_plan(VENUE, "v2", b"two", "ben", "2027-01-02T00:00:00Z", {"n": [2]})
    await store.rollback(VENUE, "v1", "cid", "2027-01-03T00:00:00Z")

    entries = await store.audit(VENUE)

    assert [(e.action, e.version, e.previous, e.actor, e.at) for e in entries] == [
        ("rollback", "v1", "v2", "cid", "2027-01-03T00:00:00Z"),
        ("publish", "v2", "v1", "ben", "2027-01-02T00:00:00Z"),
        ("publish", "v1", None, "ana", "2027-01-01T00:00:00Z"),
    ]
    assert [e.details for e in entries] == [{}, {"n": [2]}, {"n": 1}]
    assert len({e.id for e in entries}) == 3


async def test_the_audit_honours_its_limit(store: Store) -> None:
    for n in range(5):
        await publish(store, f"v{n}", f"body {n}".encode())

    assert [e.version for e in await store.audit(VENUE, limit=2)] == ["v4", "v3"]
    assert await store.audit(VENUE, limit=0) == []
    assert await store.audit("harbour-tower") == []


async def test_ping_answers(store: Store) -> None:
    await store.ping()


# --- Redis only ----------------------------------------------------------------------------------


@pytest.mark.redis
async def test_every_venue_key_carries_the_venue_hash_tag(
    redis_store: RedisStore, redis_url: str
) -> None:
    await redis_store.record_sale(sale(), capacity=10)
    await publish(redis_store, "v1")

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        keys = set(await client.keys("*"))
        order_ttl = await client.ttl(f"yg:{{{VENUE}}}:order:order-1")
        sold_ttl = await client.ttl(f"yg:{{{VENUE}}}:sold:{DATE}")
        audit_type = await client.type(f"yg:{{{VENUE}}}:audit")
    finally:
        await client.aclose()

    assert keys == {
        "yg:orders:order-1",
        f"yg:{{{VENUE}}}:order:order-1",
        f"yg:{{{VENUE}}}:sold:{DATE}",
        f"yg:{{{VENUE}}}:plan:v1",
        f"yg:{{{VENUE}}}:plans",
        f"yg:{{{VENUE}}}:plans:meta",
        f"yg:{{{VENUE}}}:plan:current",
        f"yg:{{{VENUE}}}:audit",
    }
    assert ORDER_TTL_SECONDS - 60 < order_ttl <= ORDER_TTL_SECONDS
    assert ORDER_TTL_SECONDS - 60 < sold_ttl <= ORDER_TTL_SECONDS
    assert audit_type == "stream"


@pytest.mark.redis
async def test_the_key_prefix_is_configurable(redis_url: str, redis_store: RedisStore) -> None:
    other = RedisStore.from_url(redis_url, key_prefix="other")
    try:
        await other.record_sale(sale(), capacity=10)

        assert await redis_store.sold_counts(VENUE, DATE) == {}
        assert await other.sold_counts(VENUE, DATE) == {SLOT: 2}
    finally:
        await other.close()


@pytest.mark.redis
async def test_a_redis_error_reply_is_reported_as_unavailable(
    redis_store: RedisStore, redis_url: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        await client.set(f"yg:{{{VENUE}}}:sold:{DATE}", "not a hash")
    finally:
        await client.aclose()

    with pytest.raises(StoreUnavailable, match="the store failed"):
        await redis_store.sold_counts(VENUE, DATE)


async def test_an_unreachable_redis_is_reported_as_unavailable_quickly() -> None:
    dead = RedisStore.from_url("redis://127.0.0.1:1/0", timeout=0.2)
    started = time.monotonic()
    try:
        for call in (
            dead.ping(),
            dead.day_state(VENUE, DATE),
            dead.record_sale(sale(), capacity=10),
            dead.cancel_sale("order-1", AT),
            dead.publish_plan(VENUE, "v1", b"one", "ana", AT, {}),
        ):
            with pytest.raises(StoreUnavailable, match="the store is unreachable"):
                await call
    finally:
        await dead.close()

    assert time.monotonic() - started < 2


async def test_a_redis_that_does_not_answer_is_reported_as_unavailable_in_time() -> None:
    connections: list[asyncio.StreamWriter] = []

    async def accept_and_stay_silent(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    server = await asyncio.start_server(accept_and_stay_silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    silent = RedisStore.from_url(f"redis://127.0.0.1:{port}/0", timeout=0.2)
    started = time.monotonic()
    try:
        with pytest.raises(StoreUnavailable, match="the store is unreachable"):
            await silent.day_state(VENUE, DATE)
    finally:
        await silent.close()
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()

    assert time.monotonic() - started < 1
