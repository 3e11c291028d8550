"""The price a plan asks for a slot's next ticket, given the tickets already sold. Pure Python.

Step semantics (DESIGN.md): ticket number n (0-based) is priced at the first step whose
cumulative units exceed n; past the last step, at the last step's price.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate
from typing import Any


def step_price(steps: Sequence[Any], sold: int) -> float:
    """`steps` are Step models or Plan JSON dicts with `price` and `units`."""
    prices = [_get(step, "price") for step in steps]
    ends = list(accumulate(int(_get(step, "units")) for step in steps))
    for price, end in zip(prices, ends, strict=True):
        if sold < end:
            return float(price)
    return float(prices[-1])


def day_prices(
    plan_days: Sequence[dict[str, Any]], sold: dict[tuple[str, str], int]
) -> dict[tuple[str, str], float]:
    """(date, slot) -> the next ticket's price, for every slot of Plan JSON days."""
    return {
        (day["date"], slot["slot"]): step_price(
            slot["steps"], sold.get((day["date"], slot["slot"]), 0)
        )
        for day in plan_days
        for slot in day["slots"]
    }


def _get(step: Any, key: str) -> Any:
    return step[key] if isinstance(step, dict) else getattr(step, key)
