"""In-season re-optimisation for the booking-season simulator: when customers book, and when the
venue re-solves its plan with the bookings on hand.

Arrival times follow the booking curve the optimizer assumes (optimizer/booking_curve.py): a
lead time T, exponential with mean `mean_lead_days`, counted back from the end of the visit day,
so a customer of a visit on day o books at time o + 1 - T (days; day t runs from t to t + 1).
A re-optimisation "as of day t" happens at time t: the customers still to come are those with
T < o - t + 1, a share 1 - exp(-(o - t + 1) / mean) = `remaining_demand_share(o - t)`, as the
optimizer scales the demand it plans for.

A venue re-optimises on a calendar: as of every `every`-th day counted from the first simulated
date, each date between 0 and `horizon` days ahead (further out hardly anything has sold yet);
and, with `day_before`, each date once more as of the day before it.

Members book on the same curve. The sold counts passed to `optimize` are the places taken, as
the store counts them (members' included); the optimizer reserves only the member visits still
to come (the same remaining share of the expected members), so no member is counted twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from optimizer.booking_curve import DEFAULT_MEAN_LEAD_DAYS, BookingCurve
from optimizer.forecast_io import Forecast
from optimizer.run import OptimizerSettings, optimize
from pricing.errors import InvalidInput
from pricing.plan import Plan
from pricing.venue import Venue

FloatArray = npt.NDArray[np.float64]

DEFAULT_HORIZON_DAYS = 28  # 98% of a date's buyers are still to come this far ahead


@dataclass(frozen=True)
class Reoptimisation:
    """How the simulated venue re-solves: the forecast its plan came from, and when."""

    forecast: Forecast
    every: int = 7
    day_before: bool = True
    horizon: int = DEFAULT_HORIZON_DAYS
    settings: OptimizerSettings = field(default_factory=lambda: OptimizerSettings(workers=1))
    mean_lead_days: float = DEFAULT_MEAN_LEAD_DAYS

    def __post_init__(self) -> None:
        if self.every < 1:
            raise InvalidInput("re-optimise every at least 1 day", field="every")
        if self.horizon < 0:
            raise InvalidInput("the re-optimisation horizon is negative", field="horizon")


def booking_times(
    rng: np.random.Generator, visit_day: int, n: int, mean_lead_days: float
) -> FloatArray:
    """n customers' booking times for a visit on day `visit_day`, ascending."""
    leads = rng.exponential(mean_lead_days, size=n)
    return np.sort(visit_day + 1.0 - leads)


def schedule(reoptimisation: Reoptimisation, visit_days: Sequence[int]) -> dict[int, list[int]]:
    """Re-optimisation day -> the indices of the dates re-solved as of it (days counted from
    the first simulated date), in time order."""
    every, horizon = reoptimisation.every, reoptimisation.horizon
    points: dict[int, set[int]] = {}
    for d, day in enumerate(visit_days):
        ahead = {b for b in range(horizon + 1) if (day - b) % every == 0}
        if reoptimisation.day_before:
            ahead.add(1)
        for b in ahead:
            points.setdefault(day - b, set()).add(d)
    return {t: sorted(points[t]) for t in sorted(points)}


def reoptimised_plan(
    venue: Venue,
    reoptimisation: Reoptimisation,
    dates: Sequence[dt.date],
    sold: Mapping[tuple[dt.date, str], int],
    as_of: dt.date,
) -> Plan | None:
    """The plan for `dates` re-solved as of `as_of` with `sold` places taken; None when a date
    does not solve (the venue then keeps selling at its current steps)."""
    wanted = set(dates)
    forecast = reoptimisation.forecast
    days = tuple(day for day in forecast.days if day.date in wanted)
    settings = reoptimisation.settings
    if not settings.booking_curve.learned:
        # The venue plans on the curve its customers book on, unless given one to try.
        curve = BookingCurve(mean_lead_days=reoptimisation.mean_lead_days)
        settings = dataclasses.replace(settings, booking_curve=curve)
    result = optimize(
        venue,
        dataclasses.replace(forecast, days=days),
        sold=sold,
        as_of=as_of,
        settings=settings,
        stamp=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
    )
    return result.plan
