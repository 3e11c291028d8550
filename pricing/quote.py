"""The quote computation: tickets walked through a slot's price steps, plus what a buyer is told.

Each ticket is priced at the step its sales position falls in. Within one order the tickets
take positions in the venue's segment order (adults first as listed in `[segments]`), so the
same order at the same sold count always costs the same.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from pricing.errors import InvalidInput, NotFound, SoldOut
from pricing.money import vat_included
from pricing.plan import CompiledPlan, SlotPricing

Availability = Literal["available", "few_left", "sold_out"]
ALTERNATIVE_WINDOW_MINUTES = 120
MAX_ALTERNATIVES = 3


@dataclass(frozen=True, slots=True)
class QuoteLine:
    segment: str
    quantity: int
    unit_prices: tuple[int, ...]  # cents, one per ticket
    amount: int  # cents


@dataclass(frozen=True, slots=True)
class Alternative:
    slot: str
    price: int  # the next adult ticket's price there, cents
    saving: int  # per adult ticket against the slot asked for, cents (0 if not cheaper)


@dataclass(frozen=True, slots=True)
class PricedOrder:
    lines: tuple[QuoteLine, ...]
    total: int
    vat: int
    off_peak: bool
    saving: int  # against the venue's usual prices for the same tickets, cents
    explanation: str
    alternatives: tuple[Alternative, ...]


@dataclass(frozen=True, slots=True)
class SlotOffer:
    slot: str
    capacity: int
    remaining: int
    availability: Availability
    price: int
    segment_prices: dict[str, int]
    off_peak: bool
    saving: int


def money(currency: str, cents: int) -> str:
    return f"{currency} {cents // 100}.{cents % 100:02d}"


def availability(capacity: int, sold: int, few_left_share: float) -> Availability:
    remaining = capacity - sold
    if remaining <= 0:
        return "sold_out"
    # Fraction of the decimal text, so 100 * 0.07 is 7 tickets and not 7.000000000000001.
    if remaining <= max(1, math.ceil(capacity * Fraction(str(few_left_share)))):
        return "few_left"
    return "available"


def check_tickets(
    tickets: Mapping[str, int], factors: Mapping[str, float], max_tickets: int
) -> dict[str, int]:
    """The order's tickets in pricing order; InvalidInput naming the bad segment otherwise."""
    for segment, quantity in tickets.items():
        if segment not in factors:
            raise InvalidInput(
                f"unknown segment {segment!r}; this venue sells {', '.join(factors)}",
                field=f"tickets.{segment}",
            )
        if quantity <= 0:
            raise InvalidInput(
                f"quantity must be at least 1, got {quantity}", field=f"tickets.{segment}"
            )
    if not tickets:
        raise InvalidInput("an order needs at least one ticket", field="tickets")
    count = sum(tickets.values())
    if count > max_tickets:
        raise InvalidInput(
            f"{count} tickets is more than the {max_tickets} allowed in one order",
            field="tickets",
        )
    return {segment: tickets[segment] for segment in factors if segment in tickets}


def price_tickets(pricing: SlotPricing, sold: int, tickets: Mapping[str, int]) -> list[QuoteLine]:
    """Walk the steps: the ticket at sales position i is priced at the step holding i."""
    lines = []
    position = sold
    for segment, quantity in tickets.items():
        table = pricing.segment_prices[segment]
        units = tuple(table[pricing.step_at(position + i)] for i in range(quantity))
        position += quantity
        lines.append(QuoteLine(segment, quantity, units, sum(units)))
    return lines


def next_price(pricing: SlotPricing, sold: int) -> int:
    return pricing.step_prices[pricing.step_at(sold)]


def bookable(pricing: SlotPricing, from_minute: int) -> bool:
    return pricing.minute >= from_minute


def nearby_alternatives(
    day: Mapping[str, SlotPricing],
    sold: Mapping[str, int],
    slot: str,
    needed: int,
    reference: int,
    from_minute: int,
    *,
    cheaper_only: bool,
) -> tuple[Alternative, ...]:
    """Slots within two hours that can take the whole order, cheapest then nearest first."""
    at = day[slot].minute
    found = []
    for other, pricing in day.items():
        distance = abs(pricing.minute - at)
        if other == slot or distance > ALTERNATIVE_WINDOW_MINUTES:
            continue
        if not bookable(pricing, from_minute):
            continue
        taken = sold.get(other, 0)
        if pricing.capacity - taken < needed:
            continue
        price = next_price(pricing, taken)
        if cheaper_only and price >= reference:
            continue
        found.append((price, distance, Alternative(other, price, max(0, reference - price))))
    found.sort(key=lambda item: (item[0], item[1]))
    return tuple(alternative for _, _, alternative in found[:MAX_ALTERNATIVES])


def find_day(plan: CompiledPlan, date: dt.date) -> dict[str, SlotPricing]:
    day = plan.days.get(date)
    if day is None:
        raise NotFound(f"no prices are published for {date}", field="date")
    return day


def find_slot(day: Mapping[str, SlotPricing], date: dt.date, slot: str) -> SlotPricing:
    pricing = day.get(slot)
    if pricing is None:
        raise NotFound(f"{slot} is not an entry slot on sale on {date}", field="slot")
    return pricing


def quote_order(
    plan: CompiledPlan,
    day: Mapping[str, SlotPricing],
    pricing: SlotPricing,
    sold: Mapping[str, int],
    tickets: Mapping[str, int],
    vat_rate: float,
    from_minute: int,
) -> PricedOrder:
    """Price an already checked order; SoldOut (with alternatives) when it does not fit."""
    needed = sum(tickets.values())
    taken = sold.get(pricing.slot, 0)
    remaining = pricing.capacity - taken
    if remaining < needed:
        reference = next_price(pricing, min(taken, max(pricing.capacity - 1, 0)))
        alternatives = nearby_alternatives(
            day, sold, pricing.slot, needed, reference, from_minute, cheaper_only=False
        )
        detail = (
            f"{pricing.slot} is sold out"
            if remaining <= 0
            else f"{pricing.slot} has {remaining} tickets left, the order needs {needed}"
        )
        raise SoldOut(detail, field="slot", remaining=max(remaining, 0), alternatives=alternatives)

    lines = price_tickets(pricing, taken, tickets)
    total = sum(line.amount for line in lines)
    usual = sum(plan.base_prices[line.segment] * line.quantity for line in lines)
    reference = next_price(pricing, taken)
    return PricedOrder(
        lines=tuple(lines),
        total=total,
        vat=vat_included(total, vat_rate),
        off_peak=pricing.off_peak,
        saving=max(0, usual - total),
        explanation=explain(plan, pricing, taken, needed, tickets),
        alternatives=nearby_alternatives(
            day, sold, pricing.slot, needed, reference, from_minute, cheaper_only=True
        ),
    )


def explain(
    plan: CompiledPlan, pricing: SlotPricing, sold: int, needed: int, tickets: Mapping[str, int]
) -> str:
    """Why the price is what it is, in a sentence or three a buyer or a manager can read."""
    cur = plan.currency
    n_steps = len(pricing.step_prices)
    first, last = pricing.step_at(sold), pricing.step_at(sold + needed - 1)
    if first == last:
        where = f"step {first + 1} of {n_steps} ({money(cur, pricing.step_prices[first])} adult)"
    else:
        steps = ", then ".join(money(cur, p) for p in pricing.step_prices[first : last + 1])
        where = f"steps {first + 1}-{last + 1} of {n_steps} ({steps} adult; it is filling up)"
    parts = [f"Usual adult price {money(cur, plan.base)}; this slot is at {where}."]
    others = [
        f"{segment} pays {round(plan.segment_factors[segment] * 100)}%"
        for segment in tickets
        if segment != "adult"
    ]
    if others:
        parts.append(f"Against the adult price, {'; '.join(others)}.")
    if pricing.off_peak:
        saving = plan.base - pricing.step_prices[first]
        if saving > 0:
            parts.append(f"Off-peak: {money(cur, saving)} less per adult than usual.")
    return " ".join(parts)


def list_offers(
    plan: CompiledPlan,
    day: Mapping[str, SlotPricing],
    sold: Mapping[str, int],
    from_minute: int,
    few_left_share: float,
) -> list[SlotOffer]:
    """Every bookable slot of a day with the price of its next ticket, for the slot picker."""
    offers = []
    for slot, pricing in day.items():
        if not bookable(pricing, from_minute):
            continue
        taken = sold.get(slot, 0)
        step = pricing.step_at(taken)
        price = pricing.step_prices[step]
        offers.append(
            SlotOffer(
                slot=slot,
                capacity=pricing.capacity,
                remaining=max(0, pricing.capacity - taken),
                availability=availability(pricing.capacity, taken, few_left_share),
                price=price,
                segment_prices={s: table[step] for s, table in pricing.segment_prices.items()},
                off_peak=pricing.off_peak,
                saving=max(0, plan.base - price),
            )
        )
    return offers
