"""Solve one date's LP and read back what the plan needs: sales per slot and price, bid prices."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np

from optimizer.lp import DayProblem, FloatArray, build_sales_lp
from optimizer.model import ModelBuilder
from optimizer.outcome import SolveOutcome
from optimizer.solve import SolverName, solve_or_explain


@dataclass(frozen=True)
class DaySolution:
    date: dt.date
    outcome: SolveOutcome  # without values and duals: those are read into the arrays below
    sales: FloatArray  # S x K expected sales (zeros unless optimal)
    bid_prices: FloatArray | None  # S, in currency; None when the objective is not money
    revenue: float
    overflow: float  # expected people above comfort, summed over windows (balanced only)


def solve_day(
    day: DayProblem, solver: SolverName = "cbc", time_limit: float | None = None
) -> DaySolution:
    sales_model = build_sales_lp(day)

    def build(elastic: bool) -> ModelBuilder:
        return sales_model.model if not elastic else build_sales_lp(day, elastic=True).model

    outcome = solve_or_explain(build, solver, time_limit)
    sales = np.zeros_like(day.weights)
    bid_prices: FloatArray | None = None
    revenue = overflow = 0.0
    if outcome.is_optimal:
        for s, names in enumerate(sales_model.sales_names):
            for k, name in enumerate(names):
                if name is not None:
                    sales[s, k] = max(outcome.values[name], 0.0)
        revenue = float((sales @ day.revenue_per_sale).sum())
        overflow = sum(v for n, v in outcome.values.items() if n.startswith("overflow_"))
        if day.objective.kind != "attendance":
            bid_prices = np.array(
                [
                    max(sum(outcome.duals[row] for row in rows), 0.0)
                    for rows in sales_model.capacity_rows
                ]
            )
    slim = dataclasses.replace(outcome, values={}, duals={})
    return DaySolution(day.date, slim, sales, bid_prices, revenue, overflow)
