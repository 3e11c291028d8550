"""One behavioural suite for every Store implementation, plus what only Redis can get wrong."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import pytest
import redis.asyncio as redis

from api.store import PublishResult, SaleRequest, Store, StoreUnavailable
from api.store.redis_store import ORDER_TTL_SECONDS, QUOTE_MEMORY_MARGIN_SECONDS, RedisStore

pytestmark = pytest.mark.anyio

VENUE = "city-museum"
OTHER_VENUE = "harbour-tower"
DATE = "2027-01-05"
NEXT_DATE = "2027-01-06"
SLOT = "10:00"
AT = "2027-01-01T09:00:00Z"


def seats(capacity: int) -> dict[str, dict[str, int]]:
    """A plan's capacities: every slot the suite sells, on both of its dates."""
    slots = {"10:00": capacity, "11:00": capacity, "12:00": capacity}
    return {DATE: dict(slots), NEXT_DATE: dict(slots)}


def sale(
    order_id: str = "order-1",
    *,
    venue: str = VENUE,
    date: str = DATE,
    slot: str = SLOT,
    quantity: int = 2,
    fingerprint: str = "fp-1",
    quote_id: str | None = None,
    quote_expires_at: int | None = None,
) -> SaleRequest:
    """A sale of its own quote (unless told), which expires well after the test."""
    record = f"{order_id}:{venue}:{quantity}:{fingerprint}".encode()
    return SaleRequest(
        order_id,
        venue,
        date,
        slot,
        quantity,
        fingerprint,
        record,
        quote_id=quote_id or f"quote-{order_id}",
        quote_expires_at=quote_expires_at or int(time.time()) + 900,
    )


async def publish(
    store: Store,
    version: str,
    body: bytes = b"plan",
    *,
    venue: str = VENUE,
    actor: str = "ops@example.com",
    at: str = AT,
    details: dict[str, object] | None = None,
    capacities: Mapping[str, Mapping[str, int]] | None = None,
    only_if_none: bool = False,
    only_if_current: str | None = None,
) -> PublishResult:
    return await store.publish_plan(
        venue,
        version,
        body,
        actor,
        at,
        {"reason": "test"} if details is None else details,
        capacities=seats(10) if capacities is None else capacities,
        only_if_none=only_if_none,
        only_if_current=only_if_current,
    )


async def on_sale(store: Store, capacity: int = 10, *, venue: str = VENUE) -> None:
    """A live plan that puts the suite's slots on sale with this capacity."""
    body = f"plan at {capacity}".encode()
    result = await publish(store, f"cap-{capacity}", body, venue=venue, capacities=seats(capacity))
    assert result.outcome in ("published", "unchanged")


# --- sales ---------------------------------------------------------------------------------------


async def test_a_recorded_sale_counts_its_tickets(store: Store) -> None:
    await on_sale(store)
    result = await store.record_sale(sale(quantity=3))

    assert result.outcome == "recorded"
    assert result.record == sale(quantity=3).record
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 3}


async def test_a_replay_returns_the_first_record_and_counts_nothing(store: Store) -> None:
    await on_sale(store)
    first = await store.record_sale(sale())
    replay = await store.record_sale(sale())

    assert replay.outcome == "replayed"
    assert replay.record == first.record
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 2}


async def test_a_replay_is_answered_even_when_the_slot_has_since_sold_out(store: Store) -> None:
    await on_sale(store, 2)
    await store.record_sale(sale(quantity=2))

    assert (await store.record_sale(sale(quantity=2))).outcome == "replayed"


async def test_a_replay_is_answered_after_the_slot_left_the_live_plan(store: Store) -> None:
    await on_sale(store)
    await store.record_sale(sale())
    await publish(store, "v-other-day", b"other", capacities={NEXT_DATE: {SLOT: 10}})

    assert (await store.record_sale(sale())).outcome == "replayed"


async def test_the_stored_answer_of_a_sale_can_be_looked_up_for_a_retry(store: Store) -> None:
    await on_sale(store)
    await store.record_sale(sale(fingerprint="fp-1"))

    assert await store.replayed_sale(VENUE, "order-1", "fp-1") == sale().record
    assert await store.replayed_sale(VENUE, "order-1", "fp-2") is None
    assert await store.replayed_sale(OTHER_VENUE, "order-1", "fp-1") is None
    assert await store.replayed_sale(VENUE, "order-2", "fp-1") is None


async def test_the_same_order_id_with_another_body_is_a_conflict(store: Store) -> None:
    await on_sale(store)
    await store.record_sale(sale(fingerprint="fp-1"))
    result = await store.record_sale(sale(fingerprint="fp-2", quantity=5))

    assert result.outcome == "conflict"
    assert result.record is None
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 2}


async def test_the_same_order_id_at_another_venue_is_a_conflict(store: Store) -> None:
    await on_sale(store)
    await on_sale(store, venue=OTHER_VENUE)
    await store.record_sale(sale(venue=VENUE))
    result = await store.record_sale(sale(venue=OTHER_VENUE))

    assert result.outcome == "conflict"
    assert await store.sold_counts(OTHER_VENUE, DATE) == {}


async def test_an_order_id_belongs_to_the_first_venue_even_if_its_sale_was_refused(
    store: Store,
) -> None:
    await on_sale(store, 1)
    await on_sale(store, 10, venue=OTHER_VENUE)
    assert (await store.record_sale(sale(quantity=5))).outcome == "sold_out"

    assert (await store.record_sale(sale(venue=OTHER_VENUE))).outcome == "conflict"
    assert (await store.record_sale(sale(quantity=1))).outcome == "recorded"


async def test_capacity_is_enforced_exactly_at_the_boundary(store: Store) -> None:
    await on_sale(store, 10)
    assert (await store.record_sale(sale("a", quantity=7))).outcome == "recorded"
    assert (await store.record_sale(sale("b", quantity=3))).outcome == "recorded"

    refused = await store.record_sale(sale("c", quantity=1))

    assert refused.outcome == "sold_out"
    assert refused.remaining == 0
    assert refused.record is None
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 10}


async def test_sold_out_reports_what_is_left_and_writes_nothing(store: Store) -> None:
    await on_sale(store, 10)
    await store.record_sale(sale("a", quantity=7))

    refused = await store.record_sale(sale("b", quantity=4))

    assert (refused.outcome, refused.remaining) == ("sold_out", 3)
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 7}
    assert (await store.cancel_sale("b", AT)).outcome == "not_found"
    # Its quote was not used either: another order may still buy with it.
    assert (await store.record_sale(sale("c", quantity=3, quote_id="quote-b"))).outcome == (
        "recorded"
    )


async def test_remaining_is_never_negative_after_capacity_shrinks(store: Store) -> None:
    await on_sale(store, 10)
    await store.set_sold(VENUE, DATE, {SLOT: 12})

    refused = await store.record_sale(sale(quantity=1))

    assert (refused.outcome, refused.remaining) == ("sold_out", 0)


async def test_slots_and_dates_are_counted_apart(store: Store) -> None:
    await on_sale(store)
    await store.record_sale(sale("a", slot="10:00", quantity=1))
    await store.record_sale(sale("b", slot="11:00", quantity=2))
    await store.record_sale(sale("c", date=NEXT_DATE, quantity=4))

    assert await store.sold_counts(VENUE, DATE) == {"10:00": 1, "11:00": 2}
    assert await store.sold_counts(VENUE, NEXT_DATE) == {SLOT: 4}


async def test_concurrent_sales_never_oversell(store: Store) -> None:
    await on_sale(store, 20)
    results = await asyncio.gather(
        *(store.record_sale(sale(f"order-{n}", quantity=1)) for n in range(50))
    )

    outcomes = [result.outcome for result in results]
    assert outcomes.count("recorded") == 20
    assert outcomes.count("sold_out") == 30
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 20}


# --- the live plan's capacity --------------------------------------------------------------------


async def test_a_new_publish_cuts_the_capacity_sales_are_held_to(store: Store) -> None:
    await on_sale(store, 120)
    for n in range(3):
        assert (await store.record_sale(sale(f"early-{n}", quantity=5))).outcome == "recorded"

    await on_sale(store, 20)  # 15 sold, 5 left under the new plan

    refused = await store.record_sale(sale("late-1", quantity=6))
    assert (refused.outcome, refused.remaining) == ("sold_out", 5)
    assert (await store.record_sale(sale("late-2", quantity=5))).outcome == "recorded"
    last = await store.record_sale(sale("late-3", quantity=1))
    assert (last.outcome, last.remaining) == ("sold_out", 0)
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 20}


async def test_nothing_is_on_sale_before_a_plan_is_live(store: Store) -> None:
    result = await store.record_sale(sale())

    assert result.outcome == "not_on_sale"
    assert await store.sold_counts(VENUE, DATE) == {}
    assert (await store.cancel_sale("order-1", AT)).outcome == "not_found"


async def test_a_slot_or_day_the_live_plan_lacks_is_not_on_sale(store: Store) -> None:
    await publish(store, "v1", capacities={DATE: {SLOT: 10}})

    assert (await store.record_sale(sale("a", slot="11:30"))).outcome == "not_on_sale"
    assert (await store.record_sale(sale("b", date=NEXT_DATE))).outcome == "not_on_sale"
    assert (await store.record_sale(sale("c"))).outcome == "recorded"
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 2}
    assert await store.sold_counts(VENUE, NEXT_DATE) == {}


async def test_another_venues_plan_puts_nothing_on_sale_here(store: Store) -> None:
    await on_sale(store, venue=OTHER_VENUE)

    assert (await store.record_sale(sale())).outcome == "not_on_sale"


async def test_a_rollback_makes_the_older_versions_capacities_govern_again(store: Store) -> None:
    await publish(store, "v1", b"one", capacities={DATE: {SLOT: 120}})
    assert (await store.record_sale(sale("a", quantity=30))).outcome == "recorded"
    await publish(store, "v2", b"two", capacities={DATE: {SLOT: 20, "11:00": 20}})
    assert (await store.record_sale(sale("b", quantity=10))).outcome == "sold_out"
    assert (await store.record_sale(sale("c", slot="11:00"))).outcome == "recorded"

    await store.rollback(VENUE, "v1", "ana", AT)

    assert (await store.record_sale(sale("b", quantity=10))).outcome == "recorded"
    assert (await store.record_sale(sale("d", slot="11:00"))).outcome == "not_on_sale"
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 40, "11:00": 2}


async def test_republishing_a_version_brings_back_its_own_capacities(store: Store) -> None:
    await publish(store, "v1", b"one", capacities={DATE: {SLOT: 4}})
    await publish(store, "v2", b"two", capacities={DATE: {SLOT: 100}})
    assert (await publish(store, "v1", b"one", capacities={DATE: {SLOT: 4}})).outcome == (
        "unchanged"
    )

    refused = await store.record_sale(sale(quantity=5))

    assert (refused.outcome, refused.remaining) == ("sold_out", 4)


# --- one quote, one order ------------------------------------------------------------------------


async def test_a_quote_pays_for_one_order_only(store: Store) -> None:
    await on_sale(store)
    assert (await store.record_sale(sale("first", quote_id="q-1"))).outcome == "recorded"

    second = await store.record_sale(sale("second", quote_id="q-1"))

    assert (second.outcome, second.used_by, second.record) == ("quote_used", "first", None)
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 2}
    assert (await store.cancel_sale("second", AT)).outcome == "not_found"


async def test_the_order_that_used_a_quote_is_still_replayed(store: Store) -> None:
    await on_sale(store)
    first = await store.record_sale(sale("first", quote_id="q-1"))

    again = await store.record_sale(sale("first", quote_id="q-1"))

    assert (again.outcome, again.record) == ("replayed", first.record)
    other_body = await store.record_sale(sale("first", quote_id="q-1", fingerprint="fp-2"))
    assert other_body.outcome == "conflict"


async def test_a_used_quote_is_refused_before_capacity_is_looked_at(store: Store) -> None:
    await on_sale(store, 2)
    await store.record_sale(sale("first", quote_id="q-1", quantity=2))

    assert (await store.record_sale(sale("second", quote_id="q-1"))).outcome == "quote_used"


async def test_a_cancelled_order_keeps_its_quote_used(store: Store) -> None:
    await on_sale(store)
    await store.record_sale(sale("first", quote_id="q-1"))
    await store.cancel_sale("first", AT)

    assert (await store.record_sale(sale("second", quote_id="q-1"))).used_by == "first"


async def test_the_same_quote_id_at_another_venue_is_another_quote(store: Store) -> None:
    await on_sale(store)
    await on_sale(store, venue=OTHER_VENUE)
    await store.record_sale(sale("here", quote_id="q-1"))

    assert (await store.record_sale(sale("there", venue=OTHER_VENUE, quote_id="q-1"))).outcome == (
        "recorded"
    )


async def test_orders_racing_on_one_quote_record_exactly_one(store: Store) -> None:
    await on_sale(store, 100)

    results = await asyncio.gather(
        *(store.record_sale(sale(f"order-{n}", quote_id="q-shared")) for n in range(20))
    )

    recorded = [n for n, result in enumerate(results) if result.outcome == "recorded"]
    assert len(recorded) == 1
    winner = f"order-{recorded[0]}"
    refused = [result for result in results if result.outcome != "recorded"]
    assert {(r.outcome, r.used_by) for r in refused} == {("quote_used", winner)}
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 2}


# --- cancellations -------------------------------------------------------------------------------


async def test_a_cancel_releases_the_tickets_once(store: Store) -> None:
    await on_sale(store)
    await store.record_sale(sale("keep", quantity=1))
    await store.record_sale(sale("drop", quantity=3))

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
    await on_sale(store)
    await store.record_sale(sale(quantity=3))
    await store.set_sold(VENUE, DATE, {SLOT: 1})

    assert (await store.cancel_sale("order-1", AT)).outcome == "cancelled"
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 0}


async def test_released_tickets_can_be_sold_again(store: Store) -> None:
    await on_sale(store, 2)
    await store.record_sale(sale("a", quantity=2))
    await store.cancel_sale("a", AT)

    assert (await store.record_sale(sale("b", quantity=2))).outcome == "recorded"


async def test_concurrent_cancels_release_the_tickets_once(store: Store) -> None:
    await on_sale(store)
    await store.record_sale(sale("keep", quantity=4))
    await store.record_sale(sale("drop", quantity=3))

    results = await asyncio.gather(*(store.cancel_sale("drop", AT) for _ in range(10)))

    outcomes = sorted(result.outcome for result in results)
    assert outcomes == ["already_cancelled"] * 9 + ["cancelled"]
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 4}


# --- sold counts and day state -------------------------------------------------------------------


async def test_set_sold_replaces_the_whole_day(store: Store) -> None:
    await on_sale(store)
    await store.record_sale(sale("a", slot="10:00", quantity=4))
    await store.record_sale(sale("b", slot="11:00", quantity=2))

    await store.set_sold(VENUE, DATE, {"11:00": 5, "12:00": 1})

    assert await store.sold_counts(VENUE, DATE) == {"11:00": 5, "12:00": 1}


async def test_set_sold_with_nothing_clears_the_day(store: Store) -> None:
    await on_sale(store)
    await store.record_sale(sale())

    await store.set_sold(VENUE, DATE, {})

    assert await store.sold_counts(VENUE, DATE) == {}


async def test_day_state_holds_the_counts_and_the_live_version(store: Store) -> None:
    empty = await store.day_state(VENUE, DATE)
    assert (empty.sold, empty.plan_version, empty.lost) == ({}, None, False)

    await publish(store, "v1")
    await store.record_sale(sale(quantity=3))

    state = await store.day_state(VENUE, DATE)
    assert state.sold == {SLOT: 3}
    assert state.plan_version == "v1"
    assert state.lost is False


async def test_day_state_follows_every_write_of_this_store_at_once(store: Store) -> None:
    await publish(store, "v1")
    assert (await store.day_state(VENUE, DATE)).sold == {}

    await store.record_sale(sale("a", quantity=3))
    assert (await store.day_state(VENUE, DATE)).sold == {SLOT: 3}
    await store.cancel_sale("a", AT)
    assert (await store.day_state(VENUE, DATE)).sold == {SLOT: 0}
    await store.set_sold(VENUE, DATE, {SLOT: 7})
    assert (await store.day_state(VENUE, DATE)).sold == {SLOT: 7}
    await publish(store, "v2", b"two")
    assert (await store.day_state(VENUE, DATE)).plan_version == "v2"
    await store.rollback(VENUE, "v1", "ana", AT)
    assert (await store.day_state(VENUE, DATE)).plan_version == "v1"


# --- generation markers --------------------------------------------------------------------------


async def test_a_store_that_kept_its_data_has_lost_no_venue(store: Store) -> None:
    await store.start([VENUE, OTHER_VENUE])
    await on_sale(store)
    await store.record_sale(sale())

    assert await store.lost_venues() == []
    assert (await store.day_state(VENUE, DATE)).lost is False
    assert (await store.day_state(OTHER_VENUE, DATE)).lost is False


async def test_recovering_a_venue_that_was_not_lost_changes_nothing(store: Store) -> None:
    await store.start([VENUE])
    await on_sale(store)
    await store.record_sale(sale("a"))

    await store.recover(VENUE)

    assert await store.lost_venues() == []
    assert (await store.record_sale(sale("b"))).outcome == "recorded"
    assert await store.sold_counts(VENUE, DATE) == {SLOT: 4}


# --- plans ---------------------------------------------------------------------------------------


async def test_publishing_makes_a_plan_live(store: Store) -> None:
    assert await store.current_version(VENUE) is None

    first = await publish(store, "v1", b"one", actor="ana", details={})
    second = await publish(store, "v2", b"two", actor="ben", details={})

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

    again = await publish(store, "v1", b"one", actor="ana", details={})

    assert (again.outcome, again.previous) == ("unchanged", "v2")
    assert await store.current_version(VENUE) == "v1"
    assert [plan.version for plan in await store.list_plans(VENUE)] == ["v2", "v1"]


async def test_a_version_with_another_body_is_a_conflict_and_writes_nothing(store: Store) -> None:
    await publish(store, "v1", b"one", capacities={DATE: {SLOT: 10}})

    conflict = await publish(store, "v1", b"other", capacities={DATE: {SLOT: 99}})

    assert conflict.outcome == "version_conflict"
    assert await store.plan_body(VENUE, "v1") == b"one"
    assert len(await store.audit(VENUE)) == 1
    assert (await store.record_sale(sale(quantity=11))).remaining == 10


async def test_only_if_none_skips_when_a_plan_is_live(store: Store) -> None:
    assert (await publish(store, "v1", only_if_none=True)).outcome == "published"

    skipped = await publish(store, "v2", b"two", only_if_none=True)

    assert (skipped.outcome, skipped.previous) == ("skipped", "v1")
    assert await store.current_version(VENUE) == "v1"
    assert await store.plan_body(VENUE, "v2") is None


async def test_only_if_current_never_overwrites_a_publish_made_in_between(store: Store) -> None:
    await publish(store, "v1")
    derived_from_v1 = await publish(store, "v2", b"two", only_if_current="v1")
    assert derived_from_v1.outcome == "published"

    stale = await publish(store, "v3", b"three", only_if_current="v1")

    assert (stale.outcome, stale.previous) == ("skipped", "v2")
    assert await store.current_version(VENUE) == "v2"
    assert await store.plan_body(VENUE, "v3") is None
    assert [e.version for e in await store.audit(VENUE)] == ["v2", "v1"]


async def test_concurrent_publishes_only_if_none_make_exactly_one_live(store: Store) -> None:
    results = await asyncio.gather(
        *(publish(store, f"v{n}", f"body {n}".encode(), only_if_none=True) for n in range(10))
    )

    assert sorted(r.outcome for r in results) == ["published"] + ["skipped"] * 9
    assert len(await store.list_plans(VENUE)) == 1
    assert len(await store.audit(VENUE)) == 1


async def test_list_plans_is_newest_first_with_who_and_when(store: Store) -> None:
    await publish(store, "v1", b"one", actor="ana", at="2027-01-01T00:00:00Z")
    await publish(store, "v2", b"two", actor="ben", at="2027-01-02T00:00:00Z")

    plans = await store.list_plans(VENUE)

    assert [(p.version, p.published_by, p.published_at) for p in plans] == [
        ("v2", "ben", "2027-01-02T00:00:00Z"),
        ("v1", "ana", "2027-01-01T00:00:00Z"),
    ]
    assert await store.list_plans(OTHER_VENUE) == []


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

    assert await store.current_version(OTHER_VENUE) is None
    assert await store.plan_body(OTHER_VENUE, "v1") is None
    assert (await store.rollback(OTHER_VENUE, "v1", "ana", AT)).outcome == "not_found"


# --- audit ---------------------------------------------------------------------------------------


async def test_the_audit_lists_publishes_and_rollbacks_newest_first(store: Store) -> None:
    await publish(store, "v1", b"one", actor="ana", at="2027-01-01T00:00:00Z", details={"n": 1})
    await publish(store, "v2", b"two", actor="ben", at="2027-01-02T00:00:00Z", details={"n": [2]})
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
    assert await store.audit(OTHER_VENUE) == []


async def test_details_that_are_not_json_are_refused_and_write_nothing(store: Store) -> None:
    with pytest.raises(TypeError):
        await publish(store, "v1", details={"when": object()})

    assert await store.current_version(VENUE) is None
    assert await store.audit(VENUE) == []


async def test_ping_answers(store: Store) -> None:
    await store.ping()


# --- Redis only ----------------------------------------------------------------------------------


async def empty_redis(url: str) -> None:
    """What a Redis restarted without persistence holds: nothing."""
    client = redis.Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


@pytest.mark.redis
async def test_an_emptied_redis_is_noticed_and_refuses_sales_until_recovered(
    flushed_redis_url: str,
) -> None:
    # No day cache: FLUSHDB, unlike a restart, sends no notice and keeps the feed connected.
    store = RedisStore.from_url(flushed_redis_url, day_cache_seconds=0)
    try:
        await store.start([VENUE])
        await on_sale(store)
        assert (await store.record_sale(sale("before"))).outcome == "recorded"

        await empty_redis(flushed_redis_url)

        state = await store.day_state(VENUE, DATE)
        assert (state.lost, state.sold, state.plan_version) == (True, {}, None)
        assert (await store.record_sale(sale("after"))).outcome == "store_lost"
        assert await store.lost_venues() == [VENUE]
        # The way back: republish and reconcile (allowed while lost), then recover.
        await on_sale(store)
        await store.set_sold(VENUE, DATE, {SLOT: 2})
        assert (await store.record_sale(sale("after"))).outcome == "store_lost"

        await store.recover(VENUE)

        assert await store.lost_venues() == []
        assert (await store.day_state(VENUE, DATE)).lost is False
        assert (await store.record_sale(sale("after"))).outcome == "recorded"
        assert await store.sold_counts(VENUE, DATE) == {SLOT: 4}
    finally:
        await store.close()


@pytest.mark.redis
async def test_a_marker_a_fresh_worker_wrote_over_lost_data_still_means_lost(
    flushed_redis_url: str,
) -> None:
    old = RedisStore.from_url(flushed_redis_url, day_cache_seconds=0)
    fresh = RedisStore.from_url(flushed_redis_url, day_cache_seconds=0)
    try:
        await old.start([VENUE])
        await on_sale(old)
        await empty_redis(flushed_redis_url)
        await fresh.start([VENUE])  # it never saw the data: it marks what it finds

        assert await old.lost_venues() == [VENUE]
        assert await fresh.lost_venues() == []

        await old.recover(VENUE)  # an operator's recover is accepted by every worker

        assert await old.lost_venues() == []
        assert await fresh.lost_venues() == []
    finally:
        await old.close()
        await fresh.close()


@pytest.mark.redis
async def test_every_venue_key_carries_the_venue_hash_tag(
    redis_store: RedisStore, redis_url: str
) -> None:
    await publish(redis_store, "v1")
    before = int(time.time())
    await redis_store.record_sale(sale(quote_expires_at=before + 900))

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        keys = set(await client.keys("*"))
        order_ttl = await client.ttl(f"yg:{{{VENUE}}}:order:order-1")
        sold_ttl = await client.ttl(f"yg:{{{VENUE}}}:sold:{DATE}")
        quote_ttl = await client.ttl(f"yg:{{{VENUE}}}:quote:quote-order-1")
        audit_type = await client.type(f"yg:{{{VENUE}}}:audit")
    finally:
        await client.aclose()

    assert keys == {
        "yg:orders:order-1",
        f"yg:{{{VENUE}}}:order:order-1",
        f"yg:{{{VENUE}}}:sold:{DATE}",
        f"yg:{{{VENUE}}}:quote:quote-order-1",
        f"yg:{{{VENUE}}}:generation",
        f"yg:{{{VENUE}}}:plan:v1",
        f"yg:{{{VENUE}}}:plans",
        f"yg:{{{VENUE}}}:plans:meta",
        f"yg:{{{VENUE}}}:plan:current",
        f"yg:{{{VENUE}}}:capacity:v1",
        f"yg:{{{VENUE}}}:audit",
    }
    assert ORDER_TTL_SECONDS - 60 < order_ttl <= ORDER_TTL_SECONDS
    assert ORDER_TTL_SECONDS - 60 < sold_ttl <= ORDER_TTL_SECONDS
    # Remembered until the quote expires, and a minute more; the bounds hold however slow the
    # test runs, since the TTL only shrinks from what it was given.
    assert 0 < quote_ttl <= 900 + QUOTE_MEMORY_MARGIN_SECONDS
    assert audit_type == "stream"


@pytest.mark.redis
async def test_the_key_prefix_is_configurable(redis_url: str, redis_store: RedisStore) -> None:
    other = RedisStore.from_url(redis_url, key_prefix="other")
    try:
        await on_sale(other)
        await other.record_sale(sale())

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
            dead.record_sale(sale()),
            dead.cancel_sale("order-1", AT),
            publish(dead, "v1", b"one"),
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
