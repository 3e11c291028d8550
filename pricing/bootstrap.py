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
    base = venue.prices.base
    higher = [p for p in venue.prices.ladder if base < p <= venue.prices.ceiling_or_highest]
    plan_days = []
    for offset in range(days):
        date = start + dt.timedelta(days=offset)
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
