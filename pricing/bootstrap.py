"""The plan a venue gets before the optimizer has run: base price, one step up when 70% sold."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from pricing.calendar import entry_slots
from pricing.plan import Plan, PlanDay, PlanSlot, Step
from pricing.venue import Venue

SURGE_SHARE = 0.7


def bootstrap_plan(venue: Venue, start: dt.date, days: int, version: str) -> Plan:
    plan_days = []
    for offset in range(days):
        date = start + dt.timedelta(days=offset)
        base, higher = _opening_and_next(venue, date)
        slots = []
        for slot in entry_slots(venue, date):
            capacity = venue.capacity_of(slot)
            # exact: in floats 90 * 0.7 is 62.99999999999999, which would floor to 62
            at_base = math.floor(capacity * Decimal(str(SURGE_SHARE)))
            steps = [Step(price=base, units=at_base)]
            if higher:
                steps.append(Step(price=higher[0], units=capacity - at_base))
            else:
                steps = [Step(price=base, units=capacity)]
            slots.append(PlanSlot(slot=slot, capacity=capacity, steps=steps))
        if slots:
            plan_days.append(PlanDay(date=date, slots=slots))
    return Plan(venue=venue.id, version=version, currency=venue.currency, days=plan_days)


def _opening_and_next(venue: Venue, date: dt.date) -> tuple[float, list[float]]:
    """The base price, or the nearest allowed one above it that day, and the prices above that."""
    prices = venue.prices
    allowed = [
        p
        for p in prices.ladder_on(date)
        if prices.floor_or_lowest <= p <= prices.ceiling_or_highest
    ]
    opening = next((p for p in allowed if p >= prices.base), allowed[-1])
    return opening, [p for p in allowed if p > opening]
