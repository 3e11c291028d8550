"""Build and solve times of the sales-based LP: one day, and a year of 365 days x 14 slots x 10
prices, CBC against HiGHS, sequential against parallel processes. Prints its figures.

    .venv/bin/python benchmarks/optimizer_solve.py [--days 365] [--repeat 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from collections.abc import Callable

import numpy as np

from optimizer.day_solve import solve_day
from optimizer.lp import DayProblem, Objective, build_sales_lp
from optimizer.occupancy import museum_stays, windows_in_use
from optimizer.run import OptimizerSettings, solve_days
from optimizer.solve import SOLVERS, solve_model

SLOTS, PRICES = 14, 10


def synthetic_day(date: dt.date, rng: np.random.Generator) -> DayProblem:
    prices = np.arange(12.0, 12.0 + 2 * PRICES, 2.0)
    entries = [600 + 30 * s for s in range(SLOTS)]
    hours = np.array(entries) / 60
    appeal = 1.0 - 0.25 * (hours - 12.5) ** 2 + rng.normal(0, 0.1, SLOTS)
    windows = windows_in_use(museum_stays(entries, 120))
    return DayProblem(
        date=date,
        slots=tuple(f"{t // 60:02d}:{t % 60:02d}" for t in entries),
        prices=prices,
        revenue_per_sale=prices * 0.82,
        weights=np.exp(appeal[:, None] - 0.1 * prices[None, :]),
        market_size=float(rng.uniform(1000, 6000)),
        slot_capacity=np.full(SLOTS, 120.0),
        windows=windows,
        building_capacity=np.full(len(windows), 600.0),
        comfort_capacity=np.full(len(windows), 450.0),
        objective=Objective(kind="balanced", crowding_penalty=2.0),
    )


def timed(function: Callable[..., object], *args: object) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=20, help="one-day runs to take medians of")
    args = parser.parse_args()
    rng = np.random.default_rng(2027)
    start = dt.date(2027, 1, 1)
    year = [synthetic_day(start + dt.timedelta(days=d), rng) for d in range(args.days)]
    day = year[0]
    cores = os.cpu_count() or 1
    print(f"one day: {SLOTS} slots x {PRICES} prices; year: {args.days} days; {cores} core(s)")
    for solver in SOLVERS:
        solve_day(day, solver)  # warm up: first HiGHS model, first CBC start
        build = [timed(build_sales_lp, day) for _ in range(args.repeat)]
        solve = [timed(solve_model, build_sales_lp(day).model, solver) for _ in range(args.repeat)]
        total = [timed(solve_day, day, solver) for _ in range(args.repeat)]
        print(
            f"  day  {solver:5}  build {1000 * statistics.median(build):6.1f} ms  "
            f"solve {1000 * statistics.median(solve):6.1f} ms  "
            f"build+solve+read {1000 * statistics.median(total):6.1f} ms"
        )
    for solver in SOLVERS:
        for workers in (1, cores):
            settings = OptimizerSettings(solver=solver, workers=workers, parallel_min_dates=1)
            started = time.perf_counter()
            solutions = solve_days(year, settings)
            seconds = time.perf_counter() - started
            optimal = sum(s.outcome.is_optimal for s in solutions)
            mode = "sequential" if workers == 1 else f"{workers} processes"
            print(
                f"  year {solver:5}  {mode:12} {seconds:6.2f} s  "
                f"({optimal}/{len(solutions)} optimal)"
            )


if __name__ == "__main__":
    main()
