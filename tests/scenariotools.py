"""Helpers for the scenario tests: a year of demo history for the example venue, and shortcuts."""

from __future__ import annotations

import datetime as dt
import time
from functools import cache
from typing import Any

from apitools import MANAGER, NOW, TOMORROW
from fastapi.testclient import TestClient

from forecasting.world import WorldSpec, simulate_world

VENUE = "city-museum"
HISTORY_DAYS = 365


@cache
def history_csv() -> str:
    """A year of the demo world up to the day before NOW. The demo world's hours and slot
    capacities are the example venue's, so its history is a valid city-museum history."""
    last = NOW.date() - dt.timedelta(1)
    start = last - dt.timedelta(HISTORY_DAYS - 1)
    return simulate_world(WorldSpec(start=start, days=HISTORY_DAYS, seed=11)).history_csv()


def upload_history(client: TestClient, text: str | None = None) -> dict[str, Any]:
    response = client.put(
        f"/v1/venues/{VENUE}/history",
        content=(text or history_csv()).encode(),
        headers={**MANAGER, "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def scenario_body(days: int = 14, **overrides: Any) -> dict[str, Any]:
    return {"venue": VENUE, "start": TOMORROW, "days": days, "overrides": overrides}


def run_scenario(client: TestClient, days: int = 14, **overrides: Any) -> dict[str, Any]:
    response = client.post("/v1/scenarios", json=scenario_body(days, **overrides), headers=MANAGER)
    assert response.status_code == 201, response.text
    return response.json()


def scenario_plan(client: TestClient, scenario_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/scenarios/{scenario_id}/plan", headers=MANAGER)
    assert response.status_code == 200, response.text
    return response.json()


def wait_until_done(client: TestClient, scenario_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        body = client.get(f"/v1/scenarios/{scenario_id}", headers=MANAGER).json()
        assert "progress" in body, body
        seen.append(body["progress"]["days_done"])
        if body["status"] != "running":
            body["progress_seen"] = seen
            return body
        time.sleep(0.05)
    raise AssertionError(f"scenario {scenario_id} still running after {timeout} s: {seen[-1]}")
