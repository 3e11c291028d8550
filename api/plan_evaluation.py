"""What a plan is expected to give on one day under a given demand: the scenario KPIs.

Both plans of a comparison, the scenario's and the live one, go through this same evaluation,
so their difference is the plans' and not the method's. It is a fluid (expected-value) run of
the booking season: the day's remaining market arrives in PERIODS equal parts; in each part
every slot on sale is offered at its plan's current step price (which rises as the slot fills),
buyers choose by the MNL among the slots with tickets left, and a slot that fills stops selling.

Figures of a day: revenue of the paid tickets still to come (price times the segment mix's mean
factor, as the optimizer counts it); attendance (tickets on hand, members still expected,
expected sales); peak occupancy (most people inside at an entry time, with the venue's dwell);
comfort overflow (people above comfort_occupancy summed over entry times); off-peak visitors
(those in slots whose plan opens below the base price).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from api.scenario_demand import DemandDay, ScenarioDemand
from optimizer.booking_curve import remaining_demand_share
from optimizer.day_problem import mean_segment_factor
from optimizer.occupancy import museum_stays, windows_in_use
from pricing.plan import PlanDay, first_selling_price, price_at
from pricing.venue import Venue, minutes_of

PERIODS = 120


@dataclass(frozen=True)
class DayFigures:
    revenue: float = 0.0
    paid: float = 0.0  # paid tickets still to come
    attendance: float = 0.0
    peak_occupancy: float = 0.0
    comfort_overflow: float = 0.0
    off_peak_visitors: float = 0.0


def evaluate_day(
    venue: Venue,
    demand: ScenarioDemand,
    day: DemandDay,
    plan: PlanDay | None,
    sold: Mapping[tuple[dt.date, str], int],
    as_of: dt.date,
) -> DayFigures:
    """Expected figures of `plan` on `day.date`; a slot the plan does not sell sells nothing."""
    on_sale = {} if plan is None else {slot.slot: slot for slot in plan.slots}
    slots = [s for s in day.slots if s.slot in on_sale]
    on_hand = np.array([float(sold.get((day.date, s.slot), 0)) for s in slots])
    to_come = remaining_demand_share((day.date - as_of).days)
    # The places on hand hold the members who have booked (as the optimizer counts them).
    members = to_come * np.array([s.members for s in slots])
    capacity = np.array([float(on_sale[s.slot].capacity) for s in slots])
    left = np.maximum(capacity - on_hand - members, 0.0)
    position = on_hand.copy()
    steps = [on_sale[s.slot].steps for s in slots]
    weight = np.array([s.weight for s in slots])
    market = day.arrivals * to_come / PERIODS
    factor = mean_segment_factor(venue)
    revenue = paid = 0.0
    sales = np.zeros(len(slots))
    for _ in range(PERIODS if slots else 0):
        price = np.array([price_at(st, n) for st, n in zip(steps, position, strict=True)])
        shift = np.exp(-demand.price_sensitivity * (price - demand.reference_price))
        v = np.where(left > 1e-9, weight * shift, 0.0)
        bought = np.minimum(market * v / (1.0 + v.sum()), left)
        revenue += float((bought * price).sum()) * factor
        paid += float(bought.sum())
        sales += bought
        position += bought
        left -= bought
    inside = on_hand + members + sales
    stays = museum_stays([minutes_of(s.slot) for s in slots], venue.dwell_minutes)
    occupancy = np.array([inside[list(w.users)].sum() for w in windows_in_use(stays)])
    comfort = venue.comfort_occupancy
    overflow = 0.0 if comfort is None else float(np.maximum(occupancy - comfort, 0.0).sum())
    off_peak = [first_selling_price(on_sale[s.slot].steps) < venue.prices.base for s in slots]
    return DayFigures(
        revenue=revenue,
        paid=paid,
        attendance=float(inside.sum()),
        peak_occupancy=float(occupancy.max(initial=0.0)),
        comfort_overflow=overflow,
        off_peak_visitors=float(inside[np.array(off_peak, dtype=bool)].sum()) if slots else 0.0,
    )


def kpis(days: Iterable[DayFigures]) -> dict[str, float]:
    """The DESIGN.md KPIs over a scenario's days."""
    figures = list(days)
    revenue = sum(d.revenue for d in figures)
    paid = sum(d.paid for d in figures)
    attendance = sum(d.attendance for d in figures)
    off_peak = sum(d.off_peak_visitors for d in figures)
    return {
        "revenue": round(revenue, 2),
        "attendance": round(attendance, 1),
        "average_price": round(revenue / paid, 2) if paid > 0 else 0.0,
        "peak_occupancy": round(max((d.peak_occupancy for d in figures), default=0.0), 1),
        "comfort_overflow": round(sum(d.comfort_overflow for d in figures), 1),
        "off_peak_share": round(off_peak / attendance, 4) if attendance > 0 else 0.0,
    }


def difference(scenario: Mapping[str, float], live: Mapping[str, float]) -> dict[str, float]:
    return {
        name: round(scenario[name] - live[name], 4 if name == "off_peak_share" else 2)
        for name in scenario
    }
