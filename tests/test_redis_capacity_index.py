"""A Redis that holds plans published before each version kept its capacities (an upgrade):
the first sale indexes the live version's capacities from its stored body, then sells."""

from __future__ import annotations

import json

import pytest
import redis.asyncio as redis

from api.store import SaleRequest
from api.store.redis_store import RedisStore

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

PLAN = {
    "venue": "city-museum",
    "version": "v-old",
    "currency": "EUR",
    "days": [
        {
            "date": "2027-03-03",
            "slots": [{"slot": "10:00", "capacity": 3, "steps": [{"price": 20, "units": 3}]}],
        }
    ],
}


def sale(order_id: str, quantity: int) -> SaleRequest:
    return SaleRequest(
        order_id, "city-museum", "2027-03-03", "10:00", quantity, order_id, b"{}", order_id, 0
    )


async def test_a_version_without_kept_capacities_is_indexed_from_its_body(
    redis_store: RedisStore, flushed_redis_url: str
) -> None:
    await redis_store.publish_plan(
        "city-museum",
        "v-old",
        json.dumps(PLAN).encode(),
        "test",
        "now",
        {},
        capacities={"2027-03-03": {"10:00": 3}},
    )
    raw = redis.Redis.from_url(flushed_redis_url)
    await raw.delete("yg:{city-museum}:capacity:v-old")  # as a version published before
    await raw.aclose()

    assert (await redis_store.record_sale(sale("a", 2))).outcome == "recorded"
    refused = await redis_store.record_sale(sale("b", 2))
    assert refused.outcome == "sold_out" and refused.remaining == 1
