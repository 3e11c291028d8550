"""Scenarios and histories refuse bad input with a problem naming the field, never a 500."""

from __future__ import annotations

from pathlib import Path

import pytest
from apitools import CHECKOUT_KEY, MANAGER, MANAGER_KEY, NOW, TOMORROW, FakeClock, problem, set_sold
from fastapi.testclient import TestClient
from scenariotools import VENUE, history_csv, run_scenario, scenario_body, upload_history

from api import venue_documents
from api.app import create_app
from api.settings import EXAMPLE_VENUES, Settings


def post(client: TestClient, body: dict) -> object:
    return client.post("/v1/scenarios", json=body, headers=MANAGER)


def test_without_a_history_a_scenario_is_409(client: TestClient) -> None:
    answer = problem(post(client, scenario_body()), 409, "venue")
    assert "no sales history" in answer["detail"] and "PUT /v1/venues/" in answer["detail"]


def test_an_unknown_venue_is_404(client: TestClient) -> None:
    body = {**scenario_body(), "venue": "zoo"}
    assert "unknown venue 'zoo'" in problem(post(client, body), 404, "venue")["detail"]
    response = client.put(
        "/v1/venues/zoo/history", content=b"x", headers={**MANAGER, "Content-Type": "text/csv"}
    )
    problem(response, 404, "venue")


def test_an_unknown_scenario_is_404(client: TestClient) -> None:
    problem(client.get("/v1/scenarios/sc_nope", headers=MANAGER), 404, "id")
    problem(client.post("/v1/scenarios/sc_nope/publish", headers=MANAGER), 404, "id")


BAD_SCENARIOS = [
    ({"start": "2027-03-01"}, "start", "in the past"),
    ({"start": "2028-06-01"}, "start", "forecast only 363 days ahead (to 2028-02-26)"),
    ({"start": "2028-02-20", "days": 30}, "days", "forecast only 363 days ahead (to 2028-02-26)"),
    ({"days": 0}, "days", "greater than or equal to 1"),
    ({"overrides": {"prices": {"floor": 24, "ceiling": 22}}}, "overrides.prices.floor", "above"),
    ({"overrides": {"prices": {"floor": 22}}}, "overrides.prices.floor", "base 20.0 is outside"),
    (
        {"overrides": {"demand": [{"from": "2027-03-05", "to": "2027-03-04", "multiplier": 2}]}},
        "overrides.demand.0.to",
        "before from",
    ),
    (
        {"overrides": {"demand": [{"from": "2027-03-05", "to": "2027-05-01", "multiplier": 2}]}},
        "overrides.demand.0.to",
        "outside the scenario's dates",
    ),
    (
        {"overrides": {"demand": [{"from": "2027-03-05", "to": "2027-03-06", "multiplier": 0}]}},
        "overrides.demand.0.multiplier",
        "greater than 0",
    ),
    ({"overrides": {"events": ["2027-02-01"]}}, "overrides.events.0.from", "outside"),
    (
        {"overrides": {"closed": [{"date": TOMORROW, "slots": ["11:15"]}]}},
        "overrides.closed.0.slots.0",
        "not an entry slot",
    ),
    (
        {"overrides": {"capacity": [{"from": TOMORROW, "to": TOMORROW, "slots": ["17:30"],
                                     "capacity": 100}]}},
        "overrides.capacity.0.capacity",
        "above the venue's capacity 40",
    ),
    ({"overrides": {"objective": {"kind": "greed"}}}, "overrides.objective.kind", "revenue"),
    ({"overrides": {"price_sensitivity": -1}}, "overrides.price_sensitivity", "greater than 0"),
    ({"overrides": {"surprise": 1}}, "overrides.surprise", "not permitted"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "field", "words"), BAD_SCENARIOS)
def test_bad_scenarios_are_422_naming_the_field(
    client: TestClient, change: dict, field: str, words: str
) -> None:
    upload_history(client)
    body = {**scenario_body(), **change}
    answer = problem(post(client, body), 422, field)
    assert words in answer["detail"], answer


def test_closing_a_slot_with_tickets_sold_is_422(client: TestClient) -> None:
    upload_history(client)
    set_sold(client, TOMORROW, {"11:00": 4})
    body = scenario_body(closed=[{"date": TOMORROW, "slots": ["10:00", "11:00"]}])
    answer = problem(post(client, body), 422, "overrides.closed.0.slots.1")
    assert "4 tickets are already sold for 11:00" in answer["detail"]


def test_an_infeasible_lp_is_422_naming_the_constraint(client: TestClient) -> None:
    upload_history(client)
    body = scenario_body(days=3, objective={"kind": "attendance", "min_revenue": 1_000_000})
    answer = problem(post(client, body), 422, "overrides.objective.min_revenue")
    assert "min_revenue cannot hold" in answer["detail"]
    assert answer["constraints"] == ["min_revenue"] and answer["date"] == TOMORROW


def test_closed_days_and_slots_are_not_planned(client: TestClient) -> None:
    upload_history(client)
    closed = [{"date": TOMORROW}, {"date": "2027-03-04", "slots": ["10:00", "10:30"]}]
    body = run_scenario(client, days=3, closed=closed)
    plan = client.get(f"/v1/scenarios/{body['id']}/plan", headers=MANAGER).json()
    assert [day["date"] for day in plan["days"]] == ["2027-03-04", "2027-03-05"]
    assert {"10:00", "10:30"}.isdisjoint(slot["slot"] for slot in plan["days"][0]["slots"])
    assert any("closed by the scenario: 2027-03-03" in note for note in body["notes"])


def test_a_bad_history_upload_is_refused_and_keeps_the_stored_one(client: TestClient) -> None:
    good = upload_history(client)
    assert good["rows"] > 5000 and good["last_date"] == "2027-02-28"  # a Sunday
    lines = history_csv().splitlines()
    lines[3] = lines[3].replace(lines[3].split(",")[4], "-3", 1)  # the sold column
    bad = "\n".join(lines)

    response = client.put(
        f"/v1/venues/{VENUE}/history",
        content=bad.encode(),
        headers={**MANAGER, "Content-Type": "text/csv"},
    )
    answer = problem(response, 422, "sold")
    assert "line 4, column sold" in answer["detail"]
    response = client.put(
        f"/v1/venues/{VENUE}/history",
        content=b"a,b\n",
        headers={**MANAGER, "Content-Type": "text/csv"},
    )
    assert "required column is missing" in problem(response, 422)["detail"]
    response = client.put(
        f"/v1/venues/{VENUE}/history", content=history_csv().encode(), headers=MANAGER
    )
    assert "text/csv" in problem(response, 415, "content-type")["detail"]

    stored = client.get(f"/v1/venues/{VENUE}/history", headers=MANAGER).json()
    assert stored["version"] == good["version"] and stored["rows"] == good["rows"]


def test_a_history_row_after_the_upload_day_is_refused_naming_the_line(
    client: TestClient,
) -> None:
    good = upload_history(client)
    # NOW is 10:00 on Tuesday 2 March 2027 in Amsterdam: its rows may be there, partial.
    today = "2027-03-02,10:00,120,18,7,0,0,0,0,3.1,0.0"
    with_today = upload_history(client, history_csv() + today + "\n")
    assert with_today["last_date"] == "2027-03-02"
    lines = history_csv().count("\n") + 2
    for future in (
        f"{TOMORROW},10:00,120,18,7,0,0,0,0,3.1,0.0",
        "2031-03-04,10:00,120,18,7,0,0,0,0,3.1,0.0",
    ):
        response = client.put(
            f"/v1/venues/{VENUE}/history",
            content=(history_csv() + today + "\n" + future + "\n").encode(),
            headers={**MANAGER, "Content-Type": "text/csv"},
        )
        body = problem(response, 422, "date")
        date = future.split(",")[0]
        assert body["detail"] == (
            f"body line {lines}, column date: {date} is after today (2027-03-02); a history "
            "holds days that have begun"
        )
    stored = client.get(f"/v1/venues/{VENUE}/history", headers=MANAGER).json()
    assert stored["version"] == with_today["version"] != good["version"]


def test_a_history_above_the_size_cap_is_413_and_keeps_the_old_one(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = upload_history(client)
    monkeypatch.setattr(venue_documents, "MAX_UPLOAD_BYTES", 1000)
    response = client.put(
        f"/v1/venues/{VENUE}/history",
        content=history_csv().encode(),
        headers={**MANAGER, "Content-Type": "text/csv"},
    )
    assert "at most 1000 are accepted" in problem(response, 413, "body")["detail"]
    # Sent in chunks, without a declared length: refused once the cap is passed.
    chunks = (history_csv().encode()[i : i + 400] for i in range(0, 4000, 400))
    response = client.put(
        f"/v1/venues/{VENUE}/history",
        content=chunks,
        headers={**MANAGER, "Content-Type": "text/csv"},
    )
    assert "over 1000 bytes" in problem(response, 413, "body")["detail"]
    stored = client.get(f"/v1/venues/{VENUE}/history", headers=MANAGER).json()
    assert stored["version"] == good["version"] and stored["rows"] == good["rows"]


def test_a_history_file_in_the_history_dir_is_used(tmp_path: Path) -> None:
    (tmp_path / f"{VENUE}.csv").write_text(history_csv(), encoding="utf-8")
    settings = Settings(
        api_keys=f"checkout:{CHECKOUT_KEY},manager:{MANAGER_KEY}",
        token_keys="k",
        venues_dir=EXAMPLE_VENUES,
        history_dir=tmp_path,
    )
    with TestClient(create_app(settings, clock=FakeClock(NOW))) as client:
        described = client.get(f"/v1/venues/{VENUE}/history", headers=MANAGER).json()
        assert described["source"] == str(tmp_path / f"{VENUE}.csv")
        assert described["last_date"] == "2027-02-28"
        body = run_scenario(client, days=2)
        assert body["history_version"] == described["version"]
