"""From one slot's LP allocation to Plan JSON price steps.

Step semantics (DESIGN): tickets sell at the first step's price until its units are gone, then at
the next; past the last step, at the last price until capacity. The LP offers a slot one price
at a time and typically mixes two adjacent prices; selling the cheaper share first is the order
in which prices rise as the slot fills. So:
- prices the LP sells at, ascending, each with its expected sales rounded to whole tickets;
- the last step takes all remaining capacity (a single-price slot is one step with all of it);
- units never add up to more than the remaining capacity; zero-unit steps are dropped;
- tickets already sold hold the first positions (the quote path counts positions from the
  slot's first sale), so they are added to the first step's units;
- a slot the LP sells nothing in is priced at the highest allowed price, the nearest thing to
  not offering it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from optimizer.lp import FairnessRule
from pricing.plan import Step

# Expected sales below this are solver noise, not a price on offer.
SALES_EPSILON = 1e-6


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def slot_steps(
    prices: Sequence[float],
    sales: Sequence[float],
    *,
    remaining: int,
    sold: int,
    capacity: int,
    fallback_price: float,
    fairness: FairnessRule | None = None,
) -> list[Step]:
    chosen = [(p, x) for p, x in zip(prices, sales, strict=True) if x > SALES_EPSILON]
    chosen.sort()
    if not chosen:
        plan = [[fallback_price, remaining]]
    else:
        plan = []
        placed = 0
        for price, expected in chosen[:-1]:
            units = min(_round_half_up(expected), remaining - placed)
            plan.append([price, units])
            placed += units
        plan.append([chosen[-1][0], remaining - placed])
    if fairness is not None:
        plan = _offer_fair_share(plan, prices, fairness, capacity, remaining)
    kept = [step for step in plan if step[1] > 0] or [plan[-1]]
    kept[0][1] += min(sold, capacity)
    return [Step(price=float(price), units=int(units)) for price, units in kept]


def _offer_fair_share(
    plan: list[list[float | int]],
    prices: Sequence[float],
    rule: FairnessRule,
    capacity: int,
    remaining: int,
) -> list[list[float | int]]:
    """Move units down to the fair price until `share` of capacity is offered at or below it."""
    need = min(remaining, math.ceil(rule.share * capacity - 1e-9))
    fair = [step for step in plan if step[0] <= rule.max_price]
    if sum(int(step[1]) for step in fair) >= need:
        return plan
    if not fair:
        fair_prices = [p for p in prices if p <= rule.max_price]
        if not fair_prices:
            return plan  # nothing on the ladder is that cheap; the LP row already said so
        plan = [[max(fair_prices), 0], *plan]
        fair = [plan[0]]
    target = fair[-1]
    for step in plan[len(fair) :]:
        moved = min(int(step[1]), need - sum(int(s[1]) for s in fair))
        step[1] = int(step[1]) - moved
        target[1] = int(target[1]) + moved
    return plan
