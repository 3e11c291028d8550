"""Sales honour the signed quote, exactly once; cancellations release once; reconciliation."""

from __future__ import annotations

import base64

from apitools import CHECKOUT, MANAGER, TOMORROW, FakeClock, problem, quote, sell, set_sold, sold_on
from fastapi.testclient import TestClient


def test_a_sale_is_recorded_at_the_quoted_price(client: TestClient) -> None:
    quoted = quote(client, tickets={"adult": 2, "child": 1})
    response = sell(client, quoted)
    assert response.status_code == 201, response.text
    sale = response.json()
    assert sale["status"] == "confirmed" and sale["order_id"] == "order-1"
    assert sale["total"] == quoted["total"] == 40.0
    assert sale["quote_id"] == quoted["quote_id"]
    assert sale["plan_version"] == quoted["plan_version"]
    assert sold_on(client, TOMORROW, "11:00") == 3


def test_the_quoted_price_is_honoured_after_prices_rise(client: TestClient) -> None:
    quoted = quote(client, tickets={"adult": 2})
    set_sold(client, TOMORROW, {"11:00": 100})  # the slot is now in its higher step
    assert quote(client, tickets={"adult": 2})["total"] == 44.0
    sale = sell(client, quoted).json()
    assert sale["total"] == 40.0
    assert sold_on(client, TOMORROW, "11:00") == 102


def test_a_replayed_sale_returns_the_first_answer_once(client: TestClient) -> None:
    quoted = quote(client)
    first = sell(client, quoted)
    again = sell(client, quoted)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert sold_on(client, TOMORROW, "11:00") == 2


def test_the_same_order_id_with_another_body_is_409(client: TestClient) -> None:
    sell(client, quote(client))
    other = quote(client, slot="12:00")
    answer = problem(sell(client, other), 409, "order_id")
    assert "already used" in answer["detail"]
    assert sold_on(client, TOMORROW, "12:00") == 0


def test_a_tampered_token_is_refused(client: TestClient) -> None:
    quoted = quote(client)
    payload, mac = quoted["token"].split(".")
    cheaper = base64.urlsafe_b64decode(payload + "==")
    assert b"]]],4000," in cheaper
    cheaper = cheaper.replace(b"]]],4000,", b"]]],400,")
    forged = base64.urlsafe_b64encode(cheaper).rstrip(b"=").decode() + "." + mac
    answer = problem(sell(client, quoted, token=forged), 422, "token")
    assert "signature does not verify" in answer["detail"]
    assert "malformed" in problem(sell(client, quoted, token="garbage"), 422, "token")["detail"]


def test_an_expired_quote_is_refused(client: TestClient, clock: FakeClock) -> None:
    quoted = quote(client)
    clock.advance(minutes=15)
    assert "expired" in problem(sell(client, quoted), 422, "token")["detail"]


def test_a_retry_after_the_quote_expired_gets_the_first_answer(
    client: TestClient, clock: FakeClock
) -> None:
    quoted = quote(client)
    first = sell(client, quoted)
    clock.advance(hours=1)
    again = sell(client, quoted)
    assert again.status_code == 200 and again.json() == first.json()
    assert "expired" in problem(sell(client, quoted, order_id="order-2"), 422, "token")["detail"]


def test_a_token_for_another_order_is_refused(client: TestClient) -> None:
    quoted = quote(client, tickets={"adult": 2})
    answer = problem(sell(client, quoted, slot="12:00"), 422, "slot")
    assert "'11:00'" in answer["detail"]
    answer = problem(sell(client, quoted, tickets={"adult": 3}), 422, "tickets")
    assert "quoted tickets" in answer["detail"]


def test_a_sale_beyond_capacity_is_refused(client: TestClient) -> None:
    set_sold(client, TOMORROW, {"11:00": 117})
    quoted = quote(client, tickets={"adult": 3})
    set_sold(client, TOMORROW, {"11:00": 119})  # the ticketing system sold two meanwhile
    answer = problem(sell(client, quoted), 409, "slot")
    assert "1 tickets left" in answer["detail"]
    assert sold_on(client, TOMORROW, "11:00") == 119


def test_cancel_releases_the_tickets_once(client: TestClient) -> None:
    sell(client, quote(client, tickets={"adult": 2}))
    first = client.post("/v1/sales/order-1/cancel", headers=CHECKOUT)
    assert first.status_code == 200
    assert first.json()["released"] == 2 and first.json()["already_cancelled"] is False
    again = client.post("/v1/sales/order-1/cancel", headers=CHECKOUT)
    assert again.json()["released"] == 0 and again.json()["already_cancelled"] is True
    assert sold_on(client, TOMORROW, "11:00") == 0
    problem(client.post("/v1/sales/nope/cancel", headers=CHECKOUT), 404, "order_id")


def test_sale_request_errors(client: TestClient) -> None:
    quoted = quote(client)
    problem(sell(client, quoted, order_id=""), 422, "order_id")
    problem(sell(client, quoted, order_id="has space"), 422, "order_id")
    body = {"order_id": "x", "venue": "city-museum"}
    problem(client.post("/v1/sales", json=body, headers=CHECKOUT), 422)


def test_inventory_reconciliation_replaces_the_day(client: TestClient) -> None:
    set_sold(client, TOMORROW, {"10:00": 57, "10:30": 3})
    set_sold(client, TOMORROW, {"10:00": 60})
    response = client.get(f"/v1/venues/city-museum/inventory/{TOMORROW}", headers=MANAGER)
    body = response.json()
    assert body["sold"]["10:00"] == 60 and body["sold"]["10:30"] == 0
    assert body["capacity"]["17:30"] == 40 and len(body["sold"]) == 16


def test_inventory_errors_name_the_slot(client: TestClient) -> None:
    path = f"/v1/venues/city-museum/inventory/{TOMORROW}"
    set_sold(client, TOMORROW, {"10:00": 5})
    for sold, words in (
        ({"10:15": 1}, "not an entry slot"),
        ({"10:00": -1}, "0 or more"),
        ({"17:30": 41}, "above the slot's capacity of 40"),
    ):
        field = f"sold.{next(iter(sold))}"
        answer = problem(client.put(path, json={"sold": sold}, headers=MANAGER), 422, field)
        assert words in answer["detail"]
    assert sold_on(client, TOMORROW, "10:00") == 5  # nothing was lost
    problem(
        client.put(
            "/v1/venues/city-museum/inventory/2027-03-08", json={"sold": {}}, headers=MANAGER
        ),
        404,
        "date",
    )
