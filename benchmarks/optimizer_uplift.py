"""Does the plan earn its keep? Demo world -> forecast -> optimise -> simulate against every flat
ladder price (the same simulated customers for all), and what the most any plan could earn is.

    .venv/bin/python benchmarks/optimizer_uplift.py [--days 56] [--runs 10] [--demand-scale X]
        [--reoptimise-every 7 | --reoptimise-every 0]

Printed, besides the simulated table:
- the same plan made from the world's true demand instead of the fitted forecast (what
  forecast error costs);
- the fluid ceiling: the LP's expected revenue with the whole ladder against its best with a
  single ladder price, both on the true demand with the revenue objective. With one price
  sensitivity for every slot (the demo world's MNL), one flat price is already revenue-optimal
  wherever capacity does not bind, so this bounds what any static plan can add;
- the simulated uplift with the revenue objective (the venue asks for `balanced`, which gives
  up revenue for comfort);
- the upper bound for any policy at all
  (`optimizer.simulation.world_truth.revenue_upper_bound`: the sales-based LP on the true mean
  demand, which no policy's expected revenue can exceed, however it learns or re-solves)
  against the simulated best flat price: the most uplift this world allows, and how much of it
  the plans take.
The table also plays the plan re-optimised during the season
(optimizer/simulation/reoptimise.py: every N days and the day before each date, from the same
forecast and the places sold so far), which a static plan's ceiling does not bound.
Target (issue 5): simulated revenue at least 5% above the best flat price.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib.util
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from api.cli_planning import report_lines
from forecasting.forecast import build_forecast
from forecasting.history import load_calendar, load_history
from forecasting.model import fit_demand
from forecasting.world import write_demo
from optimizer.forecast_io import Forecast, ForecastSlot, parse_forecast
from optimizer.run import OptimizerSettings, optimize
from optimizer.simulation.comparison import Comparison, compare_with_flat_prices
from optimizer.simulation.reoptimise import Reoptimisation
from optimizer.simulation.world_truth import (
    WorldTruth,
    load_world,
    revenue_upper_bound,
    truth_forecast,
)
from optimizer.solve import SolverName
from pricing.plan import Plan
from pricing.venue import Objective, Venue

TARGET = 0.05


def planned(venue: Venue, forecast: Forecast) -> tuple[Plan, float]:
    result = optimize(venue, forecast)
    if result.plan is None:
        raise SystemExit(f"not solved: {result.failures[0].reason()}")
    return result.plan, sum(k.revenue for k in result.kpis)


def single_price(forecast: Forecast, k: int) -> Forecast:
    """The forecast with only its k-th price point: the LP can then only price flat."""
    return dataclasses.replace(
        forecast,
        price_points=(forecast.price_points[k],),
        days=tuple(
            dataclasses.replace(
                day,
                slots=tuple(
                    ForecastSlot(s.slot, (s.weights[k],), s.expected, s.members) for s in day.slots
                ),
            )
            for day in forecast.days
        ),
    )


def fluid_ceiling(venue: Venue, forecast: Forecast) -> tuple[float, float, float]:
    """LP expected revenue: whole ladder, best single price, and that price."""
    full = planned(venue, forecast)[1]
    singles = [
        (planned(venue, single_price(forecast, k))[1], p)
        for k, p in enumerate(forecast.price_points)
        if venue.prices.floor_or_lowest <= p <= venue.prices.ceiling_or_highest
    ]
    best, price = max(singles)
    return full, best, price


def summary(label: str, comparison: Comparison) -> str:
    return (
        f"  {label:44} plan {comparison.plan.mean('revenue'):11,.0f}  best flat "
        f"({comparison.best_flat.name}) {comparison.best_flat.mean('revenue'):11,.0f}  uplift "
        f"{100 * comparison.uplift:+6.2f}% (s.e. {100 * comparison.uplift_stderr:.2f})  "
        f"comfort overflow {comparison.plan.mean('comfort_overflow'):7,.0f} vs "
        f"{comparison.best_flat.mean('comfort_overflow'):7,.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world-seed", type=int, default=7, help="demo-data seed (default 7)")
    parser.add_argument(
        "--demand-scale",
        type=float,
        default=None,
        help="market size against capacity (default: demo-data's world, 0.85)",
    )
    parser.add_argument("--days", type=int, default=56, help="days from the calendar's first")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1, help="simulation seed")
    parser.add_argument(
        "--reoptimise-every",
        type=int,
        default=7,
        help="also play the plan re-optimised in season every N days and the day before each "
        "date (default 7; 0: do not)",
    )
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="yieldgate-uplift-") as directory:
        changes = {} if args.demand_scale is None else {"demand_scale": args.demand_scale}
        world = write_demo(directory, seed=args.world_seed, **changes)
        truth: WorldTruth = load_world(directory)
        venue = truth.venue
        start = dt.date.fromisoformat(world.truth["history_end"]) + dt.timedelta(1)
        started = time.perf_counter()
        model = fit_demand(load_history(Path(directory) / "history.csv", venue))
        calendar = load_calendar(Path(directory) / "calendar.csv")
        forecast = parse_forecast(build_forecast(model, venue, start, args.days, calendar=calendar))
        fit_seconds = time.perf_counter() - started
        started = time.perf_counter()
        plan, expected = planned(venue, forecast)
        solve_seconds = time.perf_counter() - started
        started = time.perf_counter()
        reoptimise = None
        if args.reoptimise_every > 0:
            # HiGHS solves the same LPs as CBC, without a process per solve.
            solver: SolverName = "highs" if importlib.util.find_spec("highspy") else "cbc"
            settings = OptimizerSettings(solver=solver, workers=1)
            reoptimise = Reoptimisation(forecast, every=args.reoptimise_every, settings=settings)
        comparison = compare_with_flat_prices(
            truth, plan, seed=args.seed, runs=args.runs, reoptimise=reoptimise
        )
        sim_seconds = time.perf_counter() - started

        print(
            f"demo world seed {args.world_seed}"
            + (f", demand scale {args.demand_scale}" if args.demand_scale else "")
            + f"; {len(plan.days)} open date(s) from {start}; objective {venue.objective.kind}"
        )
        print(
            f"fit + forecast {fit_seconds:.1f} s (b = {model.price_sensitivity_:.4f}, true "
            f"{truth.price_sensitivity}), optimise {solve_seconds:.1f} s, simulate "
            f"{args.runs} runs x {len(comparison.simulation.results)} policies {sim_seconds:.1f} s"
            + (f" (re-optimising every {args.reoptimise_every} days)" if reoptimise else "")
        )
        print(f"LP expected revenue of the plan: {expected:,.0f} {venue.currency}")
        for line in report_lines(comparison):
            print(line)

        print("diagnosis:")
        revenue_venue = venue.model_copy(update={"objective": Objective(kind="revenue")})
        truth_days = [day.date for day in forecast.days]
        true_forecast = truth_forecast(truth, truth_days)
        rows: dict[str, Comparison] = {f"forecast plan, {venue.objective.kind}": comparison}
        rows["true-demand plan, " + venue.objective.kind] = compare_with_flat_prices(
            truth, planned(venue, true_forecast)[0], seed=args.seed, runs=args.runs
        )
        rows["forecast plan, revenue objective"] = compare_with_flat_prices(
            truth, planned(revenue_venue, forecast)[0], seed=args.seed, runs=args.runs
        )
        rows["true-demand plan, revenue objective"] = compare_with_flat_prices(
            truth, planned(revenue_venue, true_forecast)[0], seed=args.seed, runs=args.runs
        )
        for label, row in rows.items():
            print(summary(label, row))
        full, best, price = fluid_ceiling(revenue_venue, true_forecast)
        ceiling = full / best - 1
        print(
            f"  fluid ceiling (LP on true demand, revenue): whole ladder {full:,.0f}, best "
            f"single price ({price:g}) {best:,.0f}: {100 * ceiling:+.2f}%"
        )
        bound = revenue_upper_bound(truth, truth_days)
        flat = comparison.best_flat.mean("revenue")
        headroom = bound / flat - 1
        print(
            f"  upper bound for any policy (sales-based LP on the true mean demand, no members): "
            f"{bound:,.0f}, {100 * headroom:+.2f}% over the simulated best flat price"
            + (" -- the target is out of reach on this world" if headroom < TARGET else "")
        )
        print(
            f"  share of the reachable gain taken: static {comparison.uplift / headroom:.0%}"
            + (
                f", re-optimised {comparison.uplift_of(comparison.reoptimised) / headroom:.0%}"
                if comparison.reoptimised is not None
                else ""
            )
        )
        verdict = "meets" if comparison.uplift >= TARGET else "misses"
        print(f"the plan {verdict} the {100 * TARGET:.0f}% target: {100 * comparison.uplift:+.2f}%")
        again = comparison.reoptimised
        if again is not None:
            uplift = comparison.uplift_of(again)
            print(
                f"re-optimised in season, it {'meets' if uplift >= TARGET else 'misses'} it: "
                f"{100 * uplift:+.2f}% (s.e. {100 * comparison.uplift_stderr_of(again):.2f})"
            )
        if args.json:
            figures: dict[str, Any] = {
                "world_seed": args.world_seed,
                "demand_scale": args.demand_scale,
                "days": len(plan.days),
                "runs": args.runs,
                "uplift": {label: round(row.uplift, 5) for label, row in rows.items()},
                "uplift_stderr": {
                    label: round(row.uplift_stderr, 5) for label, row in rows.items()
                },
                "fluid_ceiling": round(ceiling, 5),
                "upper_bound_revenue": round(bound, 2),
                "upper_bound_uplift": round(headroom, 5),
                "reoptimise_every": args.reoptimise_every,
                "reoptimised_uplift": None
                if again is None
                else round(comparison.uplift_of(again), 5),
                "reoptimised_uplift_stderr": (
                    None if again is None else round(comparison.uplift_stderr_of(again), 5)
                ),
                "plan_vs_flat": {
                    r.name: round(comparison.plan.mean("revenue") / r.mean("revenue") - 1, 5)
                    for r in comparison.flats
                },
            }
            Path(args.json).write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
