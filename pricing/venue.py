"""The venue file (TOML): its model, defaults and the checks that name the offending field."""

from __future__ import annotations

import datetime as dt
import itertools
import tomllib
from functools import cached_property
from typing import Annotated, Any, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from pricing.errors import InvalidInput
from pricing.money import to_cents

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_SEGMENTS = {"adult": 1.0}

Clock = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Money = Annotated[float, Field(ge=0, allow_inf_nan=False)]


def minutes_of(clock: str) -> int:
    """'HH:MM' to minutes after midnight."""
    return int(clock[:2]) * 60 + int(clock[3:5])


def clock_of(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _strictly_ascending(ladder: list[float]) -> list[float]:
    if any(b <= a for a, b in itertools.pairwise(ladder)):
        raise ValueError("ladder prices must be strictly ascending")
    return ladder


Ladder = Annotated[list[Money], AfterValidator(_strictly_ascending)]


class Fairness(_Strict):
    """A guardrail for the optimizer: at least `share` of each slot's capacity is offered at or
    below `max_price` (the command line's --fair-share/--fair-price override it)."""

    share: float = Field(gt=0, le=1, allow_inf_nan=False)
    max_price: Money


class Prices(_Strict):
    ladder: list[Money] = Field(min_length=1)
    base: Money
    floor: Money | None = None
    ceiling: Money | None = None
    # Optional narrower ladders for some weekdays (e.g. no 12 on Saturdays), each a part of ladder.
    weekday_ladders: dict[Weekday, Ladder] = Field(default_factory=dict)
    fairness: Fairness | None = None

    _ascending = field_validator("ladder")(_strictly_ascending)

    def ladder_on(self, date: dt.date) -> list[float]:
        """The prices a plan may use on this date, before floor and ceiling."""
        return self.weekday_ladders.get(cast(Weekday, WEEKDAYS[date.weekday()]), self.ladder)

    @property
    def floor_or_lowest(self) -> float:
        return self.ladder[0] if self.floor is None else self.floor

    @property
    def ceiling_or_highest(self) -> float:
        return self.ladder[-1] if self.ceiling is None else self.ceiling


class Demand(_Strict):
    price_sensitivity_prior: float = Field(default=0.1, gt=0)
    segment_mix: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: {"adult": 1.0}
    )


class Objective(_Strict):
    kind: Literal["revenue", "attendance", "balanced"] = "revenue"
    crowding_penalty: float = Field(default=0.0, ge=0)
    min_revenue: float | None = Field(default=None, ge=0)


class Venue(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str = ""
    timezone: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    vat_rate: float = Field(default=0.0, ge=0, lt=1)
    slot_minutes: int = Field(gt=0, le=720)
    dwell_minutes: int = Field(default=120, gt=0)
    slot_capacity: int = Field(gt=0)
    slot_capacities: dict[Clock, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    building_capacity: int | None = Field(default=None, gt=0)
    comfort_occupancy: int | None = Field(default=None, gt=0)
    hours: dict[Weekday, tuple[Clock, Clock]]
    closed_dates: list[dt.date] = Field(default_factory=list)
    prices: Prices
    segments: dict[str, Annotated[float, Field(ge=0, le=10)]] = Field(
        default_factory=lambda: dict(DEFAULT_SEGMENTS)
    )
    demand: Demand = Field(default_factory=Demand)
    objective: Objective = Field(default_factory=Objective)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_cents(self) -> int:
        return to_cents(self.prices.base)

    @cached_property
    def weekday_slots(self) -> dict[str, tuple[str, ...]]:
        """Entry slots per open weekday, computed once: the quote path asks on every request."""
        return {day: tuple(_day_grid(self, day)) for day in self.hours}

    def capacity_of(self, slot: str) -> int:
        return self.slot_capacities.get(slot, self.slot_capacity)

    def display_name(self) -> str:
        return self.name or self.id


def _check_consistency(venue: Venue) -> None:
    try:
        ZoneInfo(venue.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {venue.timezone!r}", field="timezone") from None
    for day, (opens, closes) in venue.hours.items():
        if minutes_of(closes) - minutes_of(opens) < venue.slot_minutes:
            raise InvalidInput(
                f"{day} closes at {closes}, less than one {venue.slot_minutes}-minute slot "
                f"after opening at {opens}",
                field=f"hours.{day}",
            )
    prices = venue.prices
    floor, ceiling = prices.floor_or_lowest, prices.ceiling_or_highest
    if floor > ceiling:
        raise InvalidInput(f"floor {floor} is above ceiling {ceiling}", field="prices.floor")
    if not floor <= prices.base <= ceiling:
        raise InvalidInput(
            f"base {prices.base} is outside floor {floor} and ceiling {ceiling}",
            field="prices.base",
        )
    if prices.base not in prices.ladder:
        # Plans may only use ladder prices, so a base off the ladder could never be quoted.
        raise InvalidInput(f"base {prices.base} is not on the ladder", field="prices.base")
    for day, ladder in prices.weekday_ladders.items():
        where = f"prices.weekday_ladders.{day}"
        if not ladder:
            raise InvalidInput(f"{day} has an empty ladder", field=where)
        strays = [p for p in ladder if p not in prices.ladder]
        if strays:
            raise InvalidInput(f"{strays[0]} is not on the ladder", field=where)
        if not any(floor <= p <= ceiling for p in ladder):
            raise InvalidInput("no price lies within floor and ceiling", field=where)
    if prices.fairness is not None:
        _check_fairness(venue, prices.fairness, floor, ceiling)
    if "adult" not in venue.segments:
        raise InvalidInput(
            "the adult segment is the reference price and must exist", field="segments.adult"
        )
    if venue.segments["adult"] != 1.0:
        raise InvalidInput("the adult factor must be 1.0", field="segments.adult")
    for segment in venue.demand.segment_mix:
        if segment not in venue.segments:
            raise InvalidInput(
                f"segment {segment!r} is not in [segments]", field=f"demand.segment_mix.{segment}"
            )
    grid = {slot for day in venue.hours for slot in _day_grid(venue, day)}
    for slot in venue.slot_capacities:
        if slot not in grid:
            raise InvalidInput(
                f"{slot} is not an entry slot on any open day", field=f"slot_capacities.{slot}"
            )
    if (
        venue.comfort_occupancy is not None
        and venue.building_capacity is not None
        and venue.comfort_occupancy > venue.building_capacity
    ):
        raise InvalidInput(
            "comfort_occupancy is above building_capacity", field="comfort_occupancy"
        )


def _check_fairness(venue: Venue, rule: Fairness, floor: float, ceiling: float) -> None:
    """The fair price must be one a plan can charge: else the rule could never hold."""
    prices = venue.prices
    where = "prices.fairness.max_price"
    lowest, highest = prices.ladder[0], prices.ladder[-1]
    if not lowest <= rule.max_price <= highest:
        raise InvalidInput(
            f"max_price {rule.max_price} is outside the ladder's range {lowest} to {highest}",
            field=where,
        )
    allowed = [p for p in prices.ladder if floor <= p <= ceiling]
    if min(allowed) > rule.max_price:
        raise InvalidInput(
            f"max_price {rule.max_price} is below {min(allowed)}, the lowest ladder price within "
            f"floor {floor} and ceiling {ceiling}: no plan could offer a ticket at or below it",
            field=where,
        )
    for day, ladder in prices.weekday_ladders.items():
        if day in venue.hours and not any(
            floor <= p <= min(ceiling, rule.max_price) for p in ladder
        ):
            raise InvalidInput(
                f"no price of the {day} ladder within floor {floor} and ceiling {ceiling} is at "
                f"or below max_price {rule.max_price}: the rule could never hold on {day}",
                field=where,
            )


def _day_grid(venue: Venue, day: str) -> list[str]:
    opens, closes = venue.hours[day]  # type: ignore[index]
    start, end = minutes_of(opens), minutes_of(closes)
    return [clock_of(t) for t in range(start, end - venue.slot_minutes + 1, venue.slot_minutes)]


def _field_of(loc: tuple[int | str, ...]) -> str:
    # pydantic marks an error in a dict key with a trailing "[key]"; the key itself is the field
    return ".".join(str(part) for part in loc if part != "[key]")


def parse_venue(data: dict[str, Any], *, source: str = "venue") -> Venue:
    """Build a Venue from parsed TOML; the first problem found is raised naming its field."""
    try:
        venue = Venue.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = _field_of(first["loc"])
        raise InvalidInput(f"{source}: {field}: {first['msg']}", field=field) from None
    try:
        _check_consistency(venue)
    except InvalidInput as exc:
        raise InvalidInput(f"{source}: {exc.field}: {exc.detail}", field=exc.field) from None
    return venue


def parse_venue_toml(text: str, *, source: str = "venue") -> Venue:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{source}: not valid TOML: {exc}") from None
    return parse_venue(data, source=source)
