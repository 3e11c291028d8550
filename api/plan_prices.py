"""The price a plan asks for each slot's next ticket, given the tickets already sold. Pure Python.

The step rule itself is `pricing.plan.price_at` (DESIGN.md step semantics).
"""

from __future__ import annotations

from collections.abc import Sequence

from pricing.plan import PlanDay, price_at


def day_prices(
    plan_days: Sequence[PlanDay], sold: dict[tuple[str, str], int]
) -> dict[tuple[str, str], float]:
    """(date, slot) -> the next ticket's price, for every slot of the plan's days."""
    prices = {}
    for day in plan_days:
        date = day.date.isoformat()
        for slot in day.slots:
            prices[(date, slot.slot)] = price_at(slot.steps, sold.get((date, slot.slot), 0))
    return prices
