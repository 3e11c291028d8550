"""A venue's calendar (holidays, events, weather, closed days) for its scenarios, on both stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apitools import CHECKOUT, MANAGER, TOMORROW, problem, set_sold
from fastapi.testclient import TestClient
from scenariotools import VENUE, history_csv, run_scenario, scenario_body, upload_history

HOLIDAY = "2027-03-05"  # a Friday within the scenario's 14 days from TOMORROW
SHUT = "2027-03-06"
CALENDAR = (
    "date,holiday,school_holiday,event,temp_c,precip_mm,closed\n"
    f"{TOMORROW},0,0,0,8.0,0.0,0\n"
    "2027-03-04,0,0,0,8.0,0.0,0\n"
    f"{HOLIDAY},1,1,0,8.0,0.0,0\n"
    f"{SHUT},0,0,0,8.0,0.0,1\n"
)


def put_calendar(
    client: TestClient, text: str, content_type: str = "text/csv", headers: Any = MANAGER
) -> Any:
    return client.put(
        f"/v1/venues/{VENUE}/calendar",
        content=text.encode(),
        headers={**headers, "Content-Type": content_type},
    )


def day_figures(scenario: dict[str, Any], date: str) -> dict[str, float]:
    return dict(next(d["scenario"] for d in scenario["daily"] if d["date"] == date))


def test_a_calendar_is_checked_whole_stored_and_described(client: TestClient) -> None:
    missing = client.get(f"/v1/venues/{VENUE}/calendar", headers=MANAGER)
    assert "has no calendar" in problem(missing, 404, "venue")["detail"]

    response = put_calendar(client, CALENDAR)
    assert response.status_code == 200, response.text
    stored = response.json()
    assert stored["source"] == "uploaded" and stored["days"] == 4
    assert stored["first_date"] == TOMORROW and stored["last_date"] == SHUT
    assert stored["closed"] == [SHUT]
    assert client.get(f"/v1/venues/{VENUE}/calendar", headers=MANAGER).json() == stored

    bad = CALENDAR + "2027-03-07,yes,0,0,8.0,0.0,0\n"
    detail = problem(put_calendar(client, bad), 422)["detail"]
    assert "line 6" in detail and "holiday" in detail
    assert problem(put_calendar(client, CALENDAR, "application/json"), 415)["field"] == (
        "content-type"
    )
    assert put_calendar(client, CALENDAR, headers=CHECKOUT).status_code == 403
    # The refused uploads left the good calendar in place.
    assert client.get(f"/v1/venues/{VENUE}/calendar", headers=MANAGER).json() == stored


def test_scenarios_forecast_with_the_venues_calendar(client: TestClient) -> None:
    upload_history(client)
    before = run_scenario(client)
    assert any("no calendar" in note for note in before["notes"])

    assert put_calendar(client, CALENDAR).status_code == 200
    after = run_scenario(client)

    # The history's holidays raise demand: the holiday sells more with the calendar than
    # without; the shut day is not planned at all; an ordinary day is as it was.
    assert day_figures(after, HOLIDAY)["attendance"] > day_figures(before, HOLIDAY)["attendance"]
    assert SHUT in {d["date"] for d in before["daily"]}
    assert SHUT not in {d["date"] for d in after["daily"]}
    assert any(f"closed by the calendar, not forecast: {SHUT}" in note for note in after["notes"])
    assert any("not in the calendar" in note for note in after["notes"])
    assert not any("no calendar" in note for note in after["notes"])


def test_a_registered_calendar_file_is_used_and_a_broken_one_named(
    client: TestClient, tmp_path: Path, monkeypatch: Any
) -> None:
    calendars = client.app.state.services.calendars  # type: ignore[attr-defined]
    monkeypatch.setattr(calendars, "directory", tmp_path)
    (tmp_path / f"{VENUE}.calendar.csv").write_text(CALENDAR, encoding="utf-8")
    described = client.get(f"/v1/venues/{VENUE}/calendar", headers=MANAGER).json()
    assert described["source"] == str(tmp_path / f"{VENUE}.calendar.csv")
    assert described["closed"] == [SHUT]

    (tmp_path / f"{VENUE}.calendar.csv").write_text("date,holiday\n2027-13-01,0\n", "utf-8")
    response = client.get(f"/v1/venues/{VENUE}/calendar", headers=MANAGER)
    assert "the registered calendar is not valid" in problem(response, 409, "calendar")["detail"]


def test_a_calendar_that_shuts_a_day_with_tickets_sold_is_409(client: TestClient) -> None:
    upload_history(client)
    set_sold(client, SHUT, {"11:00": 30})
    assert put_calendar(client, CALENDAR).status_code == 200
    response = client.post("/v1/scenarios", json=scenario_body(), headers=MANAGER)
    detail = problem(response, 409, "calendar")["detail"]
    assert f"shuts {SHUT}, but 30 ticket(s) are sold" in detail


def test_a_scenario_records_the_calendar_it_used(client: TestClient) -> None:
    upload_history(client)
    assert run_scenario(client)["calendar_version"] is None
    version = put_calendar(client, CALENDAR).json()["version"]
    assert run_scenario(client)["calendar_version"] == version


def test_calendar_events_get_the_default_uplift_without_an_event_column(
    client: TestClient,
) -> None:
    lines = history_csv().splitlines()
    column = lines[0].split(",").index("event")
    upload_history(
        client,
        "\n".join(
            ",".join(c for i, c in enumerate(line.split(",")) if i != column) for line in lines
        )
        + "\n",
    )
    before = run_scenario(client)
    event_day = CALENDAR.replace(f"{HOLIDAY},1,1,0", f"{HOLIDAY},0,0,1")
    assert put_calendar(client, event_day).status_code == 200
    after = run_scenario(client)
    assert any("event days get a default" in note for note in after["notes"])
    assert day_figures(after, HOLIDAY)["attendance"] > day_figures(before, HOLIDAY)["attendance"]
