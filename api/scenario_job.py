"""The inputs of one scenario run, read from the store before the work starts. Pure data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from api.scenario_request import ScenarioRequest
from pricing.venue import Venue


@dataclass(frozen=True)
class ScenarioJob:
    request: ScenarioRequest
    venue: Venue  # as registered: the live plan runs under its rules
    history_csv: str
    history_version: str
    calendar_csv: str | None  # the venue's Calendar CSV, if it has one
    calendar_version: str | None
    live_version: str | None
    live_plan: bytes | None  # Plan JSON of the live version, if any
    sold: Mapping[tuple[dt.date, str], int]
    as_of: dt.date  # today at the venue
    stamp: dt.datetime
