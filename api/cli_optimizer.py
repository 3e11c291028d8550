"""`yieldgate optimize`: a forecast and the venue's rules to a Plan JSON file.

The optimizer (numpy, PuLP) is imported inside the command, so neither `yieldgate serve` nor
anything else that builds the parser loads the numerical stack.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING

from api.cli_bookings import (
    add_bookings_arguments,
    check_bookings_arguments,
    read_bookings_arguments,
)
from api.cli_common import EXIT_NOT_SOLVED, fail, read_text, say
from pricing.errors import InvalidInput, YieldgateError

if TYPE_CHECKING:
    from optimizer.run import OptimizationResult, OptimizerSettings
    from pricing.plan import Plan


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not above 0")
    return value


def _share(text: str) -> float:
    value = _positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share between 0 and 1")
    return value


def settings_from_args(args: argparse.Namespace) -> OptimizerSettings:
    """The solver options shared by `optimize` and `plan` (see add_solver_arguments)."""
    from optimizer.lp import FairnessRule
    from optimizer.run import OptimizerSettings

    if (args.fair_share is None) != (args.fair_price is None):
        raise InvalidInput("--fair-share and --fair-price go together", field="--fair-share")
    fairness = None
    if args.fair_share is not None:
        fairness = FairnessRule(share=args.fair_share, max_price=args.fair_price)
    return OptimizerSettings(
        solver=args.solver,
        time_limit=args.time_limit,
        fairness=fairness,
        workers=args.workers,
    )


class NotSolved(YieldgateError):
    """Some date has no optimal plan (infeasible, time limit, solver error): exit status 1."""


def plan_or_failure(result: OptimizationResult) -> Plan:
    """The plan of a run, or NotSolved naming the first date that did not solve."""
    if result.plan is None:
        first = result.failures[0]
        more = f" (and {len(result.failures) - 1} more date(s))" if len(result.failures) > 1 else ""
        raise NotSolved(first.reason() + more)
    return result.plan


def write_plan(plan: Plan, result: OptimizationResult, currency: str, out: str) -> None:
    data = plan.model_dump(mode="json", exclude_none=True)
    try:
        Path(out).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        raise YieldgateError(f"{out}: {exc.strerror}") from None
    revenue = sum(k.revenue for k in result.kpis)
    attendance = sum(k.attendance for k in result.kpis)
    print(
        f"wrote plan {plan.version} ({len(plan.days)} date(s), expected revenue "
        f"{revenue:,.0f} {currency}, attendance {attendance:,.0f}) to {out}",
        flush=True,
    )


def _optimize(args: argparse.Namespace) -> int:
    from optimizer.forecast_io import load_forecast
    from optimizer.run import optimize
    from pricing.venue import parse_venue_toml

    try:
        check_bookings_arguments(args)
        settings = settings_from_args(args)
        venue = parse_venue_toml(read_text(args.venue, "--venue"), source=args.venue)
        on_hand = read_bookings_arguments(args, venue)
        forecast = load_forecast(read_text(args.forecast, "--forecast"), source=args.forecast)
        early = [day.date for day in forecast.days if on_hand.as_of and day.date < on_hand.as_of]
        if early:
            raise InvalidInput(
                f"--as-of {on_hand.as_of} is after the forecast's {early[0]}: the places sold "
                "are counted up to then, so earlier days have nothing left to plan",
                field="--as-of",
            )
        if on_hand.curve is not None:
            settings = dataclasses.replace(settings, booking_curve=on_hand.curve)
        say(f"{len(forecast.days)} forecast date(s) for {venue.id}")
        result = optimize(
            venue,
            forecast,
            sold=on_hand.sold,
            as_of=on_hand.as_of,
            settings=settings,
            progress=say,
        )
        write_plan(plan_or_failure(result), result, venue.currency, args.out)
    except NotSolved as exc:
        return fail(exc.detail, EXIT_NOT_SOLVED)
    except YieldgateError as exc:
        return fail(exc.detail)
    return 0


def add_solver_arguments(command: argparse.ArgumentParser) -> None:
    """--solver, --time-limit, --workers and the fairness rule, read by settings_from_args.

    The fairness flags, when given, replace the venue file's `[prices.fairness]` for the run.
    """
    command.add_argument(
        "--solver", choices=["cbc", "highs"], default="cbc", help="LP solver (default: cbc)"
    )
    command.add_argument(
        "--time-limit",
        type=_positive_float,
        default=30.0,
        metavar="SECONDS",
        help="per date (default: %(default)s)",
    )
    command.add_argument(
        "--workers", type=int, default=None, help="solver processes (default: one per core)"
    )
    command.add_argument(
        "--fair-share",
        type=_share,
        help="fairness: at least this share of each slot's capacity offered at or below "
        "--fair-price; the two flags override the venue file's [prices.fairness] "
        "(default: that rule, if any)",
    )
    command.add_argument(
        "--fair-price",
        type=_positive_float,
        help="fairness: the price (goes with --fair-share)",
    )


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `optimize` on the `yieldgate` subparsers."""
    command = commands.add_parser(
        "optimize",
        help="turn a forecast into a price plan (the sales-based LP)",
        description="Solve one linear program per forecast date under the venue's capacity, "
        "occupancy and objective rules, and write the Plan JSON.",
    )
    command.add_argument("--venue", required=True, help="the venue file (TOML)")
    command.add_argument("--forecast", required=True, help="the Forecast JSON file")
    add_bookings_arguments(command, live=False)
    add_solver_arguments(command)
    command.add_argument("--out", required=True, help="where to write the Plan JSON")
    command.set_defaults(run=_optimize)
