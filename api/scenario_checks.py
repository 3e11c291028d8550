"""Checks of a scenario against its venue, the calendar and the tickets already sold.

Each raises InvalidInput naming the field of the request at fault, so a manager sees which
override contradicts what (`overrides.capacity.0.capacity: 80 is below the 95 tickets already
sold for 11:00 on 2027-03-03`). Pure Python: the service runs them before any heavy work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from api.scenario_request import Overrides, ScenarioRequest
from pricing.calendar import entry_slots
from pricing.errors import Conflict, InvalidInput
from pricing.venue import Venue, parse_venue

# A forecast reaches at most this many days past the last day of its history.
MAX_HORIZON_DAYS = 366

SoldCounts = Mapping[tuple[dt.date, str], int]


def _fail(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", field=field)


def check_dates(
    request: ScenarioRequest, today: dt.date, history_first: dt.date, history_last: dt.date
) -> None:
    """From today on, and no further past the history than the history is long (at most
    MAX_HORIZON_DAYS): a trend learnt from a few months says nothing about next year."""
    if request.start < today:
        raise _fail("start", f"{request.start} is in the past at the venue (today is {today})")
    horizon = min(MAX_HORIZON_DAYS, (history_last - history_first).days + 1)
    reach = history_last + dt.timedelta(horizon)
    if request.end > reach:
        field = "start" if request.start > reach else "days"
        raise _fail(
            field,
            f"the scenario ends {request.end}, but the history ends {history_last} and covers "
            f"{(history_last - history_first).days + 1} days, so it can be forecast only "
            f"{horizon} days ahead (to {reach}); upload a newer or longer history",
        )


def _check_range(
    field: str, start: dt.date, end: dt.date, request: ScenarioRequest, from_key: str = "from"
) -> None:
    if end < start:
        raise _fail(f"{field}.to", f"{end} is before {from_key} {start}")
    if start < request.start or end > request.end:
        where = f"{field}.{from_key}" if start < request.start else f"{field}.to"
        raise _fail(
            where,
            f"{start} to {end} is outside the scenario's dates {request.start} to {request.end}",
        )


def _open_slots(venue: Venue, start: dt.date, end: dt.date) -> set[str]:
    days = (end - start).days + 1
    return {slot for i in range(days) for slot in entry_slots(venue, start + dt.timedelta(i))}


def check_calendar_closures(
    request: ScenarioRequest, closed: Iterable[str], sold: SoldCounts
) -> None:
    """A day the venue's calendar shuts may not hold tickets sold: a plan made from that
    calendar would take the day off sale under them."""
    shut = {dt.date.fromisoformat(day) for day in closed}
    for date in request.dates:
        if date not in shut:
            continue
        tickets = sum(n for (day, _), n in sold.items() if day == date)
        if tickets:
            raise Conflict(
                f"calendar: the venue's calendar shuts {date}, but {tickets} ticket(s) are sold "
                "for it; cancel them or correct the calendar",
                field="calendar",
            )


def check_overrides(request: ScenarioRequest, venue: Venue, sold: SoldCounts) -> None:
    """Every override lies within the scenario and fits the venue and the tickets sold."""
    overrides = request.overrides
    for i, demand in enumerate(overrides.demand):
        _check_range(f"overrides.demand.{i}", demand.from_, demand.to, request)
    for i, event in enumerate(overrides.events):
        _check_range(f"overrides.events.{i}", event, event, request)
    for i, closed in enumerate(overrides.closed):
        field = f"overrides.closed.{i}"
        _check_range(field, closed.date, closed.date, request, from_key="date")
        grid = entry_slots(venue, closed.date)
        for j, slot in enumerate(closed.slots or []):
            if slot not in grid:
                raise _fail(f"{field}.slots.{j}", f"{slot} is not an entry slot on {closed.date}")
        for j, slot in enumerate(grid if closed.slots is None else closed.slots):
            tickets = sold.get((closed.date, slot), 0)
            if tickets:
                where = f"{field}.date" if closed.slots is None else f"{field}.slots.{j}"
                raise _fail(
                    where,
                    f"{tickets} tickets are already sold for {slot} on {closed.date}; "
                    "a scenario cannot close it",
                )
    for i, rule in enumerate(overrides.capacity):
        field = f"overrides.capacity.{i}"
        _check_range(field, rule.from_, rule.to, request)
        open_slots = _open_slots(venue, rule.from_, rule.to)
        for j, slot in enumerate(rule.slots or []):
            if slot not in open_slots:
                raise _fail(
                    f"{field}.slots.{j}",
                    f"{slot} is not an entry slot on any day from {rule.from_} to {rule.to}",
                )
        # Without `slots` the rule caps every slot; a slot named outright may not be raised.
        for slot in rule.slots or []:
            if rule.capacity > venue.capacity_of(slot):
                raise _fail(
                    f"{field}.capacity",
                    f"{rule.capacity} is above the venue's capacity {venue.capacity_of(slot)} "
                    f"for {slot}; a plan may not sell more than the venue file allows",
                )
    _check_capacity_against_sold(request, venue, sold)


def _check_capacity_against_sold(request: ScenarioRequest, venue: Venue, sold: SoldCounts) -> None:
    overrides = request.overrides
    for i, rule in enumerate(overrides.capacity):
        for date in request.dates:
            if not rule.from_ <= date <= rule.to:
                continue
            grid = entry_slots(venue, date)
            for slot in grid if rule.slots is None else rule.slots:
                tickets = sold.get((date, slot), 0)
                if slot in grid and rule.capacity < tickets:
                    raise _fail(
                        f"overrides.capacity.{i}.capacity",
                        f"{rule.capacity} is below the {tickets} tickets already sold for "
                        f"{slot} on {date}",
                    )


def scenario_venue(venue: Venue, overrides: Overrides) -> Venue:
    """The venue with the scenario's prices and objective; contradictions name the override."""
    data = venue.model_dump()
    prices = overrides.prices
    if prices is not None:
        data["prices"].update(prices.model_dump(exclude_none=True))
    if overrides.objective is not None:
        data["objective"].update(overrides.objective.model_dump(exclude_none=True))
    try:
        return parse_venue(data, source="scenario")
    except InvalidInput as exc:
        field = _override_field(exc.field or "prices", overrides, venue)
        message = exc.detail.split(": ", 2)[-1]
        raise _fail(field, message) from None


def _override_field(venue_field: str, overrides: Overrides, venue: Venue) -> str:
    """The request field behind a venue-level complaint (base is never overridden itself)."""
    prices = overrides.prices
    base = venue.prices.base
    rule = venue.prices.fairness
    if venue_field.startswith("prices.fairness") and prices is not None and rule is not None:
        # The venue's own fairness rule is not overridable: the scenario's prices broke it.
        ladder = prices.ladder
        if ladder is not None and not ladder[0] <= rule.max_price <= ladder[-1]:
            return "overrides.prices.ladder"
        if prices.floor is not None and prices.floor > rule.max_price:
            return "overrides.prices.floor"
        for name in ("ladder", "floor", "ceiling"):
            if getattr(prices, name) is not None:
                return f"overrides.prices.{name}"
    if venue_field.startswith("prices.base") and prices is not None:
        if prices.floor is not None and prices.floor > base:
            return "overrides.prices.floor"
        if prices.ceiling is not None and prices.ceiling < base:
            return "overrides.prices.ceiling"
        return "overrides.prices.ladder"
    return f"overrides.{venue_field}"
