"""Helpers for the API tests: keys, a movable clock, and short ways to quote and check errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response

CHECKOUT_KEY = "ck_test_checkout"
MANAGER_KEY = "mk_test_manager"
CHECKOUT = {"Authorization": f"Bearer {CHECKOUT_KEY}"}
MANAGER = {"Authorization": f"Bearer {MANAGER_KEY}"}
# 10:00 on Tuesday 2 March 2027 in Amsterdam (CET, UTC+1).
NOW = dt.datetime(2027, 3, 2, 9, 0, tzinfo=dt.UTC)
TOMORROW = "2027-03-03"  # a Wednesday: 10:00-18:00, 16 slots
MONDAY = "2027-03-08"  # closed
YESTERDAY = "2027-03-01"


class FakeClock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def quote_response(client: TestClient, **overrides: object) -> Response:
    """POST /v1/quotes for 2 adults at 11:00 tomorrow, with `overrides` to the body."""
    body = {"venue": "city-museum", "date": TOMORROW, "slot": "11:00", "tickets": {"adult": 2}}
    body.update(overrides)
    return client.post("/v1/quotes", json=body, headers=CHECKOUT)


def quote(client: TestClient, **overrides: object) -> dict[str, Any]:
    response = quote_response(client, **overrides)
    assert response.status_code == 200, response.text
    return response.json()


def next_wednesday() -> str:
    """A Wednesday ahead of the real today (city-museum is open 10:00-18:00), for tests against a
    real service, which runs on the real clock."""
    today = dt.date.today()
    return str(today + dt.timedelta(days=(2 - today.weekday()) % 7 or 7))


def problem(response: Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if field is not None:
        assert body["field"] == field, body
    return body


def set_sold(client: TestClient, date: str, sold: dict[str, int]) -> None:
    response = client.put(
        f"/v1/venues/city-museum/inventory/{date}", json={"sold": sold}, headers=MANAGER
    )
    assert response.status_code == 200, response.text


def sell(client: TestClient, quoted: dict, order_id: str = "order-1", **overrides: object):  # type: ignore[no-untyped-def]
    body = {
        "order_id": order_id,
        "venue": quoted["venue"],
        "date": quoted["date"],
        "slot": quoted["slot"],
        "tickets": {line["segment"]: line["quantity"] for line in quoted["lines"]},
        "token": quoted["token"],
    }
    body.update(overrides)
    return client.post("/v1/sales", json=body, headers=CHECKOUT)


def sold_on(client: TestClient, date: str, slot: str) -> int:
    response = client.get(f"/v1/venues/city-museum/inventory/{date}", headers=MANAGER)
    return response.json()["sold"][slot]
