"""The promises of the money path (issue 10): one quote pays for one order, a sale is held to
the capacity of the plan live at that moment, and a publish replaces only the dates it brings."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from apitools import MANAGER, TOMORROW, problem, quote, quote_response, sell, sold_on
from fastapi.testclient import TestClient

from pricing.errors import Conflict

DAY_AFTER = (dt.date.fromisoformat(TOMORROW) + dt.timedelta(1)).isoformat()


def plan(date: str = TOMORROW, capacity: int = 120, *, slots: tuple[str, ...] = ("11:00",)) -> dict:
    return {
        "venue": "city-museum",
        "currency": "EUR",
        "days": [
            {
                "date": date,
                "slots": [
                    {"slot": slot, "capacity": capacity, "steps": [{"price": 22.0, "units": 200}]}
                    for slot in slots
                ],
            }
        ],
    }


def publish(client: TestClient, body: dict, query: str = "") -> dict[str, Any]:
    response = client.post(f"/v1/plans{query}", json=body, headers=MANAGER)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def quotes(client: TestClient, count: int, adults: int) -> list[dict[str, Any]]:
    return [quote(client, tickets={"adult": adults}) for _ in range(count)]


# --- one quote, one order -----------------------------------------------------------------------


def test_a_quote_pays_for_one_order_only(client: TestClient) -> None:
    quoted = quote(client, tickets={"adult": 20})
    assert sell(client, quoted, "order-1").status_code == 201

    for order_id in ("order-2", "order-3"):
        refused = problem(sell(client, quoted, order_id), 409, "token")
        assert quoted["quote_id"] in refused["detail"] and "order-1" in refused["detail"]
        assert refused["quote_id"] == quoted["quote_id"]
    again = sell(client, quoted, "order-1")  # the first order's retry is still answered
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert sold_on(client, TOMORROW, "11:00") == 20


def test_orders_racing_on_one_quote_sell_it_once(client: TestClient) -> None:
    quoted = quote(client, tickets={"adult": 3})
    services = client.app.state.services  # type: ignore[attr-defined]

    async def race() -> list[Any]:
        return await asyncio.gather(
            *(
                services.sales.sell(
                    f"racer-{n}", "city-museum", TOMORROW, "11:00", {"adult": 3}, quoted["token"]
                )
                for n in range(20)
            ),
            return_exceptions=True,
        )

    outcomes = client.portal.call(race)  # type: ignore[union-attr]
    sold = [o for o in outcomes if isinstance(o, tuple)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(sold) == 1 and len(refused) == 19, outcomes
    assert sold_on(client, TOMORROW, "11:00") == 3


# --- capacity from the live plan ----------------------------------------------------------------


def test_quotes_taken_before_a_capacity_cut_cannot_oversell(client: TestClient) -> None:
    before_the_cut = quotes(client, 12, adults=10)  # 120 tickets' worth at the old capacity
    publish(client, plan(capacity=20))

    answers = [sell(client, q, f"order-{n}").status_code for n, q in enumerate(before_the_cut)]
    assert answers.count(201) == 2 and answers.count(409) == 10
    assert sold_on(client, TOMORROW, "11:00") == 20
    assert problem(sell(client, before_the_cut[-1], "again"), 409, "slot")["remaining"] == 0


def test_fresh_quotes_between_old_sales_do_not_loosen_the_cut(client: TestClient) -> None:
    before_the_cut = quotes(client, 6, adults=10)
    publish(client, plan(capacity=20))
    statuses = []
    for n, old in enumerate(before_the_cut):
        quote_response(client, tickets={"adult": 1})  # a fresh quote refreshes the caches
        statuses.append(sell(client, old, f"order-{n}").status_code)
    assert statuses.count(201) == 2
    assert sold_on(client, TOMORROW, "11:00") == 20


def test_a_slot_taken_out_of_the_live_plan_cannot_be_sold(client: TestClient) -> None:
    quoted = quote(client, tickets={"adult": 2})
    publish(client, plan(slots=("11:30",)))  # tomorrow now sells 11:30 only

    refused = problem(sell(client, quoted), 409, "slot")
    assert "not on sale" in refused["detail"]
    assert sold_on(client, TOMORROW, "11:00") == 0


def test_a_day_taken_out_of_the_live_plan_cannot_be_sold(client: TestClient) -> None:
    quoted = quote(client, tickets={"adult": 2})
    publish(client, plan(DAY_AFTER), "?replace=all")

    problem(sell(client, quoted), 409, "slot")
    assert sold_on(client, TOMORROW, "11:00") == 0


def test_a_rollback_restores_the_capacity_sales_are_held_to(client: TestClient) -> None:
    bootstrap = quote(client)["plan_version"]
    old = quotes(client, 3, adults=10)
    publish(client, plan(capacity=5))
    assert problem(sell(client, old[0], "cut"), 409, "slot")["remaining"] == 5

    response = client.post(f"/v1/plans/{bootstrap}/rollback?venue=city-museum", headers=MANAGER)
    assert response.status_code == 200
    assert [sell(client, q, f"order-{n}").status_code for n, q in enumerate(old)] == [201] * 3


def test_the_quoted_price_is_honoured_under_a_new_plan_where_capacity_allows(
    client: TestClient,
) -> None:
    quoted = quote(client, tickets={"adult": 2})
    publish(client, plan(capacity=50))  # 22.00 from now on
    assert quote(client, tickets={"adult": 2})["total"] == 44.0
    sale = sell(client, quoted).json()
    assert sale["total"] == quoted["total"] == 40.0


# --- publishing merges by date ------------------------------------------------------------------


def test_publishing_one_day_keeps_every_other_date_on_sale(client: TestClient) -> None:
    before = quote(client, date=DAY_AFTER)
    published = publish(client, plan())

    assert published["days_from_plan"] == 1 and published["days_kept"] >= 30
    assert quote(client)["total"] == 44.0  # tomorrow: the new plan's 22.00
    after = quote(client, date=DAY_AFTER)
    assert after["total"] == before["total"] and after["plan_version"] == published["version"]
    audit = client.get("/v1/plans/audit?venue=city-museum", headers=MANAGER).json()["entries"]
    assert audit[0]["details"]["replace"] == "dates"
    assert audit[0]["details"]["days_kept"] == published["days_kept"]


def test_replacing_everything_is_explicit_and_audited(client: TestClient) -> None:
    publish(client, plan(), "?replace=all")

    assert quote(client)["total"] == 44.0
    problem(quote_response(client, date=DAY_AFTER), 404, "date")
    audit = client.get("/v1/plans/audit?venue=city-museum", headers=MANAGER).json()["entries"]
    assert audit[0]["details"]["replace"] == "all" and audit[0]["details"]["days_kept"] == 0
    problem(client.post("/v1/plans?replace=some", json=plan(), headers=MANAGER), 422, "replace")


def test_an_empty_plan_is_refused_and_changes_nothing(client: TestClient) -> None:
    live = quote(client)["plan_version"]
    empty = {"venue": "city-museum", "currency": "EUR", "days": []}
    for query in ("", "?replace=all"):
        problem(client.post(f"/v1/plans{query}", json=empty, headers=MANAGER), 422, "days")
    assert quote(client)["plan_version"] == live


def test_publishes_racing_on_one_venue_both_land(client: TestClient) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]

    async def race() -> list[Any]:
        return await asyncio.gather(
            services.plans.publish(plan(TOMORROW), "manager:a"),
            services.plans.publish(plan(DAY_AFTER), "manager:b"),
        )

    client.portal.call(race)  # type: ignore[union-attr]
    assert quote(client)["total"] == 44.0
    assert quote(client, date=DAY_AFTER)["total"] == 44.0


def test_a_retried_publish_of_the_same_version_changes_nothing(client: TestClient) -> None:
    body = {**plan(), "version": "v-retry"}
    first = publish(client, body)
    again = publish(client, body)
    assert again["version"] == first["version"] == "v-retry"
    assert again["days"] == first["days"]
    listed = client.get("/v1/plans?venue=city-museum", headers=MANAGER).json()["plans"]
    assert [p["version"] for p in listed].count("v-retry") == 1
    changed = {**plan(capacity=10), "version": "v-retry"}
    problem(client.post("/v1/plans", json=changed, headers=MANAGER), 409, "version")
