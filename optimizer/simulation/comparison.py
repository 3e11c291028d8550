"""Does the plan earn its keep? It and every flat ladder price (within floor and ceiling) meet
the same simulated customers (optimizer/simulation/simulate.py); the best flat price is the
yardstick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from optimizer.simulation.reoptimise import Reoptimisation
from optimizer.simulation.simulate import REOPTIMISED, PolicyResult, Simulation, simulate
from optimizer.simulation.world_truth import WorldTruth
from pricing.plan import Plan, PlanDay, PlanSlot, Step
from pricing.venue import Venue


def flat_plan(plan: Plan, price: float) -> Plan:
    """The plan's dates and slots, every slot at one price for all of its capacity."""
    days = [
        PlanDay(
            date=day.date,
            slots=[
                PlanSlot(
                    slot=s.slot, capacity=s.capacity, steps=[Step(price=price, units=s.capacity)]
                )
                for s in day.slots
            ],
        )
        for day in plan.days
    ]
    return Plan(venue=plan.venue, version=f"flat-{price:g}", currency=plan.currency, days=days)


def flat_prices(venue: Venue) -> list[float]:
    """The ladder prices a plan may use: within floor and ceiling."""
    low, high = venue.prices.floor_or_lowest, venue.prices.ceiling_or_highest
    return [p for p in venue.prices.ladder if low - 1e-9 <= p <= high + 1e-9]


@dataclass(frozen=True)
class Comparison:
    simulation: Simulation
    plan: PolicyResult
    flats: tuple[PolicyResult, ...]
    best_flat: PolicyResult
    reoptimised: PolicyResult | None = None  # the plan re-solved during the season, if asked

    @property
    def uplift(self) -> float:
        """Mean revenue of the plan over the best flat price's, minus one."""
        return self.uplift_of(self.plan)

    @property
    def uplift_stderr(self) -> float:
        return self.uplift_stderr_of(self.plan)

    def uplift_of(self, result: PolicyResult) -> float:
        """Mean revenue of `result` over the best flat price's, minus one."""
        return result.mean("revenue") / self.best_flat.mean("revenue") - 1.0

    def uplift_stderr_of(self, result: PolicyResult) -> float:
        """Standard error of the uplift from the paired per-run differences."""
        runs = self.simulation.runs
        if runs < 2:
            return float("nan")
        difference = result.revenue - self.best_flat.revenue
        return float(difference.std(ddof=1) / math.sqrt(runs)) / self.best_flat.mean("revenue")


def compare_with_flat_prices(
    truth: WorldTruth,
    plan: Plan,
    *,
    seed: int = 0,
    runs: int = 5,
    reoptimise: Reoptimisation | None = None,
) -> Comparison:
    """The plan (and, with `reoptimise`, the plan re-solved during the season) against every
    flat ladder price, on the same simulated customers."""
    prices = flat_prices(truth.venue)
    policies: dict[str, Plan] = {"plan": plan}
    policies.update({f"flat {p:g}": flat_plan(plan, p) for p in prices})
    simulation = simulate(truth, policies, seed=seed, runs=runs, reoptimise=reoptimise)
    flats = tuple(r for r in simulation.results if r.name.startswith("flat "))
    best = max(flats, key=lambda r: r.mean("revenue"))
    again = simulation.result(REOPTIMISED) if reoptimise is not None else None
    return Comparison(simulation, simulation.result("plan"), flats, best, again)


def comparison_as_dict(comparison: Comparison) -> dict[str, Any]:
    """The figures as JSON-ready values (means over runs)."""
    figures = ("revenue", "paid", "attendance", "peak_occupancy", "comfort_overflow")
    simulation = comparison.simulation
    return {
        "dates": [str(simulation.dates[0]), str(simulation.dates[-1])],
        "days": len(simulation.dates),
        "runs": simulation.runs,
        "seed": simulation.seed,
        "currency": simulation.currency,
        "buyers": float(simulation.buyers.mean()),
        "policies": {
            r.name: {f: round(r.mean(f), 2) for f in (*figures, "sold_out_slots")}
            for r in simulation.results
        },
        "best_flat": comparison.best_flat.name,
        "uplift": round(comparison.uplift, 5),
        "uplift_stderr": round(comparison.uplift_stderr, 5),
        **(
            {}
            if comparison.reoptimised is None
            else {
                "reoptimised_uplift": round(comparison.uplift_of(comparison.reoptimised), 5),
                "reoptimised_uplift_stderr": round(
                    comparison.uplift_stderr_of(comparison.reoptimised), 5
                ),
            }
        ),
    }
