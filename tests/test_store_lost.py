"""A Redis that comes back empty (restarted without persistence, failed over to an empty
replica) is noticed: not ready, sales refused rather than counted from zero, quotes answered
stale from the cached plan, and a documented way back (issue 10)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from apitools import CHECKOUT_KEY, MANAGER, MANAGER_KEY, TOMORROW, FakeClock, problem, quote, sell
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import EXAMPLE_VENUES, Settings

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_client(flushed_redis_url: str, clock: FakeClock) -> Iterator[TestClient]:
    settings = Settings(
        redis_url=flushed_redis_url,
        api_keys=f"checkout:{CHECKOUT_KEY},manager:{MANAGER_KEY}",
        token_keys="test-signing-key",
        venues_dir=EXAMPLE_VENUES,
        bootstrap_days=60,
        # FLUSHDB, unlike a restart, keeps the change-notice connection up, so the day cache
        # would serve the state from before the loss for up to its second; a restart drops the
        # connection and darkens the cache at once (loadtests/faults.py restarts a real Redis).
        day_cache_seconds=0,
    )
    with TestClient(create_app(settings, clock=clock)) as test_client:
        yield test_client


def empty_redis(url: str) -> None:
    """What a restart without persistence leaves: nothing at all."""
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def recover(client: TestClient) -> dict:
    response = client.post("/v1/venues/city-museum/recover", headers=MANAGER)
    assert response.status_code == 200, response.text
    answer: dict = response.json()
    return answer


def test_an_emptied_redis_is_not_ready_and_refuses_sales(
    redis_client: TestClient, flushed_redis_url: str
) -> None:
    before = quote(redis_client)
    assert sell(redis_client, before, "order-1").status_code == 201
    kept_token = quote(redis_client)
    empty_redis(flushed_redis_url)

    ready = problem(redis_client.get("/readyz"), 503)
    assert "city-museum" in ready["detail"] and "recover" in ready["detail"]
    assert ready["type"].endswith("/unavailable")

    refused = redis_client.post(
        "/v1/sales",
        json={
            "order_id": "order-2",
            "venue": "city-museum",
            "date": TOMORROW,
            "slot": "11:00",
            "tickets": {"adult": 2},
            "token": kept_token["token"],
        },
        headers={"Authorization": f"Bearer {CHECKOUT_KEY}"},
    )
    assert problem(refused, 503)["detail"].startswith("the store lost city-museum's sales")
    assert refused.headers["retry-after"]
    # The old order is refused too, rather than recorded a second time from zero.
    assert sell(redis_client, before, "order-1").status_code == 503

    cancel = redis_client.post("/v1/sales/order-1/cancel", headers=MANAGER)
    assert "lost the data of city-museum" in problem(cancel, 503)["detail"]

    stale = quote(redis_client)
    assert stale["stale"] is True and stale["plan_version"] == before["plan_version"]
    assert stale["total"] == before["total"]
    metrics = redis_client.get("/metrics").text
    assert 'yieldgate_store_lost{venue="city-museum"} 1.0' in metrics


def test_recovery_republishes_the_held_plan_and_sales_resume_once(
    redis_client: TestClient, flushed_redis_url: str
) -> None:
    before = quote(redis_client)
    assert sell(redis_client, before, "order-1").status_code == 201
    pending = quote(redis_client)
    empty_redis(flushed_redis_url)
    assert sell(redis_client, pending, "order-2").status_code == 503

    # Reconcile first (allowed while lost), then recover.
    reconciled = redis_client.put(
        f"/v1/venues/city-museum/inventory/{TOMORROW}", json={"sold": {"11:00": 2}}, headers=MANAGER
    )
    assert reconciled.status_code == 200, reconciled.text
    recovered = recover(redis_client)
    assert recovered["republished"] == before["plan_version"]
    assert recovered["live_version"] == before["plan_version"]
    assert recovered["last_seen_sold"][TOMORROW]["11:00"] == 2

    assert redis_client.get("/readyz").status_code == 200
    assert quote(redis_client)["stale"] is False
    assert sell(redis_client, pending, "order-2").status_code == 201  # the retry, once
    assert sell(redis_client, pending, "order-2").status_code == 200
    inventory = redis_client.get(f"/v1/venues/city-museum/inventory/{TOMORROW}", headers=MANAGER)
    assert inventory.json()["sold"]["11:00"] == 4
    metrics = redis_client.get("/metrics").text
    assert 'yieldgate_store_lost{venue="city-museum"} 0.0' in metrics


def test_recovering_a_store_that_lost_nothing_is_409(redis_client: TestClient) -> None:
    problem(redis_client.post("/v1/venues/city-museum/recover", headers=MANAGER), 409)


def test_recovery_without_a_held_plan_asks_for_a_publish(
    redis_client: TestClient, flushed_redis_url: str
) -> None:
    empty_redis(flushed_redis_url)  # before this worker ever priced from a plan
    refused = problem(redis_client.post("/v1/venues/city-museum/recover", headers=MANAGER), 409)
    assert "POST /v1/plans" in refused["detail"]

    bootstrap_like = redis_client.post(
        "/v1/plans",
        json={
            "venue": "city-museum",
            "currency": "EUR",
            "days": [
                {
                    "date": TOMORROW,
                    "slots": [
                        {"slot": "11:00", "capacity": 120, "steps": [{"price": 18, "units": 120}]}
                    ],
                }
            ],
        },
        headers=MANAGER,
    )
    assert bootstrap_like.status_code == 201, bootstrap_like.text
    assert recover(redis_client)["republished"] is None
    assert sell(redis_client, quote(redis_client), "order-1").status_code == 201
