"""What-if scenarios through the API, on both stores: compare, publish, roll back, refuse."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
from apitools import CHECKOUT, MANAGER, TOMORROW, FakeClock, problem, quote, set_sold
from fastapi.testclient import TestClient
from scenariotools import (
    VENUE,
    history_csv,
    run_scenario,
    scenario_body,
    scenario_plan,
    upload_history,
    wait_until_done,
)

from api import scenarios
from api.clock import iso_utc
from api.scenarios import STALLED_AFTER_SECONDS

KPIS = {
    "revenue",
    "attendance",
    "average_price",
    "peak_occupancy",
    "comfort_overflow",
    "off_peak_share",
}
SATURDAY = "2027-03-13"


def prices_of(plan: dict, date: str) -> dict[str, float]:
    """Each slot's opening price on `date` (nothing sold)."""
    day = next(d for d in plan["days"] if d["date"] == date)
    return {slot["slot"]: slot["steps"][0]["price"] for slot in day["slots"]}


def test_a_scenario_compares_its_plan_with_the_live_one(client: TestClient) -> None:
    upload_history(client)
    live_version = client.get(f"/v1/plans?venue={VENUE}", headers=MANAGER).json()["current"]

    body = run_scenario(client)

    assert body["id"].startswith("sc_") and body["status"] == "done"
    assert body["live_version"] == live_version
    kpis = body["kpis"]
    assert set(kpis) == {"scenario", "live", "difference"}
    for side in kpis.values():
        assert set(side) == KPIS
    assert kpis["scenario"]["revenue"] > 0 and kpis["live"]["revenue"] > 0
    assert kpis["difference"]["revenue"] == round(
        kpis["scenario"]["revenue"] - kpis["live"]["revenue"], 2
    )
    # The live plan is the bootstrap plan: every slot opens at the base price.
    assert body["price_changes"]
    for change in body["price_changes"]:
        assert change["live"] == 20.0 and change["scenario"] != 20.0
    assert body["progress"] == {"days_done": 14, "days": 14}
    assert "plan" not in body and body["plan_version"]

    stored = client.get(f"/v1/scenarios/{body['id']}", headers=MANAGER).json()
    assert stored["kpis"] == kpis
    assert stored["request"] == {"venue": VENUE, "start": TOMORROW, "days": 14}
    listed = client.get(f"/v1/scenarios?venue={VENUE}", headers=MANAGER).json()
    assert [s["id"] for s in listed["scenarios"]] == [body["id"]]
    assert listed["scenarios"][0]["kpis"] == kpis


def test_more_demand_raises_peak_prices_and_revenue(client: TestClient) -> None:
    upload_history(client)
    baseline = run_scenario(client)
    busier = run_scenario(
        client, demand=[{"from": TOMORROW, "to": "2027-03-16", "multiplier": 1.3}]
    )

    assert busier["kpis"]["scenario"]["revenue"] > baseline["kpis"]["scenario"]["revenue"] * 1.1
    # A Saturday a week and a half ahead, when most of its buyers are still to come.
    baseline_plan = scenario_plan(client, baseline["id"])
    before = prices_of(baseline_plan, SATURDAY)
    after = prices_of(scenario_plan(client, busier["id"]), SATURDAY)
    # The peak: the slot the baseline expects to fill most (its prices may all be one price).
    (day,) = [d for d in baseline_plan["days"] if d["date"] == SATURDAY]
    fill = {s["slot"]: s["expected_sales"] / s["capacity"] for s in day["slots"]}
    peak = max(fill, key=lambda slot: fill[slot])
    assert after[peak] > before[peak], (peak, before, after)
    assert max(after.values()) > max(before.values())


def test_a_capacity_cut_never_drops_below_tickets_sold(client: TestClient) -> None:
    upload_history(client)
    set_sold(client, TOMORROW, {"11:00": 90, "12:00": 100})

    cut = [{"from": TOMORROW, "to": TOMORROW, "capacity": 100}]
    body = run_scenario(client, capacity=cut)

    day = next(d for d in scenario_plan(client, body["id"])["days"] if d["date"] == TOMORROW)
    for slot in day["slots"]:
        assert slot["capacity"] <= 100
        assert sum(step["units"] for step in slot["steps"]) <= slot["capacity"]
    slots = {slot["slot"]: slot for slot in day["slots"]}
    assert slots["11:00"]["capacity"] == 100 and slots["11:00"]["expected_sales"] >= 90
    assert slots["12:00"]["capacity"] == 100 and slots["12:00"]["expected_sales"] >= 100

    too_low = [{"from": TOMORROW, "to": TOMORROW, "slots": ["12:00"], "capacity": 80}]
    response = client.post("/v1/scenarios", json=scenario_body(capacity=too_low), headers=MANAGER)
    answer = problem(response, 422, "overrides.capacity.0.capacity")
    assert "below the 100 tickets already sold for 12:00 on 2027-03-03" in answer["detail"]


def test_publish_changes_quotes_and_rollback_restores_them(client: TestClient) -> None:
    upload_history(client)
    before = quote(client)
    body = run_scenario(client)
    scenario_price = prices_of(scenario_plan(client, body["id"]), TOMORROW)["11:00"]
    assert scenario_price != 20.0

    response = client.post(f"/v1/scenarios/{body['id']}/publish", headers=MANAGER)
    assert response.status_code == 201, response.text
    published = response.json()
    assert published["previous"] == before["plan_version"]
    assert published["scenario"] == body["id"] and published["kpis"] == body["kpis"]

    after = quote(client)
    assert after["plan_version"] == published["version"]
    assert after["total"] == 2 * scenario_price != before["total"]
    # Days after the scenario keep the live plan's prices.
    late = quote(client, date="2027-04-20")
    assert late["lines"][0]["unit_prices"] == [20.0, 20.0]

    audit = client.get(f"/v1/plans/audit?venue={VENUE}", headers=MANAGER).json()["entries"][0]
    assert audit["action"] == "publish" and audit["version"] == published["version"]
    assert audit["actor"].startswith("manager:") and audit["at"]
    assert audit["details"]["scenario"] == body["id"]
    assert audit["details"]["kpis"] == body["kpis"]
    stored = client.get(f"/v1/scenarios/{body['id']}", headers=MANAGER).json()
    assert [p["version"] for p in stored["published"]] == [published["version"]]

    response = client.post(
        f"/v1/plans/{before['plan_version']}/rollback?venue={VENUE}", headers=MANAGER
    )
    assert response.status_code == 200, response.text
    restored = quote(client)
    assert restored["plan_version"] == before["plan_version"]
    assert restored["total"] == before["total"]


def test_a_scenario_can_be_run_again(client: TestClient) -> None:
    upload_history(client)
    first = run_scenario(client, events=["2027-03-05"])

    response = client.post(f"/v1/scenarios/{first['id']}/rerun", headers=MANAGER)

    assert response.status_code == 201, response.text
    again = response.json()
    assert again["id"] != first["id"] and again["rerun_of"] == first["id"]
    assert again["request"] == first["request"] and again["kpis"] == first["kpis"]


def test_a_checkout_key_is_refused(client: TestClient) -> None:
    upload_history(client)
    body = run_scenario(client, days=3)
    refused = [
        client.post("/v1/scenarios", json=scenario_body(), headers=CHECKOUT),
        client.get(f"/v1/scenarios/{body['id']}", headers=CHECKOUT),
        client.get(f"/v1/scenarios?venue={VENUE}", headers=CHECKOUT),
        client.post(f"/v1/scenarios/{body['id']}/publish", headers=CHECKOUT),
        client.post(f"/v1/scenarios/{body['id']}/rerun", headers=CHECKOUT),
        client.put(
            f"/v1/venues/{VENUE}/history",
            content=history_csv().encode(),
            headers={**CHECKOUT, "Content-Type": "text/csv"},
        ),
    ]
    for response in refused:
        assert "manager role" in problem(response, 403)["detail"]
    assert client.post("/v1/scenarios", json=scenario_body()).status_code == 401


def test_a_long_scenario_answers_202_and_shows_its_progress(client: TestClient) -> None:
    upload_history(client)

    response = client.post("/v1/scenarios", json=scenario_body(days=45), headers=MANAGER)

    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "running" and "kpis" not in accepted
    assert accepted["progress"] == {"days_done": 0, "days": 45}
    done = wait_until_done(client, accepted["id"])
    assert done["status"] == "done", done
    assert done["progress"] == {"days_done": 45, "days": 45}
    assert set(done["kpis"]["scenario"]) == KPIS
    assert len(scenario_plan(client, accepted["id"])["days"]) > 30
    response = client.post(f"/v1/scenarios/{accepted['id']}/publish", headers=MANAGER)
    assert response.status_code == 201, response.text


def test_a_long_scenario_that_cannot_be_solved_is_marked_failed(client: TestClient) -> None:
    upload_history(client)
    impossible = {"kind": "attendance", "min_revenue": 10_000_000}
    response = client.post(
        "/v1/scenarios", json=scenario_body(days=40, objective=impossible), headers=MANAGER
    )
    assert response.status_code == 202, response.text
    failed = wait_until_done(client, response.json()["id"])
    assert failed["status"] == "failed"
    assert failed["problem"]["status"] == 422
    assert failed["problem"]["field"] == "overrides.objective.min_revenue"
    response = client.post(f"/v1/scenarios/{failed['id']}/publish", headers=MANAGER)
    assert "has no plan" in problem(response, 409, "id")["detail"]


def test_a_scenario_whose_service_stopped_is_shown_failed(
    client: TestClient, clock: FakeClock
) -> None:
    # What a service that crashed mid-scenario leaves behind: a running record nobody updates.
    started = iso_utc(clock())
    stuck = {
        "id": "sc_stuck0000001",
        "venue": VENUE,
        "name": "crashed",
        "status": "running",
        "created_at": started,
        "created_by": "manager:x",
        "updated_at": started,
        "heartbeat_at": started,
        "rerun_of": None,
        "request": scenario_body(days=45),
        "progress": {"days_done": 14, "days": 45},
        "published": [],
    }
    store = client.app.state.services.store  # type: ignore[attr-defined]
    assert client.portal is not None
    client.portal.call(store.save_scenario, VENUE, stuck["id"], orjson.dumps(stuck))

    def seen() -> dict[str, Any]:
        response = client.get(f"/v1/scenarios/{stuck['id']}", headers=MANAGER)
        assert response.status_code == 200, response.text
        return dict(response.json())

    clock.advance(seconds=STALLED_AFTER_SECONDS)
    assert seen()["status"] == "running"  # a few missed beats: still within the grace
    clock.advance(seconds=1)
    stopped = seen()
    assert stopped["status"] == "failed"
    assert "stopped" in stopped["problem"]["detail"] and started in stopped["problem"]["detail"]
    listed = client.get("/v1/scenarios", params={"venue": VENUE}, headers=MANAGER).json()
    assert [s["status"] for s in listed["scenarios"] if s["id"] == stuck["id"]] == ["failed"]
    response = client.post(f"/v1/scenarios/{stuck['id']}/publish", headers=MANAGER)
    assert "run it again" in problem(response, 409, "id")["detail"]


def test_a_long_scenario_beats_while_it_runs(
    client: TestClient, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scenarios, "HEARTBEAT_SECONDS", 0.01)
    upload_history(client)
    response = client.post("/v1/scenarios", json=scenario_body(days=45), headers=MANAGER)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["heartbeat_at"] == accepted["created_at"]
    # Ten minutes pass (on the service's clock) while it fits: its beats keep it alive.
    clock.advance(minutes=10)
    later = iso_utc(clock())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body = client.get(f"/v1/scenarios/{accepted['id']}", headers=MANAGER).json()
        if body.get("heartbeat_at") == later:
            break
        time.sleep(0.01)
    assert body.get("heartbeat_at") == later, body
    assert body["status"] in ("running", "done")
    assert wait_until_done(client, accepted["id"])["status"] == "done"
