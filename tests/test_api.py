"""The HTTP API end to end (through the ASGI app), against the embedded store and real Redis."""

from __future__ import annotations

import pytest
from apitools import (
    CHECKOUT,
    MANAGER,
    MONDAY,
    TOMORROW,
    YESTERDAY,
    FakeClock,
    problem,
    quote,
    set_sold,
)
from fastapi.testclient import TestClient

# --- quotes -----------------------------------------------------------------------------------


def test_quote_prices_the_bootstrap_plan(client: TestClient) -> None:
    body = quote(client, tickets={"adult": 2, "senior": 1, "child": 1})
    assert [line["segment"] for line in body["lines"]] == ["adult", "senior", "child"]
    assert body["lines"][0] == {
        "segment": "adult",
        "quantity": 2,
        "unit_prices": [20.0, 20.0],
        "amount": 40.0,
    }
    assert body["lines"][1]["unit_prices"] == [16.0]  # senior 80% of 20
    assert body["lines"][2]["amount"] == 0.0
    assert body["total"] == 56.0
    assert body["vat"] == 4.62  # 56 * 0.09 / 1.09 = 4.6238
    assert body["currency"] == "EUR"
    assert body["off_peak"] is False and body["saving"] == 0.0
    assert body["stale"] is False
    assert body["expires_at"] == "2027-03-02T09:15:00Z"
    assert body["quote_id"].startswith("q_") and body["token"]
    assert "step 1 of 2" in body["explanation"]


def test_quote_walks_into_the_next_step(client: TestClient) -> None:
    # 11:00 has capacity 120 and the bootstrap plan's step rises after 84 tickets (70%).
    set_sold(client, TOMORROW, {"11:00": 83})
    body = quote(client, tickets={"adult": 3})
    assert body["lines"][0]["unit_prices"] == [20.0, 22.0, 22.0]
    assert body["total"] == 64.0
    assert "steps 1-2 of 2" in body["explanation"]


def test_quote_offers_cheaper_nearby_slots(client: TestClient) -> None:
    set_sold(client, TOMORROW, {"11:00": 100})
    body = quote(client, tickets={"adult": 1})
    assert body["total"] == 22.0
    slots = [alt["slot"] for alt in body["alternatives"]]
    assert len(slots) == 3 and "11:00" not in slots
    assert all(alt["price"] == 20.0 and alt["saving"] == 2.0 for alt in body["alternatives"])


@pytest.mark.parametrize(
    ("overrides", "status", "field", "words"),
    [
        ({"venue": "nowhere"}, 404, "venue", "unknown venue"),
        ({"slot": "10:15"}, 404, "slot", "not an entry slot"),
        ({"date": MONDAY}, 404, "date", "closed"),
        ({"date": "2027-06-30"}, 404, "date", "no prices are published"),
        ({"date": YESTERDAY}, 422, "date", "in the past"),
        ({"date": "03/03/2027"}, 422, "date", "not a date"),
        ({"date": "2027-03-02", "slot": "09:30"}, 404, "slot", "not an entry slot"),
        ({"tickets": {"adult": -1}}, 422, "tickets.adult", "at least 1"),
        ({"tickets": {"adult": 0}}, 422, "tickets.adult", "at least 1"),
        ({"tickets": {"pirate": 1}}, 422, "tickets.pirate", "unknown segment"),
        ({"tickets": {}}, 422, "tickets", "at least one ticket"),
        ({"tickets": {"adult": 15, "child": 6}}, 422, "tickets", "more than the 20"),
        ({"tickets": {"adult": "2"}}, 422, "tickets.adult", "integer"),
    ],
)
def test_quote_refuses_bad_requests(
    client: TestClient, overrides: dict, status: int, field: str, words: str
) -> None:
    body = {"venue": "city-museum", "date": TOMORROW, "slot": "11:00", "tickets": {"adult": 2}}
    body.update(overrides)
    answer = problem(client.post("/v1/quotes", json=body, headers=CHECKOUT), status, field)
    assert words in answer["detail"]


def test_quote_refuses_a_slot_that_is_over_today(client: TestClient, clock: FakeClock) -> None:
    clock.advance(hours=1, minutes=50)  # 11:50 local on the Tuesday
    body = {"venue": "city-museum", "date": "2027-03-02", "slot": "11:00", "tickets": {"adult": 1}}
    answer = problem(client.post("/v1/quotes", json=body, headers=CHECKOUT), 422, "slot")
    assert "is over" in answer["detail"]
    assert quote(client, date="2027-03-02", slot="11:30")["total"] == 40.0  # still running


def test_quote_for_a_missing_field_names_it(client: TestClient) -> None:
    body = {"venue": "city-museum", "date": TOMORROW, "tickets": {"adult": 2}}
    answer = problem(client.post("/v1/quotes", json=body, headers=CHECKOUT), 422, "slot")
    assert "slot" in answer["detail"]


def test_quote_body_that_is_not_json(client: TestClient) -> None:
    response = client.post(
        "/v1/quotes", content=b"{not json", headers={**CHECKOUT, "Content-Type": "application/json"}
    )
    assert "not valid JSON" in problem(response, 422)["detail"]


def test_sold_out_answers_409_with_alternatives(client: TestClient) -> None:
    set_sold(client, TOMORROW, {"11:00": 120})
    body = {"venue": "city-museum", "date": TOMORROW, "slot": "11:00", "tickets": {"adult": 2}}
    answer = problem(client.post("/v1/quotes", json=body, headers=CHECKOUT), 409, "slot")
    assert answer["detail"] == "11:00 is sold out"
    assert answer["remaining"] == 0
    assert [a["slot"] for a in answer["alternatives"]] == ["10:30", "11:30", "10:00"]


def test_order_larger_than_what_is_left_is_409(client: TestClient) -> None:
    set_sold(client, TOMORROW, {"11:00": 118})
    body = {"venue": "city-museum", "date": TOMORROW, "slot": "11:00", "tickets": {"adult": 3}}
    answer = problem(client.post("/v1/quotes", json=body, headers=CHECKOUT), 409, "slot")
    assert "has 2 tickets left" in answer["detail"]


# --- keys and roles ---------------------------------------------------------------------------


def test_missing_and_wrong_keys_are_401(client: TestClient) -> None:
    body = {"venue": "city-museum", "date": TOMORROW, "slot": "11:00", "tickets": {"adult": 2}}
    assert "Bearer" in problem(client.post("/v1/quotes", json=body), 401)["detail"]
    wrong = {"Authorization": "Bearer nope"}
    assert (
        "not valid" in problem(client.post("/v1/quotes", json=body, headers=wrong), 401)["detail"]
    )


def test_checkout_key_cannot_manage(client: TestClient) -> None:
    response = client.get("/v1/plans?venue=city-museum", headers=CHECKOUT)
    assert "manager role" in problem(response, 403)["detail"]
    response = client.put(
        f"/v1/venues/city-museum/inventory/{TOMORROW}", json={"sold": {}}, headers=CHECKOUT
    )
    problem(response, 403)


def test_manager_key_may_quote(client: TestClient) -> None:
    body = {"venue": "city-museum", "date": TOMORROW, "slot": "11:00", "tickets": {"adult": 1}}
    assert client.post("/v1/quotes", json=body, headers=MANAGER).status_code == 200


# --- prices -----------------------------------------------------------------------------------


def test_prices_list_the_day(client: TestClient) -> None:
    set_sold(client, TOMORROW, {"10:00": 110, "10:30": 120, "11:00": 84})
    response = client.get(f"/v1/venues/city-museum/prices?date={TOMORROW}", headers=CHECKOUT)
    assert response.status_code == 200
    body = response.json()
    slots = {s["slot"]: s for s in body["slots"]}
    assert len(slots) == 16 and body["plan_version"] and body["currency"] == "EUR"
    assert slots["10:00"]["availability"] == "few_left"
    assert slots["10:30"]["availability"] == "sold_out"
    assert slots["12:00"]["availability"] == "available"
    assert slots["11:00"]["price"] == 22.0 and slots["12:00"]["price"] == 20.0
    assert slots["12:00"]["segment_prices"] == {
        "adult": 20.0,
        "senior": 16.0,
        "student": 12.0,
        "child": 0.0,
        "member": 0.0,
    }
    assert slots["17:30"]["capacity"] == 40
    assert response.headers["cache-control"] == "max-age=5"
    etag = response.headers["etag"]
    again = client.get(
        f"/v1/venues/city-museum/prices?date={TOMORROW}",
        headers={**CHECKOUT, "If-None-Match": etag},
    )
    assert again.status_code == 304
    set_sold(client, TOMORROW, {"12:00": 1})
    changed = client.get(
        f"/v1/venues/city-museum/prices?date={TOMORROW}",
        headers={**CHECKOUT, "If-None-Match": etag},
    )
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_prices_today_leave_out_slots_that_are_over(client: TestClient) -> None:
    response = client.get("/v1/venues/city-museum/prices?date=2027-03-02", headers=CHECKOUT)
    assert [s["slot"] for s in response.json()["slots"]][:2] == ["10:00", "10:30"]


def test_prices_errors(client: TestClient) -> None:
    problem(client.get(f"/v1/venues/zoo/prices?date={TOMORROW}", headers=CHECKOUT), 404, "venue")
    problem(
        client.get(f"/v1/venues/city-museum/prices?date={MONDAY}", headers=CHECKOUT), 404, "date"
    )
    problem(client.get("/v1/venues/city-museum/prices?date=soon", headers=CHECKOUT), 422, "date")
    problem(client.get("/v1/venues/city-museum/prices", headers=CHECKOUT), 422, "date")


# --- operations -------------------------------------------------------------------------------


def test_health_readiness_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    version = quote(client)["plan_version"]
    problem(client.post("/v1/quotes", json={}, headers=CHECKOUT), 422)
    text = client.get("/metrics").text
    assert 'route="/v1/quotes",status="2xx"' in text
    assert 'route="/v1/quotes",status="4xx"' in text
    assert 'yieldgate_quotes_total{outcome="quoted"}' in text
    assert f'yieldgate_live_plan_info{{venue="city-museum",version="{version}"}} 1.0' in text


def test_unknown_routes_answer_problem_details(client: TestClient) -> None:
    problem(client.get("/v1/nothing-here", headers=CHECKOUT), 404)
    problem(client.get("/v1/nothing-here"), 401)  # keyed: the key is checked before routing
    problem(client.delete("/v1/quotes", headers=CHECKOUT), 405)
