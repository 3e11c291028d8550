"""The CLI twin: `yieldgate scenario scenario.toml` prints the KPI table and writes a PNG."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scenariotools import history_csv

from api.cli import main
from forecasting.world import venue_toml

SCENARIO = """\
name = "busy March"
venue = "venue.toml"
history = "history.csv"
as_of = 2027-03-02
start = 2027-03-03
days = 5

[overrides]
events = [2027-03-06]

[[overrides.demand]]
from = 2027-03-05
to = 2027-03-07
multiplier = 1.3
"""


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    (tmp_path / "venue.toml").write_text(venue_toml(None), encoding="utf-8")
    (tmp_path / "history.csv").write_text(history_csv(), encoding="utf-8")
    path = tmp_path / "scenario.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def test_the_cli_prints_the_kpi_table_and_writes_a_price_calendar(
    scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_path = scenario_file.with_name("plan.json")

    code = main(["scenario", str(scenario_file), "--plan", str(plan_path)])

    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("KPI"))
    assert header.split() == ["KPI", "scenario", "live", "difference"]
    for label in ("revenue (EUR)", "attendance", "average price (EUR)", "peak occupancy",
                  "comfort overflow", "off-peak share"):  # fmt: skip
        assert any(line.startswith(label) for line in lines), label
    assert "the bootstrap plan" in out
    png = scenario_file.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    plan = json.loads(plan_path.read_text())
    assert plan["venue"] == "demo-museum" and len(plan["days"]) == 5


def test_the_cli_refuses_contradictory_overrides_in_one_line(
    scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario_file.write_text(
        SCENARIO + "\n[overrides.prices]\nfloor = 24\nceiling = 22\n", encoding="utf-8"
    )

    assert main(["scenario", str(scenario_file)]) == 2

    error = capsys.readouterr().err
    assert error.startswith("yieldgate: overrides.prices.floor: floor 24.0 is above ceiling 22.0")
    assert not scenario_file.with_suffix(".png").exists()


def test_the_cli_takes_the_venues_calendar(
    scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar = scenario_file.with_name("calendar.csv")
    calendar.write_text("date,closed\n2027-03-04,1\n", encoding="utf-8")
    scenario_file.write_text('calendar = "calendar.csv"\n' + SCENARIO, encoding="utf-8")
    plan_path = scenario_file.with_name("plan.json")

    assert main(["scenario", str(scenario_file), "--plan", str(plan_path)]) == 0

    out = capsys.readouterr().out
    assert "note: closed by the calendar, not forecast: 2027-03-04" in out
    assert "2027-03-04" not in {day["date"] for day in json.loads(plan_path.read_text())["days"]}
    calendar.write_text("date,closed\n2027-03-04,maybe\n", encoding="utf-8")
    assert main(["scenario", str(scenario_file)]) == 2
    assert "calendar.csv line 2, column closed" in capsys.readouterr().err
