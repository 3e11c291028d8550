"""Solved dates to a Plan (the published contract) and the per-day KPIs a manager compares."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from optimizer.day_solve import DaySolution
from optimizer.lp import DayProblem, FloatArray
from optimizer.steps import slot_steps
from pricing.plan import Plan, PlanDay, PlanSlot, first_selling_price
from pricing.venue import Venue


@dataclass(frozen=True)
class DayKpis:
    """Expected figures of one date under its plan.

    revenue: of the sales still to come (tickets on hand were priced before); attendance: tickets
    on hand, expected members and expected sales; peak_occupancy: most people inside at an entry
    time; comfort_overflow: people above comfort_occupancy summed over entry times (what the
    balanced objective pays its penalty on); off_peak_share: share of slots opening below base.
    """

    date: dt.date
    revenue: float
    attendance: float
    average_price: float
    peak_occupancy: float
    comfort_overflow: float
    off_peak_share: float


def occupancy_by_window(day: DayProblem, sales_by_slot: FloatArray) -> FloatArray:
    inside = sales_by_slot + _or_zeros(day.sold, day) + _or_zeros(day.members, day)
    return np.array([inside[list(w.users)].sum() for w in day.windows])


def _or_zeros(values: FloatArray | None, day: DayProblem) -> FloatArray:
    return np.zeros(len(day.slots)) if values is None else values


def plan_day(venue: Venue, day: DayProblem, solution: DaySolution) -> tuple[PlanDay, DayKpis]:
    sold = _or_zeros(day.sold, day)
    sales_by_slot = solution.sales.sum(axis=1)
    fallback = float(day.prices[-1])
    slots = []
    off_peak = 0
    for s, slot in enumerate(day.slots):
        capacity = venue.capacity_of(slot)
        steps = slot_steps(
            day.prices.tolist(),
            solution.sales[s].tolist(),
            remaining=math.floor(float(day.slot_capacity[s]) + 1e-9),
            sold=int(sold[s]),
            capacity=capacity,
            fallback_price=fallback,
            fairness=day.fairness,
        )
        off_peak += first_selling_price(steps) < venue.prices.base
        bid = None if solution.bid_prices is None else round(float(solution.bid_prices[s]), 4)
        slots.append(
            PlanSlot(
                slot=slot,
                capacity=capacity,
                steps=steps,
                expected_sales=round(float(sold[s] + sales_by_slot[s]), 2),
                bid_price=bid,
            )
        )
    occupancy = occupancy_by_window(day, sales_by_slot)
    comfort = venue.comfort_occupancy
    overflow = 0.0 if comfort is None else float(np.maximum(occupancy - comfort, 0.0).sum())
    paid = float(sales_by_slot.sum())
    kpis = DayKpis(
        date=day.date,
        revenue=round(solution.revenue, 2),
        attendance=round(float(expected_attendance(day, sales_by_slot)), 2),
        average_price=round(solution.revenue / paid, 2) if paid > 0 else 0.0,
        peak_occupancy=round(float(occupancy.max(initial=0.0)), 2),
        comfort_overflow=round(overflow, 2),
        off_peak_share=round(off_peak / len(day.slots), 4) if day.slots else 0.0,
    )
    return PlanDay(date=day.date, slots=slots), kpis


def expected_attendance(day: DayProblem, sales_by_slot: FloatArray) -> float:
    """Everyone expected that day: paid sales still to come, tickets on hand, members."""
    return float((sales_by_slot + _or_zeros(day.sold, day) + _or_zeros(day.members, day)).sum())


def plan_version(stamp: dt.datetime, days: Sequence[PlanDay]) -> str:
    """`2027-01-04T02:00:00Z-3f9c`: when, and four hex digits of what, as in DESIGN's example."""
    digest = hashlib.sha256("".join(day.model_dump_json() for day in days).encode()).hexdigest()
    return f"{stamp.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}-{digest[:4]}"


def build_plan(
    venue: Venue,
    problems: Sequence[DayProblem],
    solutions: Sequence[DaySolution],
    *,
    stamp: dt.datetime,
) -> tuple[Plan, list[DayKpis]]:
    days, kpis = [], []
    for day, solution in zip(problems, solutions, strict=True):
        plan_day_, day_kpis = plan_day(venue, day, solution)
        days.append(plan_day_)
        kpis.append(day_kpis)
    plan = Plan(
        venue=venue.id,
        version=plan_version(stamp, days),
        currency=venue.currency,
        days=days,
    )
    return plan, kpis
