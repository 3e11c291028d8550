"""Publishing, rolling back and auditing plans, and quotes following the live plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from apitools import (
    CHECKOUT_KEY,
    MANAGER,
    MANAGER_KEY,
    TOMORROW,
    FakeClock,
    problem,
    quote,
    quote_response,
)
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import EXAMPLE_VENUES, Settings
from pricing.errors import InvalidInput


def plan_for(version: str | None, price: float = 14.0) -> dict:
    plan: dict = {
        "venue": "city-museum",
        "currency": "EUR",
        "days": [
            {
                "date": TOMORROW,
                "slots": [
                    {
                        "slot": "11:00",
                        "capacity": 120,
                        "steps": [{"price": price, "units": 40}, {"price": 26.0, "units": 80}],
                        "expected_sales": 110.3,
                        "bid_price": 3.2,
                    },
                    {"slot": "11:30", "capacity": 100, "steps": [{"price": 20.0, "units": 100}]},
                ],
            }
        ],
    }
    if version:
        plan["version"] = version
    return plan


def publish(client: TestClient, plan: dict) -> dict:
    response = client.post("/v1/plans", json=plan, headers=MANAGER)
    assert response.status_code == 201, response.text
    return response.json()


def test_publishing_changes_quotes_and_rollback_restores_them(client: TestClient) -> None:
    bootstrap = quote(client)["plan_version"]
    published = publish(client, plan_for("v2"))
    assert published["previous"] == bootstrap and published["published_by"].startswith("manager:")
    body = quote(client)
    assert body["plan_version"] == "v2" and body["total"] == 28.0
    assert body["off_peak"] is True and body["saving"] == 12.0  # 2 x (20 - 14)
    assert "Off-peak" in body["explanation"]
    problem(quote_response(client, slot="12:00"), 404, "slot")  # v2 does not sell 12:00

    response = client.post(f"/v1/plans/{bootstrap}/rollback?venue=city-museum", headers=MANAGER)
    assert response.status_code == 200 and response.json()["previous"] == "v2"
    assert quote(client)["plan_version"] == bootstrap and quote(client)["total"] == 40.0

    listed = client.get("/v1/plans?venue=city-museum", headers=MANAGER).json()
    assert [p["version"] for p in listed["plans"]] == ["v2", bootstrap]
    assert listed["current"] == bootstrap
    audit = client.get("/v1/plans/audit?venue=city-museum", headers=MANAGER).json()["entries"]
    assert [(e["action"], e["version"], e["previous"]) for e in audit] == [
        ("rollback", bootstrap, "v2"),
        ("publish", "v2", bootstrap),
        ("publish", bootstrap, None),
    ]
    assert audit[0]["actor"].startswith("manager:") and audit[-1]["actor"] == "bootstrap"


def test_current_plan_is_the_published_json(client: TestClient) -> None:
    publish(client, plan_for("v7"))
    current = client.get("/v1/plans/current?venue=city-museum", headers=MANAGER).json()
    tomorrow = next(day for day in current["days"] if day["date"] == TOMORROW)
    assert current["version"] == "v7" and tomorrow["slots"][0]["bid_price"] == 3.2


def test_a_plan_without_version_gets_one(client: TestClient) -> None:
    version = publish(client, plan_for(None))["version"]
    assert version.startswith("2027-03-02T09:00:00Z-")
    assert quote(client)["plan_version"] == version


def test_republishing_a_version_with_other_content_is_409(client: TestClient) -> None:
    publish(client, plan_for("v2"))
    publish(client, plan_for("v2"))  # identical: fine
    response = client.post("/v1/plans", json=plan_for("v2", price=12.0), headers=MANAGER)
    assert "different content" in problem(response, 409, "version")["detail"]
    assert quote(client)["total"] == 28.0


def test_rollback_to_an_unknown_version_is_404(client: TestClient) -> None:
    response = client.post("/v1/plans/nope/rollback?venue=city-museum", headers=MANAGER)
    problem(response, 404, "version")


def test_invalid_plans_are_refused_naming_the_field(client: TestClient) -> None:
    live = quote(client)["plan_version"]
    cases = []
    bad = plan_for("x")
    bad["days"][0]["slots"][0]["steps"][0]["price"] = 15.0
    cases.append((bad, "days.0.slots.0.steps.0.price", "ladder"))
    bad = plan_for("x")
    bad["days"][0]["slots"][0]["steps"] = [{"price": 22.0, "units": 5}, {"price": 20.0, "units": 5}]
    cases.append((bad, "days.0.slots.0.steps.1.price", "ascend"))
    bad = plan_for("x")
    bad["days"][0]["slots"][1]["slot"] = "11:15"
    cases.append((bad, "days.0.slots.1.slot", "not an entry slot"))
    bad = plan_for("x")
    bad["days"][0]["date"] = "2027-03-08"
    cases.append((bad, "days.0.date", "closed"))
    bad = plan_for("x")
    bad["days"][0]["slots"][0]["steps"][0]["units"] = -1
    cases.append((bad, "days.0.slots.0.steps.0.units", "greater than or equal to 0"))
    bad = plan_for("x")
    bad["venue"] = "zoo"
    cases.append((bad, "venue", "unknown venue"))
    bad = plan_for("x")
    del bad["days"]
    cases.append((bad, "days", "required"))
    for plan, field, words in cases:
        answer = problem(
            client.post("/v1/plans", json=plan, headers=MANAGER),
            422 if field != "venue" else 404,
            field,
        )
        assert words in answer["detail"], answer
    assert quote(client)["plan_version"] == live


def test_a_start_plan_is_live_from_the_first_quote(tmp_path: Path, clock: FakeClock) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan_for("from-file")))
    settings = Settings(
        api_keys=f"checkout:{CHECKOUT_KEY},manager:{MANAGER_KEY}",
        venues_dir=EXAMPLE_VENUES,
        start_plans=str(plan_file),
    )
    with TestClient(create_app(settings, clock=clock)) as client:
        body = quote(client)
        assert body["plan_version"] == "from-file" and body["total"] == 28.0
        audit = client.get("/v1/plans/audit?venue=city-museum", headers=MANAGER).json()
        assert [e["actor"] for e in audit["entries"]] == ["start-up"]


def test_a_broken_start_plan_stops_the_start_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    settings = Settings(api_keys="checkout:k", venues_dir=EXAMPLE_VENUES, start_plans=str(missing))
    with pytest.raises(InvalidInput, match=r"start plan .*nope\.json"):
        create_app(settings)
