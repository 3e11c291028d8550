"""From a venue, one forecast day and the bookings on hand to the LP data of that date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from optimizer.booking_curve import remaining_demand_share
from optimizer.forecast_io import Forecast, ForecastDay
from optimizer.lp import DayProblem, FairnessRule, Objective
from optimizer.occupancy import museum_stays, windows_in_use
from pricing.calendar import entry_slots
from pricing.errors import InvalidInput
from pricing.money import to_cents
from pricing.venue import Venue, minutes_of


@dataclass(frozen=True)
class PriceGrid:
    """The forecast's price points a plan may use: on the venue's ladder, within floor/ceiling."""

    indices: tuple[int, ...]  # positions in the forecast's price_points
    prices: tuple[float, ...]
    revenue_per_sale: tuple[float, ...]


def mean_segment_factor(venue: Venue) -> float:
    """Revenue of an average ticket per unit of adult price, from the paid-ticket segment mix."""
    mix = venue.demand.segment_mix
    total = sum(mix.values())
    if total <= 0:
        return 1.0
    return sum(share * venue.segments[segment] for segment, share in mix.items()) / total


def price_grid(venue: Venue, forecast: Forecast, date: dt.date) -> PriceGrid:
    """The grid for one date: the venue's ladder for that weekday (see `Prices.ladder_on`)."""
    ladder = {to_cents(p) for p in venue.prices.ladder_on(date)}
    floor = to_cents(venue.prices.floor_or_lowest)
    ceiling = to_cents(venue.prices.ceiling_or_highest)
    indices = tuple(
        k
        for k, price in enumerate(forecast.price_points)
        if to_cents(price) in ladder and floor <= to_cents(price) <= ceiling
    )
    if not indices:
        raise InvalidInput(
            f"price_points: none is on the venue's ladder for {date} within floor and ceiling",
            field="price_points",
        )
    factor = mean_segment_factor(venue)
    prices = tuple(forecast.price_points[k] for k in indices)
    return PriceGrid(indices, prices, tuple(p * factor for p in prices))


def check_forecast_against_venue(venue: Venue, forecast: Forecast) -> None:
    if forecast.venue != venue.id:
        raise InvalidInput(
            f"venue: the forecast is for {forecast.venue!r}, not {venue.id!r}", field="venue"
        )
    for d, day in enumerate(forecast.days):
        open_slots = set(entry_slots(venue, day.date))
        if not open_slots:
            continue  # closed: skipped and reported by the caller
        for s, slot in enumerate(day.slots):
            if slot.slot not in open_slots:
                field = f"days.{d}.slots.{s}.slot"
                raise InvalidInput(
                    f"{field}: {slot.slot} is not an entry slot on {day.date}", field=field
                )


def check_sold_against_venue(venue: Venue, sold: Mapping[tuple[dt.date, str], int]) -> None:
    for date, slot in sold:
        if slot not in entry_slots(venue, date):
            raise InvalidInput(f"sold: {slot} is not an entry slot on {date}", field="slot")


def build_day_problem(
    venue: Venue,
    day: ForecastDay,
    grid: PriceGrid,
    *,
    sold: Mapping[tuple[dt.date, str], int] | None = None,
    as_of: dt.date | None = None,
    fairness: FairnessRule | None = None,
    demand_share: Callable[[int], float] = remaining_demand_share,
) -> DayProblem:
    """The LP data of one open date. Without `as_of`, the whole booking season is still ahead."""
    slots = tuple(sorted(s.slot for s in day.slots))
    by_slot = {s.slot: s for s in day.slots}
    sold = sold or {}
    sold_now = np.array([float(sold.get((day.date, slot), 0)) for slot in slots])
    capacity = np.array([float(venue.capacity_of(slot)) for slot in slots])
    weights = np.array([[by_slot[slot].weights[k] for k in grid.indices] for slot in slots])
    share = 1.0 if as_of is None else demand_share((day.date - as_of).days)
    # Members book through the quote path on the same curve as buyers, so the places sold
    # already hold the members who have booked: only the members still to come are reserved.
    members = share * np.array([by_slot[slot].members for slot in slots])

    windows = windows_in_use(
        museum_stays([minutes_of(slot) for slot in slots], venue.dwell_minutes)
    )
    inside_already = sold_now + members
    fixed = np.array([inside_already[list(w.users)].sum() for w in windows])
    building = None
    if venue.building_capacity is not None:
        # Bookings on hand can exceed a later-lowered capacity; then nothing more is sold there,
        # rather than the whole day being infeasible.
        building = np.maximum(venue.building_capacity - fixed, 0.0)
    objective = Objective(
        kind=venue.objective.kind,
        crowding_penalty=venue.objective.crowding_penalty,
        min_revenue=venue.objective.min_revenue,
    )
    comfort = None
    if objective.kind == "balanced" and venue.comfort_occupancy is not None:
        comfort = venue.comfort_occupancy - fixed
    return DayProblem(
        date=day.date,
        slots=slots,
        prices=np.array(grid.prices),
        revenue_per_sale=np.array(grid.revenue_per_sale),
        weights=weights,
        market_size=day.arrivals * share,
        slot_capacity=np.maximum(capacity - sold_now - members, 0.0),
        windows=windows,
        building_capacity=building,
        comfort_capacity=comfort,
        objective=objective,
        fairness=fairness,
        sold=sold_now,
        members=members,
    )
