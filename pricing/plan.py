"""The Plan JSON contract, its validation against the venue, and its compiled hot-path form."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pricing.calendar import entry_slots
from pricing.errors import InvalidInput
from pricing.money import scale_cents, to_cents
from pricing.venue import Clock, Venue, minutes_of

Version = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9:._+-]+$")]


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    price: float = Field(ge=0, allow_inf_nan=False)
    units: int = Field(ge=0)


# The step rules (DESIGN.md, step semantics): tickets sell at the first step's price until its
# units are sold, then at the next step's; past the last step, at the last step's price. These
# are their one home: the quote path, the optimizer and the scenarios all price steps with them.


def step_index(step_ends: Sequence[float], position: float) -> int:
    """Index of the step that prices the ticket at 0-based sales position `position`, given the
    steps' cumulative units (`step_ends`): the first step whose units reach past the position,
    and past the last step the last one."""
    return min(bisect_right(step_ends, position), len(step_ends) - 1)


def price_at(steps: Sequence[Step], position: float) -> float:
    """The price of the ticket at 0-based sales position `position` (with `position` tickets
    sold, the next ticket's price)."""
    return steps[step_index(tuple(accumulate(step.units for step in steps)), position)].price


def first_selling_price(steps: Sequence[Step]) -> float:
    """The price a slot opens at, as the quote path sees it: its first step with units (a 0-unit
    step never sells), or the last step's when no step before it has any."""
    return price_at(steps, 0)


class PlanSlot(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    slot: Clock
    capacity: int = Field(ge=0)
    steps: list[Step] = Field(min_length=1)
    expected_sales: float | None = None
    bid_price: float | None = None


class PlanDay(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    date: dt.date
    slots: list[PlanSlot]


class Plan(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    venue: str
    version: Version | None = None
    currency: str
    days: list[PlanDay]


def parse_plan(data: Any) -> Plan:
    """Parse Plan JSON (already decoded); the first problem is raised naming its field."""
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(f"{field}: {first['msg']}", field=field) from None


def plan_capacities(plan: Plan) -> dict[str, dict[str, int]]:
    """Each date's slot capacities (date -> slot -> seats): what a sale is checked against."""
    return {
        day.date.isoformat(): {slot.slot: slot.capacity for slot in day.slots} for day in plan.days
    }


@dataclass(frozen=True, slots=True)
class MergedPlan:
    plan: Plan
    days_new: int  # the dates the published plan brought
    days_kept: int  # the live plan's other dates, kept as they were


def merge_into_live(plan: Plan, live: Plan | None, *, keep_from: dt.date) -> MergedPlan:
    """The plan's dates replace the live plan's; the live plan's other dates from `keep_from` on
    are kept (earlier ones can no longer be sold). Dates come out in order."""
    new_dates = {day.date for day in plan.days}
    kept = [
        day
        for day in (live.days if live else [])
        if day.date not in new_dates and day.date >= keep_from
    ]
    days = sorted([*kept, *plan.days], key=lambda day: day.date)
    return MergedPlan(plan.model_copy(update={"days": days}), len(plan.days), len(kept))


def validate_plan(plan: Plan, venue: Venue) -> None:
    """Check a plan against its venue's rules; raises InvalidInput naming the field at fault."""
    if plan.venue != venue.id:
        raise InvalidInput(f"plan is for venue {plan.venue!r}, not {venue.id!r}", field="venue")
    if plan.currency != venue.currency:
        raise InvalidInput(
            f"plan currency {plan.currency} is not the venue's {venue.currency}", field="currency"
        )
    floor = to_cents(venue.prices.floor_or_lowest)
    ceiling = to_cents(venue.prices.ceiling_or_highest)
    seen_dates: set[dt.date] = set()
    for d, day in enumerate(plan.days):
        where = f"days.{d}"
        if day.date in seen_dates:
            raise InvalidInput(f"{day.date} appears twice", field=f"{where}.date")
        seen_dates.add(day.date)
        open_slots = set(entry_slots(venue, day.date))
        ladder = {to_cents(p) for p in venue.prices.ladder_on(day.date)}
        if not open_slots:
            raise InvalidInput(f"the venue is closed on {day.date}", field=f"{where}.date")
        seen_slots: set[str] = set()
        for s, slot in enumerate(day.slots):
            at = f"{where}.slots.{s}"
            if slot.slot not in open_slots:
                raise InvalidInput(
                    f"{slot.slot} is not an entry slot on {day.date}", field=f"{at}.slot"
                )
            if slot.slot in seen_slots:
                raise InvalidInput(f"{slot.slot} appears twice on {day.date}", field=f"{at}.slot")
            seen_slots.add(slot.slot)
            if slot.capacity > venue.capacity_of(slot.slot):
                raise InvalidInput(
                    f"capacity {slot.capacity} is above the venue's "
                    f"{venue.capacity_of(slot.slot)} for {slot.slot}",
                    field=f"{at}.capacity",
                )
            previous = -1
            for k, step in enumerate(slot.steps):
                cents = to_cents(step.price)
                if cents not in ladder:
                    raise InvalidInput(
                        f"price {step.price} is not on the venue's ladder for {day.date}",
                        field=f"{at}.steps.{k}.price",
                    )
                if not floor <= cents <= ceiling:
                    raise InvalidInput(
                        f"price {step.price} is outside floor and ceiling",
                        field=f"{at}.steps.{k}.price",
                    )
                if cents <= previous:
                    raise InvalidInput("step prices must ascend", field=f"{at}.steps.{k}.price")
                previous = cents


@dataclass(frozen=True, slots=True)
class SlotPricing:
    """One slot of one day, ready to price tickets without any further lookup."""

    slot: str
    minute: int  # the slot's start, minutes after midnight
    capacity: int
    step_prices: tuple[int, ...]
    step_ends: tuple[int, ...]  # cumulative units: step k prices positions below step_ends[k]
    segment_prices: dict[str, tuple[int, ...]]  # per segment, the price of each step in cents
    off_peak: bool

    def step_at(self, position: int) -> int:
        """Index of the step that prices the ticket at 0-based sales position `position`."""
        return step_index(self.step_ends, position)


@dataclass(frozen=True, slots=True)
class CompiledPlan:
    venue: str
    version: str
    currency: str
    days: dict[dt.date, dict[str, SlotPricing]]
    base: int  # the venue's usual adult price, cents
    base_prices: dict[str, int]  # the usual price per segment, cents
    segment_factors: dict[str, float]  # in the venue's order, which is also the pricing order


def compile_plan(plan: Plan, venue: Venue, version: str) -> CompiledPlan:
    """Precompute every price the quote path can need, so a quote is integer arithmetic."""
    base = venue.base_cents
    days: dict[dt.date, dict[str, SlotPricing]] = {}
    for day in plan.days:
        slots: dict[str, SlotPricing] = {}
        for slot in sorted(day.slots, key=lambda s: s.slot):
            prices = tuple(to_cents(step.price) for step in slot.steps)
            slots[slot.slot] = SlotPricing(
                slot=slot.slot,
                minute=minutes_of(slot.slot),
                capacity=slot.capacity,
                step_prices=prices,
                step_ends=tuple(accumulate(step.units for step in slot.steps)),
                segment_prices={
                    segment: tuple(scale_cents(p, factor) for p in prices)
                    for segment, factor in venue.segments.items()
                },
                off_peak=to_cents(first_selling_price(slot.steps)) < base,
            )
        days[day.date] = slots
    return CompiledPlan(
        venue=plan.venue,
        version=version,
        currency=plan.currency,
        days=days,
        base=base,
        base_prices={s: scale_cents(base, f) for s, f in venue.segments.items()},
        segment_factors=dict(venue.segments),
    )
