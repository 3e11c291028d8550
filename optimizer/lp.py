"""The sales-based linear program of one visit date (Gallego, Ratliff & Shebalov 2015).

With x[s,k] the expected sales of slot s at ladder price k and x0 the expected non-buyers of the
day's remaining market A:

    maximise   sum r_k x[s,k]                    (or attendance, or revenue - crowding penalty)
    subject to sum x + x0 = A                     market_balance
               sum_k x[s,k] / v[s,k] <= x0        one_price_<slot>: one price on offer at a time
               sum_k x[s,k] <= remaining C_s      slot_capacity_<slot>
               sum_{s inside at t} x <= B_t       building_<t>
               sum_{s inside at t} x - o_t <= comfort_t, penalty on o_t  (balanced) comfort_<t>
               revenue >= min_revenue             min_revenue (attendance)
               sales at or below P >= share of sales  fairness_<slot>

Under the MNL, the LP optimum is the best time-share of offer sets, so a slot mixes at most a
few adjacent prices; those become the plan's ascending steps.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from optimizer.model import ModelBuilder, Terms
from optimizer.occupancy import Window, add_window_capacity_rows, window_usage

ObjectiveKind = Literal["revenue", "attendance", "balanced"]

# A price point whose choice weight is below this sells (weight x A) next to nothing, and its
# 1/weight coefficient would only make the one-price rows ill-conditioned.
MIN_WEIGHT = 1e-7

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FairnessRule:
    """At least `share` of each slot's capacity offered at or below `max_price`."""

    share: float
    max_price: float


@dataclass(frozen=True)
class Objective:
    kind: ObjectiveKind = "revenue"
    crowding_penalty: float = 0.0
    min_revenue: float | None = None


@dataclass(frozen=True)
class DayProblem:
    """Everything one date's LP needs; plain data so it travels to worker processes."""

    date: dt.date
    slots: tuple[str, ...]
    prices: FloatArray  # K ladder prices on offer, ascending
    revenue_per_sale: FloatArray  # K: price times the segment mix's mean factor
    weights: FloatArray  # S x K MNL weights
    market_size: float  # potential buyers still to come
    slot_capacity: FloatArray  # S: capacity net of places sold and members still to come, >= 0
    windows: tuple[Window, ...]  # occupancy windows over the slots (entry times)
    building_capacity: FloatArray | None  # per window, net of people already expected inside
    comfort_capacity: FloatArray | None  # per window, comfort occupancy net of the same
    objective: Objective = Objective()
    fairness: FairnessRule | None = None
    sold: FloatArray | None = None  # S: tickets already sold (bookings on hand), for the plan
    members: FloatArray | None = None  # S: free member visits still expected (not yet booked)


def slot_label(slot: str) -> str:
    """'10:30' -> '1030': names solvers and model files read without trouble."""
    return slot.replace(":", "")


def price_label(price: float) -> str:
    return f"{price:g}"


@dataclass(frozen=True)
class SalesModel:
    model: ModelBuilder
    sales_names: list[list[str | None]]  # [slot][price]: variable name, None where not offered
    capacity_rows: list[list[str]]  # [slot]: rows whose dual is the cost of one more sale there


def build_sales_lp(day: DayProblem, *, elastic: bool = False) -> SalesModel:
    model = ModelBuilder(f"sales_{day.date.isoformat()}", "maximise", elastic=elastic)
    labels = [slot_label(s) for s in day.slots]
    offered = day.weights >= MIN_WEIGHT
    no_purchase = model.variable("no_purchase")
    sales_names: list[list[str | None]] = []
    sales_by_slot: list[Terms] = []
    revenue: Terms = []
    attendance: Terms = []
    for s, label in enumerate(labels):
        names: list[str | None] = []
        slot_sales: Terms = []
        one_price: Terms = [(no_purchase, -1.0)]
        for k in range(len(day.prices)):
            if not offered[s, k]:
                names.append(None)
                continue
            name = f"sales_{label}_at_{price_label(day.prices[k])}"
            x = model.variable(name)
            names.append(name)
            slot_sales.append((x, 1.0))
            one_price.append((x, 1.0 / float(day.weights[s, k])))
            revenue.append((x, float(day.revenue_per_sale[k])))
        sales_names.append(names)
        sales_by_slot.append(slot_sales)
        attendance.extend(slot_sales)
        model.at_most(f"one_price_{label}", one_price, 0.0)
        model.at_most(f"slot_capacity_{label}", slot_sales, float(day.slot_capacity[s]))
        if day.fairness is not None:
            _add_fairness_row(model, day, s, label, slot_sales)

    model.equal("market_balance", [*attendance, (no_purchase, 1.0)], day.market_size)
    capacity_rows = [[f"slot_capacity_{label}"] for label in labels]
    window_labels = [_clock_label(w.start) for w in day.windows]
    if day.building_capacity is not None:
        building_rows = add_window_capacity_rows(
            model,
            "building",
            sales_by_slot,
            day.windows,
            day.building_capacity.tolist(),
            window_labels,
        )
        for name, window in zip(building_rows, day.windows, strict=True):
            for s in window.users:
                capacity_rows[s].append(name)
    objective = day.objective
    overflow: Terms = []
    if objective.kind == "balanced" and day.comfort_capacity is not None:
        for w, window in enumerate(day.windows):
            above = model.variable(f"overflow_{window_labels[w]}")
            name = f"comfort_{window_labels[w]}"
            usage = window_usage(sales_by_slot, window)
            model.at_most(name, [*usage, (above, -1.0)], float(day.comfort_capacity[w]))
            overflow.append((above, -objective.crowding_penalty))
            for s in window.users:
                capacity_rows[s].append(name)
    if objective.kind == "attendance":
        if objective.min_revenue is not None:
            model.at_least("min_revenue", revenue, objective.min_revenue)
        model.objective(attendance)
    else:
        model.objective([*revenue, *overflow])
    return SalesModel(model, sales_names, capacity_rows)


def _add_fairness_row(
    model: ModelBuilder, day: DayProblem, s: int, label: str, slot_sales: Terms
) -> None:
    # Sales at or below the fair price make up at least `share` of the slot's sales: always
    # feasible, and the plan then offers that share of capacity there (see optimizer.steps).
    rule = day.fairness
    assert rule is not None
    fair = day.prices <= rule.max_price + 1e-9
    offered = day.weights[s] >= MIN_WEIGHT
    terms: Terms = []
    for (x, _), k in zip(slot_sales, np.flatnonzero(offered), strict=True):
        terms.append((x, (1.0 if fair[k] else 0.0) - rule.share))
    model.at_least(f"fairness_{label}", terms, 0.0)


def _clock_label(minutes: int) -> str:
    return f"{minutes // 60:02d}{minutes % 60:02d}"
