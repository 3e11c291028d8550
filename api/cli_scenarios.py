"""`yieldgate scenario scenario.toml`: the what-if scenario of `POST /v1/scenarios`, offline.

The TOML holds the request's fields (`start`, `days`, `name`, `[overrides]` with the JSON's
keys) and the files to work from, relative to the TOML file:

    venue = "demo/venue.toml"         # required
    history = "demo/history.csv"      # required
    calendar = "demo/calendar.csv"    # optional: holidays, events, weather, closed days
    live_plan = "plan.json"           # optional; without it, the bootstrap plan stands in
    sold = "sold.csv"                 # optional: date,slot,sold of tickets on hand
    as_of = 2026-11-23                # optional: the booking date (default: today at the venue)
    start = 2026-11-24
    days = 14
    [overrides]
    events = [2026-11-28]
    [[overrides.demand]]
    from = 2026-11-27
    to = 2026-11-29
    multiplier = 1.3

It prints the KPI comparison as a table and writes a PNG price calendar (days x slots) of the
scenario beside the live plan. The numerical stack is imported inside the command.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from api.calendars import check_calendar
from api.cli_common import guarded, say
from api.histories import check_history
from api.plan_prices import day_prices
from api.scenario_checks import (
    check_calendar_closures,
    check_dates,
    check_overrides,
    scenario_venue,
)
from api.scenario_job import ScenarioJob
from api.scenario_request import ScenarioRequest
from api.venue_documents import decode_csv, document_version
from pricing.calendar import parse_date
from pricing.errors import InvalidInput
from pricing.plan import PlanDay
from pricing.venue import Venue, parse_venue_toml

FILE_KEYS = ("venue", "history", "calendar", "live_plan", "sold", "as_of")
KPI_LABELS = {
    "revenue": "revenue",
    "attendance": "attendance",
    "average_price": "average price",
    "peak_occupancy": "peak occupancy",
    "comfort_overflow": "comfort overflow",
    "off_peak_share": "off-peak share",
}


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `scenario` on the `yieldgate` subparsers."""
    command = commands.add_parser(
        "scenario",
        help="run a what-if scenario and compare it with the live plan",
        description="Fit the demand model to the history, apply the scenario's overrides, "
        "optimise, and compare the scenario's plan with the live one under the same demand: "
        "a KPI table on stdout and a PNG price calendar of both.",
    )
    command.add_argument("scenario", help="the scenario file (TOML)")
    command.add_argument(
        "--png", help="where to write the price calendar (default: beside the TOML, .png)"
    )
    command.add_argument("--plan", help="also write the scenario's Plan JSON here")
    command.set_defaults(run=guarded(_run))


def _run(args: argparse.Namespace) -> int:
    from api.scenario_run import prepare, solve_days, summarise

    source = Path(args.scenario)
    data = _read_toml(source)
    here = source.parent
    venue = parse_venue_toml(_path(data, "venue", here).read_text("utf-8"), source="venue")
    request = _request(data, venue, source)
    history_path = _path(data, "history", here)
    history_bytes = history_path.read_bytes()
    history_text = decode_csv(history_bytes, str(history_path))
    as_of = _as_of(data, venue)  # the scenario's today: the history has no rows after it
    checked = check_history(history_text, venue, str(history_path), as_of)
    check_dates(
        request,
        as_of,
        dt.date.fromisoformat(checked["first_date"]),
        dt.date.fromisoformat(checked["last_date"]),
    )
    calendar_text = calendar_version = None
    sold = _sold(data, here)
    check_overrides(request, venue, sold)
    if "calendar" in data:
        calendar_path = _path(data, "calendar", here)
        calendar_bytes = calendar_path.read_bytes()
        calendar_text = decode_csv(calendar_bytes, str(calendar_path))
        calendar_version = document_version(calendar_bytes)
        closed = check_calendar(calendar_text, venue, str(calendar_path))["closed"]
        check_calendar_closures(request, closed, sold)
    scenario_venue(venue, request.overrides)
    live_plan, live_source = _live_plan(data, here, venue, request)
    job = ScenarioJob(
        request=request,
        venue=venue,
        history_csv=history_text,
        history_version=document_version(history_bytes),
        calendar_csv=calendar_text,
        calendar_version=calendar_version,
        live_version=live_source,
        live_plan=live_plan,
        sold=sold,
        as_of=as_of,
        stamp=dt.datetime.now(dt.UTC),
    )
    started = time.perf_counter()
    say(f"{venue.id}: {request.days} day(s) from {request.start}, compared with {live_source}")
    say(f"fitting the demand model to {history_path} ({checked['rows']} rows) ...")
    prepared = prepare(job)
    say(f"optimising {len(prepared.demand.days)} open day(s) ...")
    result = summarise(prepared, solve_days(prepared, request.dates))
    say(f"done in {time.perf_counter() - started:.1f} s\n")
    say(kpi_table(result.kpis, venue.currency))
    say(f"\n{len(result.price_changes)} slot price(s) differ from the live plan")
    for note in result.notes:
        say(f"note: {note}")
    png = Path(args.png) if args.png else source.with_suffix(".png")
    _write_calendar(png, job, result.plan, venue)
    say(f"wrote {png}")
    if args.plan:
        Path(args.plan).write_text(json.dumps(result.plan, indent=1) + "\n", encoding="utf-8")
        say(f"wrote {args.plan} (plan {result.plan['version']})")
    return 0


def kpi_table(kpis: dict[str, dict[str, float]], currency: str) -> str:
    rows: list[tuple[str, ...]] = [("KPI", "scenario", "live", "difference")]
    for name, label in KPI_LABELS.items():
        unit = f" ({currency})" if name in ("revenue", "average_price") else ""
        rows.append(
            (
                label + unit,
                *(_show(name, kpis[side][name]) for side in ("scenario", "live")),
                _show(name, kpis["difference"][name], signed=True),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _show(name: str, value: float, *, signed: bool = False) -> str:
    sign = "+" if signed else ""
    if name == "off_peak_share":
        return f"{value * 100:{sign}.1f}%"
    if name in ("revenue", "average_price"):
        return f"{value:{sign},.2f}"
    return f"{value:{sign},.1f}"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{path}: not valid TOML: {exc}") from None


def _path(data: dict[str, Any], key: str, here: Path) -> Path:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{key}: give the path of the {key} file", field=key)
    return here / value


def _request(data: dict[str, Any], venue: Venue, source: Path) -> ScenarioRequest:
    fields = {key: value for key, value in data.items() if key not in FILE_KEYS}
    try:
        return ScenarioRequest.model_validate({**fields, "venue": venue.id})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(f"{source}: {field}: {first['msg']}", field=field) from None


def _as_of(data: dict[str, Any], venue: Venue) -> dt.date:
    value = data.get("as_of")
    if value is None:
        return dt.datetime.now(venue.zone).date()
    if isinstance(value, dt.date):
        return value
    return parse_date(str(value), field="as_of")


def _sold(data: dict[str, Any], here: Path) -> dict[tuple[dt.date, str], int]:
    if not data.get("sold"):
        return {}
    from optimizer.forecast_io import parse_sold_csv

    path = _path(data, "sold", here)
    return parse_sold_csv(path.read_text(encoding="utf-8"), source=str(path))


def _live_plan(
    data: dict[str, Any], here: Path, venue: Venue, request: ScenarioRequest
) -> tuple[bytes, str]:
    if data.get("live_plan"):
        path = _path(data, "live_plan", here)
        return path.read_bytes(), str(path)
    from api.planning import plan_bytes
    from pricing.bootstrap import bootstrap_plan

    plan = bootstrap_plan(venue, request.start, request.days, "bootstrap")
    return plan_bytes(plan), "the bootstrap plan (no live_plan given)"


def _write_calendar(path: Path, job: ScenarioJob, plan: dict[str, Any], venue: Venue) -> None:
    from api.scenario_chart import write_price_calendar

    sold = {(str(date), slot): n for (date, slot), n in job.sold.items()}
    live = json.loads(job.live_plan or b'{"days": []}')
    dates = [str(date) for date in job.request.dates]
    live_days = [PlanDay.model_validate(day) for day in live["days"] if day["date"] in dates]
    write_price_calendar(
        path,
        dates,
        day_prices([PlanDay.model_validate(day) for day in plan["days"]], sold),
        day_prices(live_days, sold),
        title=f"{venue.display_name()}: {job.request.name or 'scenario'} against the live plan",
        currency=venue.currency,
    )
