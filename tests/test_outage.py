"""Redis goes away mid-service and comes back: quotes go stale, sales wait, nothing is half-written.

The test runs a Redis server of its own (append-only file on, in a temporary directory) so it
can stop and restart it without touching the shared one.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from apitools import (
    CHECKOUT,
    CHECKOUT_KEY,
    MANAGER,
    MANAGER_KEY,
    NOW,
    TOMORROW,
    FakeClock,
    quote,
)
from fastapi.testclient import TestClient

from api.app import create_app
from api.devserver import LocalRedis
from api.settings import EXAMPLE_VENUES, Settings


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[LocalRedis]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (.ci/run installs it)", pytrace=False)
    server = LocalRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_quotes_survive_a_redis_outage_and_sales_resume(own_redis: LocalRedis) -> None:
    settings = Settings(
        redis_url=own_redis.url,
        api_keys=f"checkout:{CHECKOUT_KEY},manager:{MANAGER_KEY}",
        token_keys="test-signing-key",
        venues_dir=EXAMPLE_VENUES,
        store_retry_seconds=0,
        store_timeout_seconds=0.3,
    )
    clock = FakeClock(NOW)
    with TestClient(create_app(settings, clock=clock)) as client:
        before = quote(client)
        sale = {
            "order_id": "o-1",
            "venue": "city-museum",
            "date": TOMORROW,
            "slot": "11:00",
            "tickets": {"adult": 2},
            "token": before["token"],
        }
        assert client.post("/v1/sales", json=sale, headers=CHECKOUT).status_code == 201
        assert quote(client)["stale"] is False  # reads the counts with the sale in them

        own_redis.stop()
        during = quote(client)
        assert during["stale"] is True
        assert during["plan_version"] == before["plan_version"]
        assert during["total"] == before["total"]
        prices = client.get(f"/v1/venues/city-museum/prices?date={TOMORROW}", headers=CHECKOUT)
        assert prices.status_code == 200 and prices.json()["stale"] is True
        # the last counts seen are used: 2 sold before the outage
        assert {s["slot"]: s["remaining"] for s in prices.json()["slots"]}["11:00"] == 118

        refused = client.post(
            "/v1/sales",
            json={**sale, "order_id": "o-2", "token": during["token"]},
            headers=CHECKOUT,
        )
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        assert refused.headers["content-type"] == "application/problem+json"
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200
        inventory = client.get(f"/v1/venues/city-museum/inventory/{TOMORROW}", headers=MANAGER)
        assert inventory.status_code == 503

        own_redis.start()
        after = quote(client)
        assert after["stale"] is False
        assert client.get("/readyz").status_code == 200
        retried = client.post(
            "/v1/sales",
            json={**sale, "order_id": "o-2", "token": during["token"]},
            headers=CHECKOUT,
        )
        assert retried.status_code == 201
        inventory = client.get(f"/v1/venues/city-museum/inventory/{TOMORROW}", headers=MANAGER)
        assert inventory.json()["sold"]["11:00"] == 4  # o-1 and o-2, each exactly once
