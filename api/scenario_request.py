"""The body of `POST /v1/scenarios` (DESIGN.md), also read from the CLI twin's TOML.

Shapes only; checks that need the venue, the history or the sold counts are in
`api.scenario_checks`. Every error names its field (`overrides.demand.0.multiplier`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from pricing.venue import Clock

MAX_SCENARIO_DAYS = 366

Multiplier = Annotated[float, Field(gt=0, le=10, allow_inf_nan=False)]
Price = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DemandOverride(_Shape):
    """Every day from `from` to `to` (inclusive) has `multiplier` times the forecast market."""

    from_: dt.date = Field(alias="from")
    to: dt.date
    multiplier: Multiplier


class CapacityOverride(_Shape):
    """At most `capacity` tickets per entry slot on the days from `from` to `to`; `slots`
    absent: every slot (slots smaller already keep their own capacity)."""

    from_: dt.date = Field(alias="from")
    to: dt.date
    slots: list[Clock] | None = None
    capacity: Annotated[int, Field(ge=0)]


class ClosedOverride(_Shape):
    """A closed day, or (with `slots`) closed entry slots on it."""

    date: dt.date
    slots: list[Clock] | None = None


class PriceOverride(_Shape):
    ladder: Annotated[list[Price], Field(min_length=1)] | None = None
    floor: Price | None = None
    ceiling: Price | None = None


class ObjectiveOverride(_Shape):
    kind: Literal["revenue", "attendance", "balanced"] | None = None
    min_revenue: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    crowding_penalty: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None


class Overrides(_Shape):
    demand: list[DemandOverride] = Field(default_factory=list)
    events: list[dt.date] = Field(default_factory=list)
    capacity: list[CapacityOverride] = Field(default_factory=list)
    closed: list[ClosedOverride] = Field(default_factory=list)
    prices: PriceOverride | None = None
    objective: ObjectiveOverride | None = None
    price_sensitivity: Annotated[float, Field(gt=0, le=5, allow_inf_nan=False)] | None = None
    members_multiplier: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)] | None = None

    def demand_multiplier_on(self, date: dt.date) -> float:
        """Overlapping ranges multiply."""
        factor = 1.0
        for rule in self.demand:
            if rule.from_ <= date <= rule.to:
                factor *= rule.multiplier
        return factor

    def capacities_on(self, date: dt.date, slots: Sequence[str]) -> dict[str, int]:
        """Slot -> overridden capacity on `date`; where ranges overlap, the later rule wins."""
        capacities: dict[str, int] = {}
        for rule in self.capacity:
            if rule.from_ <= date <= rule.to:
                for slot in slots if rule.slots is None else rule.slots:
                    if slot in slots:
                        capacities[slot] = rule.capacity
        return capacities

    def closed_on(self, date: dt.date, slots: Sequence[str]) -> set[str]:
        """The entry slots closed on `date` (all of them when the whole day is closed)."""
        closed: set[str] = set()
        for rule in self.closed:
            if rule.date == date:
                closed.update(slots if rule.slots is None else rule.slots)
        return closed & set(slots)


class ScenarioRequest(_Shape):
    venue: Annotated[str, Field(min_length=1, max_length=64)]
    start: dt.date
    days: Annotated[int, Field(ge=1, le=MAX_SCENARIO_DAYS)]
    overrides: Overrides = Field(default_factory=Overrides)
    name: Annotated[str, Field(max_length=200)] | None = None

    @property
    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(i) for i in range(self.days)]

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(self.days - 1)

    def as_json(self) -> dict[str, object]:
        """The inputs as they are stored and shown: DESIGN's keys (`from`), nothing unset."""
        data: dict[str, object] = self.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        return data
