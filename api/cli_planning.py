"""`yieldgate plan` (forecast, optimise, optionally publish) and `yieldgate simulate` (how a plan
does against simulated customers of a demo world, next to every flat price).

forecasting, the optimizer and numpy are imported inside the commands, so registering them
loads none of the numerical stack.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from api.cli_bookings import (
    add_bookings_arguments,
    check_bookings_arguments,
    read_bookings_arguments,
    with_live_counts,
)
from api.cli_common import EXIT_NOT_SOLVED, fail, read_text, say
from api.cli_optimizer import (
    NotSolved,
    add_solver_arguments,
    plan_or_failure,
    settings_from_args,
    write_plan,
)
from pricing.calendar import parse_date
from pricing.errors import InvalidInput, YieldgateError

if TYPE_CHECKING:
    from optimizer.simulation.comparison import Comparison
    from optimizer.simulation.reoptimise import Reoptimisation


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not at least 1")
    return value


# --- plan ------------------------------------------------------------------------------------


def _plan(args: argparse.Namespace) -> int:
    try:
        return _plan_or_raise(args)
    except NotSolved as exc:
        return fail(exc.detail, EXIT_NOT_SOLVED)
    except YieldgateError as exc:
        return fail(exc.detail)
    except OSError as exc:
        return fail(f"{exc.filename}: {exc.strerror}")


def _plan_or_raise(args: argparse.Namespace) -> int:
    # Everything that can be told wrong without fitting anything is checked first.
    try:
        start = parse_date(args.start, field="--start")
    except InvalidInput as exc:
        raise InvalidInput(f"--start: {exc.detail}", field="--start") from None
    if (args.url or args.key) and not (args.publish or args.sold_live):
        raise InvalidInput("--url and --key are for --publish and --sold-live", field="--url")
    check_bookings_arguments(args)
    url = args.url or os.environ.get("YIELDGATE_URL")
    key = args.key or os.environ.get("YIELDGATE_MANAGER_KEY")
    if args.publish or args.sold_live:
        from api.cli_publish import store_configured

        if url and not key:
            raise InvalidInput("--key (a manager key) is needed with --url", field="--key")
        if not url and not store_configured():
            what = " and ".join(
                w
                for w, asked in (
                    ("publish", args.publish),
                    ("read the places sold", args.sold_live),
                )
                if asked
            )
            raise InvalidInput(
                f"say where to {what}: --url of a running service, or REDIS_URL", field="--url"
            )
    settings = settings_from_args(args)
    from api.cli_forecasting import fit_history_model, read_venue

    venue = read_venue(args.venue)
    on_hand = read_bookings_arguments(args, venue)
    if on_hand.as_of is not None and start < on_hand.as_of:
        raise InvalidInput(
            f"--start {start} is before --as-of {on_hand.as_of}: the places sold are counted "
            "up to then, so earlier days have nothing left to plan; start at --as-of, or give "
            "--as-of (today's date if today's bookings are still to come)",
            field="--start",
        )

    from forecasting.forecast import build_forecast, write_forecast
    from forecasting.history import load_calendar
    from optimizer.forecast_io import parse_forecast
    from optimizer.run import optimize

    calendar = load_calendar(args.calendar) if args.calendar else None
    model = fit_history_model(venue, args.history)
    forecast_data = build_forecast(model, venue, start, args.days, calendar=calendar)
    for note in forecast_data["notes"]:
        say(f"note: {note}")
    if args.forecast_out:
        write_forecast(args.forecast_out, forecast_data)
        say(f"wrote {args.forecast_out}")
    forecast = parse_forecast(forecast_data)
    say(f"{len(forecast.days)} forecast date(s) for {venue.id} from {start}")
    on_hand = with_live_counts(on_hand, venue, [day.date for day in forecast.days], url, key)
    if on_hand.curve is not None:
        settings = dataclasses.replace(settings, booking_curve=on_hand.curve)
    result = optimize(
        venue, forecast, sold=on_hand.sold, as_of=on_hand.as_of, settings=settings, progress=say
    )
    plan = plan_or_failure(result)
    write_plan(plan, result, venue.currency, args.out)
    if not args.publish:
        return 0
    from api.cli_publish import publish_plan_data

    say(f"publishing {plan.version} to {url or 'the store at REDIS_URL'}")
    return publish_plan_data(plan.model_dump(mode="json", exclude_none=True), url, key)


# --- simulate --------------------------------------------------------------------------------


def _simulate(args: argparse.Namespace) -> int:
    try:
        return _simulate_or_raise(args)
    except YieldgateError as exc:
        return fail(exc.detail)


def _simulate_or_raise(args: argparse.Namespace) -> int:
    from optimizer.simulation.comparison import compare_with_flat_prices, comparison_as_dict
    from optimizer.simulation.world_truth import load_world
    from pricing.plan import parse_plan

    truth = load_world(args.world)
    text = read_text(args.plan, "--plan")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{args.plan}: not valid JSON: {exc}", field="--plan") from None
    try:
        plan = parse_plan(data)
    except InvalidInput as exc:
        raise InvalidInput(f"{args.plan}: {exc.detail}", field=exc.field) from None
    if not plan.days:
        raise InvalidInput(f"{args.plan}: the plan has no dates", field="days")
    reoptimise = _reoptimisation(args)
    say(
        f"simulating {len(plan.days)} date(s) ({plan.days[0].date} to {plan.days[-1].date}) x "
        f"{args.runs} run(s), seed {args.seed}: the plan"
        + (" (also re-optimised in season)" if reoptimise else "")
        + " and every flat ladder price"
    )
    started = time.perf_counter()
    comparison = compare_with_flat_prices(
        truth, plan, seed=args.seed, runs=args.runs, reoptimise=reoptimise
    )
    say(f"done in {time.perf_counter() - started:.1f} s")
    for line in report_lines(comparison):
        print(line)
    if args.json:
        try:
            Path(args.json).write_text(
                json.dumps(comparison_as_dict(comparison), indent=1) + "\n", encoding="utf-8"
            )
        except OSError as exc:
            raise InvalidInput(f"{args.json}: {exc.strerror}", field="--json") from None
        say(f"wrote {args.json}")
    return 0


def _reoptimisation(args: argparse.Namespace) -> Reoptimisation | None:
    """--reoptimise-every with the --forecast the plan came from, or None."""
    if args.reoptimise_every is None:
        if args.forecast:
            raise InvalidInput("--forecast is for --reoptimise-every", field="--forecast")
        return None
    if not args.forecast:
        raise InvalidInput(
            "--reoptimise-every needs --forecast, the Forecast JSON the plan came from",
            field="--forecast",
        )
    from optimizer.forecast_io import load_forecast
    from optimizer.simulation.reoptimise import Reoptimisation

    return Reoptimisation(
        load_forecast(read_text(args.forecast, "--forecast"), source=args.forecast),
        every=args.reoptimise_every,
        day_before=not args.no_day_before,
        horizon=args.horizon,
    )


def report_lines(comparison: Comparison) -> list[str]:
    """The comparison as a table: means over runs, and the plan's revenue against each row."""
    simulation = comparison.simulation
    currency = simulation.currency
    plan_revenue = comparison.plan.mean("revenue")
    lines = [
        f"{len(simulation.dates)} date(s), {simulation.runs} run(s), "
        f"{simulation.buyers.mean():,.0f} potential buyers a run (means over runs)",
        f"{'policy':11} {'revenue ' + currency:>14} {'tickets':>9} {'attendance':>11} "
        f"{'peak inside':>12} {'comfort overflow':>17} {'sold-out slots':>15} {'plan vs':>8}",
    ]
    for result in simulation.results:
        revenue = result.mean("revenue")
        versus = "" if result is comparison.plan else f"{100 * (plan_revenue / revenue - 1):+.1f}%"
        lines.append(
            f"{result.name:11} {revenue:14,.0f} {result.mean('paid'):9,.0f} "
            f"{result.mean('attendance'):11,.0f} {result.mean('peak_occupancy'):12,.0f} "
            f"{result.mean('comfort_overflow'):17,.0f} {result.mean('sold_out_slots'):15,.1f} "
            f"{versus:>8}"
        )
    policies = [("", comparison.plan)]
    if comparison.reoptimised is not None:
        policies = [("static plan ", comparison.plan), ("re-optimised ", comparison.reoptimised)]
    for label, result in policies:
        error = comparison.uplift_stderr_of(result)
        spread = f" (standard error {100 * error:.2f} points)" if error == error else ""
        lines.append(
            f"{label}uplift over the best flat price ({comparison.best_flat.name}): "
            f"{100 * comparison.uplift_of(result):+.2f}% revenue{spread}"
        )
    return lines


# --- registration ----------------------------------------------------------------------------


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `plan` and `simulate` on the `yieldgate` subparsers."""
    plan = commands.add_parser(
        "plan",
        help="forecast and optimise in one go, and optionally publish the plan",
        description="Fit the demand model to the history, forecast N days from DATE, solve "
        "the sales-based LP per date and write the Plan JSON; with --publish, make it live "
        "through a running service (--url, --key) or straight in the store at REDIS_URL.",
    )
    plan.add_argument("--venue", required=True, metavar="V", help="venue TOML file")
    plan.add_argument("--history", required=True, metavar="H", help="History CSV")
    plan.add_argument("--calendar", metavar="C", help="Calendar CSV of the days to plan")
    plan.add_argument("--start", required=True, metavar="DATE", help="first day (YYYY-MM-DD)")
    plan.add_argument(
        "--days", required=True, type=_positive_int, metavar="N", help="number of days"
    )
    plan.add_argument("--out", required=True, metavar="P", help="Plan JSON to write")
    plan.add_argument("--forecast-out", metavar="F", help="also write the Forecast JSON here")
    add_bookings_arguments(plan, live=True)
    add_solver_arguments(plan)
    plan.add_argument("--publish", action="store_true", help="make the plan live")
    plan.add_argument(
        "--url",
        help="with --publish or --sold-live: a running service (default: YIELDGATE_URL, else "
        "straight to the store at REDIS_URL)",
    )
    plan.add_argument(
        "--key",
        help="with --url: a manager API key (default: YIELDGATE_MANAGER_KEY)",
    )
    plan.set_defaults(run=_plan)

    simulate = commands.add_parser(
        "simulate",
        help="play a demo world's customers against a plan and every flat price",
        description="Customers drawn from a demo world's true demand (yieldgate demo-data) "
        "book the plan's dates, each seeing every slot's current price as the slots fill. The "
        "same customers meet the plan and each flat ladder price; revenue, tickets, "
        "attendance, peak occupancy and comfort overflow are averaged over the runs.",
    )
    simulate.add_argument("--world", required=True, metavar="DIR", help="a demo-data directory")
    simulate.add_argument("--plan", required=True, metavar="P", help="the Plan JSON to play")
    simulate.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    simulate.add_argument(
        "--runs", type=_positive_int, default=5, help="seasons to average (default: 5)"
    )
    simulate.add_argument(
        "--reoptimise-every",
        type=_positive_int,
        metavar="N",
        help="also play the plan re-optimised in season every N days (and the day before each "
        "date) with the places sold so far; needs --forecast",
    )
    simulate.add_argument(
        "--forecast", metavar="F", help="with --reoptimise-every: the Forecast JSON of the plan"
    )
    simulate.add_argument(
        "--horizon",
        type=int,
        default=28,
        metavar="D",
        help="with --reoptimise-every: re-solve dates at most D days ahead (default: 28)",
    )
    simulate.add_argument(
        "--no-day-before",
        action="store_true",
        help="with --reoptimise-every: no extra re-optimisation the day before each date",
    )
    simulate.add_argument("--json", metavar="F", help="also write the figures as JSON")
    simulate.set_defaults(run=_simulate)
