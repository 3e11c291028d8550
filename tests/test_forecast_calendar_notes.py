"""A calendar that leaves out a covariate the model uses: the forecast says what it used instead,
per covariate, compactly when many dates are concerned, and what it says is what it did."""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
from functools import cache
from pathlib import Path

import pytest

from api.cli_forecasting import add_commands
from forecasting.forecast import build_forecast
from forecasting.history import parse_calendar
from forecasting.model import MnlDemandModel
from forecasting.world import DemoWorld, WorldSpec, simulate_world, write_demo

SPEC = WorldSpec(seed=3, days=364, slots_per_day=8)


@cache
def world() -> DemoWorld:
    return simulate_world(SPEC)


@cache
def fitted() -> MnlDemandModel:
    return MnlDemandModel().fit(world().history())


def calendar_text(start: dt.date, days: int, blank: dict[str, set[int]], drop: str = "") -> str:
    """`days` open-day rows from `start`; cell `column` empty on the day offsets in blank."""
    columns = [
        c for c in ("holiday", "school_holiday", "event", "temp_c", "precip_mm") if c != drop
    ]
    lines = ["date," + ",".join(columns)]
    for i in range(days):
        values = {"holiday": "0", "school_holiday": "0", "event": "0", "temp_c": "8.5"}
        values["precip_mm"] = "1.0"
        cells = ["" if i in blank.get(c, set()) else values[c] for c in columns]
        lines.append(f"{start + dt.timedelta(i)}," + ",".join(cells))
    return "\n".join(lines) + "\n"


def notes_of(text: str, start: dt.date, days: int) -> list[str]:
    model = fitted()
    calendar = parse_calendar(text)
    forecast = build_forecast(model, world().venue, start, days, calendar=calendar)
    return [note for note in forecast["notes"] if "missing for" in note]


def next_tuesday(after: dt.date) -> dt.date:
    return after + dt.timedelta((1 - after.weekday()) % 7 or 7)


def test_a_full_calendar_has_no_missing_covariate_notes() -> None:
    start = next_tuesday(fitted().last_date_)
    assert notes_of(calendar_text(start, 14, {}), start, 14) == []


def test_one_missing_date_is_named_and_many_are_counted_with_their_range() -> None:
    start = next_tuesday(fitted().last_date_)
    monday = start + dt.timedelta(6)  # the venue has no slots on Mondays: not told
    blank = {
        "temp_c": {2},
        "precip_mm": set(range(14)),
        "event": {0, 6},
    }
    notes = notes_of(calendar_text(start, 14, blank), start, 14)
    open_days = [start + dt.timedelta(i) for i in range(14) if i not in (6, 13)]
    assert notes == [
        f"event missing for {start}: taken as 0",
        f"temp_c missing for {start + dt.timedelta(2)}: the month's average used",
        f"precip_mm missing for {len(open_days)} dates ({open_days[0]} to {open_days[-1]}): "
        "the month's average used",
    ]
    assert all(str(monday) not in note for note in notes)


def test_a_calendar_without_the_column_is_told_too() -> None:
    start = next_tuesday(fitted().last_date_)
    notes = notes_of(calendar_text(start, 3, {}, drop="holiday"), start, 3)
    assert notes == [
        f"holiday missing for 3 dates ({start} to {start + dt.timedelta(2)}): taken as 0"
    ]


def test_a_month_the_history_lacks_is_told_apart() -> None:
    features = copy.copy(fitted().features_)
    start = next_tuesday(fitted().last_date_)
    features.climate = {**features.climate, "temp_c": {13: 5.0}}  # no month of the calendar
    calendar = parse_calendar(calendar_text(start, 1, {"temp_c": {0}}))
    assert features.covariate_notes(calendar.days, [start]) == [
        f"temp_c missing for {start}: the mean of the history's monthly averages used (it has "
        "no such month)"
    ]


def test_what_the_note_says_is_what_the_forecast_used() -> None:
    """Empty temp_c forecasts as the month's average of the history, given explicitly."""
    model = fitted()
    start = next_tuesday(model.last_date_)
    history = world().history()
    temps = [
        day.covariates["temp_c"]
        for date, day in history.days.items()
        if date.month == start.month and day.covariates["temp_c"] is not None
    ]
    average = sum(t for t in temps if t is not None) / len(temps)
    empty = parse_calendar(calendar_text(start, 1, {"temp_c": {0}}))
    given = parse_calendar(calendar_text(start, 1, {}).replace(",8.5,", f",{average!r},"))
    a = build_forecast(model, world().venue, start, 1, calendar=empty)
    b = build_forecast(model, world().venue, start, 1, calendar=given)
    assert a["days"][0]["arrivals"] == pytest.approx(b["days"][0]["arrivals"], rel=1e-9)
    assert f"temp_c missing for {start}: the month's average used" in a["notes"]


def test_yieldgate_forecast_prints_the_notes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = write_demo(tmp_path / "demo", seed=3, days=364, slots_per_day=8)
    start = next_tuesday(dt.date.fromisoformat(demo.truth["history_end"]))
    calendar = tmp_path / "calendar.csv"
    calendar.write_text(calendar_text(start, 7, {"temp_c": set(range(7))}), encoding="utf-8")
    parser = argparse.ArgumentParser(prog="yieldgate")
    add_commands(parser.add_subparsers(dest="command", required=True))
    out = tmp_path / "forecast.json"
    args = parser.parse_args(
        [
            "forecast", "--venue", str(tmp_path / "demo" / "venue.toml"),
            "--history", str(tmp_path / "demo" / "history.csv"), "--calendar", str(calendar),
            "--start", str(start), "--days", "7", "--out", str(out),
        ]
    )  # fmt: skip
    assert args.run(args) == 0
    note = (
        f"temp_c missing for 6 dates ({start} to {start + dt.timedelta(5)}): "
        "the month's average used"
    )
    assert f"note: {note}" in capsys.readouterr().out
    assert note in json.loads(out.read_text())["notes"]
