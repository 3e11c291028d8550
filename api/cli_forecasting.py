"""The forecasting commands of `yieldgate`: demo-data, forecast and backtest.

`add_commands(commands)` registers them on the CLI's subparsers. forecasting (numpy, scipy,
statsmodels) is imported inside each command, so the service itself never loads it."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

from api.cli_common import guarded, read_text, say
from pricing.calendar import parse_date
from pricing.errors import InvalidInput
from pricing.venue import Venue, parse_venue_toml

if TYPE_CHECKING:
    from forecasting.gate import ForecastModel
    from forecasting.history import History


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo-data",
        help="write a synthetic venue with two years of history and its true demand",
        description="Writes venue.toml, history.csv, calendar.csv, bookings.csv and truth.json "
        "into DIR.",
    )
    demo.add_argument("--out", required=True, metavar="DIR", help="directory to write into")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default: %(default)s)")
    demo.set_defaults(run=guarded(_demo_data))

    forecast = commands.add_parser(
        "forecast",
        help="fit the demand model to a history and write a Forecast JSON",
        description="Fits market size and slot choice to the history and writes, per day, "
        "arrivals and per-slot demand with 80% bands (Forecast JSON, DESIGN.md).",
    )
    forecast.add_argument("--venue", required=True, metavar="V", help="venue TOML file")
    forecast.add_argument("--history", required=True, metavar="H", help="History CSV")
    forecast.add_argument("--calendar", metavar="C", help="Calendar CSV of the days to forecast")
    forecast.add_argument("--start", required=True, metavar="DATE", help="first day (YYYY-MM-DD)")
    forecast.add_argument("--days", required=True, type=int, metavar="N", help="number of days")
    forecast.add_argument("--out", required=True, metavar="F", help="Forecast JSON to write")
    forecast.set_defaults(run=guarded(_forecast))

    backtest = commands.add_parser(
        "backtest",
        help="score the demand model on rolling origins against seasonal-naive and ETS",
        description="Rolling-origin backtest of slot sales: WAPE, MASE and 80% interval "
        "coverage for the model, seasonal-naive and ETS, overall and per slot.",
    )
    backtest.add_argument("--venue", required=True, metavar="V", help="venue TOML file")
    backtest.add_argument("--history", required=True, metavar="H", help="History CSV")
    backtest.add_argument("--folds", type=int, default=4, help="origins (default: %(default)s)")
    backtest.add_argument(
        "--horizon", type=int, default=28, help="days per fold (default: %(default)s)"
    )
    backtest.add_argument("--plot", metavar="PNG", help="plot of the last fold")
    backtest.add_argument("--json", metavar="F", help="write every score as JSON")
    backtest.set_defaults(run=guarded(_backtest))


def read_venue(path: str) -> Venue:
    return parse_venue_toml(read_text(path, "--venue"), source=path)


def _demo_data(args: argparse.Namespace) -> int:
    from forecasting.world import write_demo

    started = time.perf_counter()
    world = write_demo(args.out, seed=args.seed)
    out = Path(args.out)
    say(
        f"wrote {out / 'venue.toml'}, {out / 'history.csv'} ({len(world.history_rows)} rows, "
        f"{world.truth['history_start']} to {world.truth['history_end']}), "
        f"{out / 'calendar.csv'} ({len(world.calendar_rows)} days), {out / 'bookings.csv'} "
        f"(booking dates of the last {world.spec.booking_days} days) and {out / 'truth.json'} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return 0


def read_history(path: str, venue: Venue) -> History:
    """The venue's History CSV, for every command that reads one; a row dated after today (at
    the venue) is refused naming the file and line."""
    from forecasting.history import load_history

    return load_history(path, venue, today=dt.datetime.now(venue.zone).date())


def fit_history_model(venue: Venue, history_path: str) -> ForecastModel:
    """Read the venue's history and fit the forecaster, reporting progress: the MNL, with the
    level forecast chosen by a short backtest (forecasting/gate.py).

    Shared by `yieldgate forecast` and `yieldgate plan`.
    """
    from forecasting.gate import fit_forecaster

    history = read_history(history_path, venue)
    for warning in history.warnings:
        say(f"warning: {warning}")
    days = (history.last_date - history.first_date).days + 1
    slots = len(history.slot_names())
    print(
        f"fitting {days / 365.25:.1f} years x {slots} slots ({history.row_count} rows) ...",
        end=" ",
        flush=True,
    )
    started = time.perf_counter()
    model = fit_forecaster(history)
    say(f"done in {time.perf_counter() - started:.1f} s ({model.name})")
    b = model.price_sensitivity_
    if model.price_sensitivity_source_ == "prior":
        say(f"price sensitivity: used the venue's prior {b:g} (no price variation to learn from)")
    else:
        say(f"price sensitivity: {b:.4f} per {venue.currency} (estimated)")
    return model


def _forecast(args: argparse.Namespace) -> int:
    from forecasting.forecast import build_forecast, write_forecast
    from forecasting.history import load_calendar

    start = parse_date(args.start, field="--start")
    if args.days < 1:
        raise InvalidInput("--days must be at least 1", field="--days")
    calendar = load_calendar(args.calendar) if args.calendar else None
    venue = read_venue(args.venue)
    model = fit_history_model(venue, args.history)
    forecast = build_forecast(model, venue, start, args.days, calendar=calendar)
    write_forecast(args.out, forecast)
    say(f"wrote {args.out}: {len(forecast['days'])} days from {start} ({forecast['model']})")
    for note in forecast["notes"]:
        say(f"note: {note}")
    return 0


def _backtest(args: argparse.Namespace) -> int:
    from forecasting.backtest import plot_last_fold, run_backtest

    venue = read_venue(args.venue)
    history = read_history(args.history, venue)
    for warning in history.warnings:
        say(f"warning: {warning}")
    say(
        f"backtest: {args.folds} folds x {args.horizon} days, fitting the model once per fold "
        "(with its own choice of level forecast)"
    )
    started = time.perf_counter()
    result = run_backtest(history, folds=args.folds, horizon=args.horizon, progress=say)
    say(f"done in {time.perf_counter() - started:.1f} s")
    say(f"{'method':16} {'WAPE':>7} {'MASE':>7} {'80% coverage':>13} {'(not sold out)':>15}")
    for method, s in result.overall.items():
        say(f"{method:16} {s.wape:7.3f} {s.mase:7.3f} {s.coverage:13.3f} {s.coverage_open:15.3f}")
    say("per slot WAPE: model / seasonal_naive / ets")
    for slot, scores in result.per_slot["model"].items():
        naive, ets = result.per_slot["seasonal_naive"][slot], result.per_slot["ets"][slot]
        say(f"  {slot}  {scores.wape:6.3f} / {naive.wape:6.3f} / {ets.wape:6.3f}")
    for note in result.notes:
        say(f"note: {note}")
    if args.plot:
        plot_last_fold(result, args.plot)
        say(f"wrote {args.plot}")
    if args.json:
        Path(args.json).write_text(json.dumps(result.as_dict(), indent=1) + "\n", encoding="utf-8")
        say(f"wrote {args.json}")
    return 0
