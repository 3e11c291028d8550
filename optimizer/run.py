"""Optimise every date of a forecast: independent LPs, solved in worker processes when many."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial

from optimizer.booking_curve import BookingCurve
from optimizer.day_problem import (
    build_day_problem,
    check_forecast_against_venue,
    check_sold_against_venue,
    price_grid,
)
from optimizer.day_solve import DaySolution, solve_day
from optimizer.forecast_io import Forecast
from optimizer.lp import DayProblem, FairnessRule
from optimizer.outcome import SolveOutcome
from optimizer.solve import SolverName
from optimizer.to_plan import DayKpis, build_plan
from pricing.calendar import entry_slots
from pricing.plan import Plan, validate_plan
from pricing.venue import Venue

# Below this many dates, starting worker processes costs more than it saves (one date solves
# in milliseconds; a worker starts in tens of them).
PARALLEL_MIN_DATES = 24
DEFAULT_TIME_LIMIT_SECONDS = 30.0

Progress = Callable[[str], None]


@dataclass(frozen=True)
class OptimizerSettings:
    solver: SolverName = "cbc"
    time_limit: float | None = DEFAULT_TIME_LIMIT_SECONDS  # per date
    fairness: FairnessRule | None = None  # None: the venue file's rule, if any
    workers: int | None = None  # None: one per core
    parallel_min_dates: int = PARALLEL_MIN_DATES
    # what is still to come when re-optimising
    booking_curve: BookingCurve = field(default_factory=BookingCurve)


@dataclass(frozen=True)
class DayFailure:
    date: dt.date
    outcome: SolveOutcome

    def reason(self) -> str:
        return f"{self.date}: {self.outcome.reason()}"


@dataclass(frozen=True)
class OptimizationResult:
    """A plan when every open date solved to optimality; otherwise the dates that did not."""

    plan: Plan | None
    kpis: list[DayKpis] = field(default_factory=list)
    failures: list[DayFailure] = field(default_factory=list)
    closed_dates: list[dt.date] = field(default_factory=list)
    solutions: list[DaySolution] = field(default_factory=list)


def fairness_of(venue: Venue) -> FairnessRule | None:
    """The venue file's `[prices.fairness]` as the LP takes it (settings.fairness overrides it)."""
    rule = venue.prices.fairness
    return None if rule is None else FairnessRule(share=rule.share, max_price=rule.max_price)


def solve_days(problems: Sequence[DayProblem], settings: OptimizerSettings) -> list[DaySolution]:
    """Solve each date, in order; in parallel processes when there are enough of them."""
    solve = partial(solve_day, solver=settings.solver, time_limit=settings.time_limit)
    workers = settings.workers or os.cpu_count() or 1
    if workers <= 1 or len(problems) < settings.parallel_min_dates:
        return [solve(day) for day in problems]
    chunk = max(1, len(problems) // (workers * 4))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(solve, problems, chunksize=chunk))


def optimize(
    venue: Venue,
    forecast: Forecast,
    *,
    sold: Mapping[tuple[dt.date, str], int] | None = None,
    as_of: dt.date | None = None,
    settings: OptimizerSettings = OptimizerSettings(),
    stamp: dt.datetime | None = None,
    progress: Progress | None = None,
) -> OptimizationResult:
    """Forecast to plan. Bad input raises InvalidInput; solver trouble comes back as failures."""
    report = progress or (lambda _line: None)
    check_forecast_against_venue(venue, forecast)
    if sold:
        check_sold_against_venue(venue, sold)
    closed = [day.date for day in forecast.days if not entry_slots(venue, day.date)]
    problems = [
        build_day_problem(
            venue,
            day,
            price_grid(venue, forecast, day.date),
            sold=sold,
            as_of=as_of,
            fairness=settings.fairness or fairness_of(venue),
            demand_share=settings.booking_curve,
        )
        for day in forecast.days
        if entry_slots(venue, day.date) and day.slots
    ]
    report(
        f"optimising {len(problems)} date(s) with {settings.solver}"
        + (f"; {len(closed)} closed date(s) skipped" if closed else "")
    )
    solutions = solve_days(problems, settings)
    failures = [DayFailure(s.date, s.outcome) for s in solutions if not s.outcome.is_optimal]
    if failures:
        return OptimizationResult(None, failures=failures, closed_dates=closed, solutions=solutions)
    plan, kpis = build_plan(venue, problems, solutions, stamp=stamp or dt.datetime.now(dt.UTC))
    validate_plan(plan, venue)
    seconds = sum(s.outcome.seconds for s in solutions)
    report(f"solved {len(solutions)} date(s) in {seconds:.2f} s of solver time")
    return OptimizationResult(plan, kpis=kpis, closed_dates=closed, solutions=solutions)
