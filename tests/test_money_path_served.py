"""The money path's promises through a real `yieldgate serve` with 2 workers, on each store:
a quote raced by many orders sells once, and old quotes cannot oversell a slot after a cut."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from apitools import next_wednesday

from api.devserver import start_service, stop_service

CHECKOUT = "ck_served"
MANAGER = "mk_served"
DATE = next_wednesday()  # an open day, whatever today is


def call(base: str, method: str, path: str, key: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    env = {
        "YIELDGATE_API_KEYS": f"checkout:{CHECKOUT},manager:{MANAGER}",
        "YIELDGATE_DB_PATH": str(tmp_path / "yieldgate.db"),
        "YIELDGATE_BOOTSTRAP_DAYS": "14",
        "REDIS_URL": request.getfixturevalue("flushed_redis_url")
        if request.param == "redis"
        else "",
    }
    process, base = start_service(["--workers", "2"], env)
    try:
        yield base, first_open_slot(base)
    finally:
        stop_service(process)


def first_open_slot(base: str) -> str:
    status, prices = call(base, "GET", f"/v1/venues/city-museum/prices?date={DATE}", CHECKOUT)
    assert status == 200, prices
    slot: str = prices["slots"][0]["slot"]
    return slot


def quote(base: str, slot: str, adults: int) -> dict[str, Any]:
    order = {"venue": "city-museum", "date": DATE, "slot": slot, "tickets": {"adult": adults}}
    status, answer = call(base, "POST", "/v1/quotes", CHECKOUT, order)
    assert status == 200, answer
    return {**order, "token": answer["token"]}


def sell(base: str, quoted: dict[str, Any], order_id: str) -> int:
    return call(base, "POST", "/v1/sales", CHECKOUT, {**quoted, "order_id": order_id})[0]


def sold(base: str, slot: str) -> int:
    status, inventory = call(base, "GET", f"/v1/venues/city-museum/inventory/{DATE}", MANAGER)
    assert status == 200, inventory
    count: int = inventory["sold"][slot]
    return count


def test_orders_racing_on_one_quote_across_workers_sell_it_once(
    service: tuple[str, str],
) -> None:
    base, slot = service
    quoted = quote(base, slot, adults=2)
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda n: sell(base, quoted, f"racer-{n}"), range(20)))
    assert statuses.count(201) == 1 and statuses.count(409) == 19, statuses
    assert sold(base, slot) == 2


def test_old_quotes_cannot_oversell_a_cut_slot_across_workers(service: tuple[str, str]) -> None:
    base, slot = service
    old = [quote(base, slot, adults=3) for _ in range(20)]  # 60 tickets, quoted at capacity 120
    cut = {
        "venue": "city-museum",
        "currency": "EUR",
        "days": [
            {
                "date": DATE,
                "slots": [{"slot": slot, "capacity": 20, "steps": [{"price": 20, "units": 20}]}],
            }
        ],
    }
    status, published = call(base, "POST", "/v1/plans", MANAGER, cut)
    assert status == 201, published

    def sell_old_or_fresh(n: int) -> int:
        if n % 2:  # fresh quotes in between reach both workers' caches
            call(base, "GET", f"/v1/venues/city-museum/prices?date={DATE}", CHECKOUT)
        return sell(base, old[n], f"order-{n}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(sell_old_or_fresh, range(len(old))))
    assert statuses.count(201) == 6 and statuses.count(409) == 14, statuses  # 6 x 3 <= 20
    assert sold(base, slot) == 18
