"""Weather as it enters the market size: bases that let the log-market effect bend.

- Temperature: a linear term plus hinges max(0, t - k) at knots k on the history's quantiles
  (25/50/75%, fewer when the history has few days or few distinct values), so demand can rise
  and then fall on hot days: a hump, but piecewise linear, so no fitted parabola runs off at
  the ends. With a seasonal history the slope may also vary with the season: the centred
  temperature times annual_sin_1 and annual_cos_1 (a warm day in spring draws people out that
  a warm day in summer may keep outdoors).
- Rain: log(1 + mm), because the tenth millimetre changes plans less than the first.

Every input is clamped to the range the history saw: beyond it the data say nothing, so the
forecast at 40 °C when the history's warmest day was 32 °C is the forecast at 32 °C.
Pure functions of the history's values; the bases are fixed at fit time (`design.FeatureMap`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

TEMPERATURE = "temp_c"
SEASON_COLUMNS = ("annual_sin_1", "annual_cos_1")
KNOT_QUANTILES = (0.25, 0.5, 0.75)
# Each piece of the hinge basis needs this many days and distinct values to be estimable
# apart from its neighbours; a short history gets fewer knots (or a straight line).
MIN_DAYS_PER_PIECE = 30
MIN_DISTINCT_PER_PIECE = 5


@dataclass(frozen=True)
class WeatherBasis:
    """How one weather column's value becomes basis columns; fixed at fit time."""

    column: str  # the weather column of the History/Calendar: temp_c or precip_mm
    low: float  # the clamp range: the history's smallest and largest value
    high: float
    reference: float  # the history's median: `response` is relative to it
    knots: tuple[float, ...] = ()  # temperature hinges
    seasonal: bool = False  # temperature: the slope varies with annual_sin_1/cos_1
    center: float = 0.0  # the history's mean, subtracted in the seasonal interaction

    @property
    def names(self) -> list[str]:
        if self.column != TEMPERATURE:
            return [f"log1p_{self.column}"]
        return [
            self.column,
            *(f"{self.column}_above_{knot:g}" for knot in self.knots),
            *(f"{self.column}_x_{season}" for season in (SEASON_COLUMNS if self.seasonal else ())),
        ]

    def clamp(self, value: float) -> float:
        return min(max(value, self.low), self.high)

    def row(self, value: float, season: Mapping[str, float] | None = None) -> dict[str, float]:
        """The basis columns of one day's `value`; `season` holds the day's annual_sin_1 and
        annual_cos_1 (needed when the basis is seasonal)."""
        t = self.clamp(value)
        if self.column != TEMPERATURE:
            return {f"log1p_{self.column}": math.log1p(max(t, 0.0))}
        values = {self.column: t}
        for knot in self.knots:
            values[f"{self.column}_above_{knot:g}"] = max(0.0, t - knot)
        if self.seasonal:
            if season is None:
                raise ValueError(f"{self.column}: a seasonal basis needs the day's season")
            for name in SEASON_COLUMNS:
                values[f"{self.column}_x_{name}"] = (t - self.center) * season[name]
        return values

    def response(
        self,
        coefficients: Mapping[str, float],
        values: Sequence[float],
        season: Mapping[str, float] | None = None,
    ) -> npt.NDArray[np.float64]:
        """The log-market effect of each of `values` less that of `reference`, with per-unit
        `coefficients` by basis column (a column left out counts 0). Without `season` the
        seasonal interaction is left out: the response of the year's average day (the annual
        sine and cosine average 0 over a year)."""
        if self.seasonal and season is None:
            season = dict.fromkeys(SEASON_COLUMNS, 0.0)

        def effect(value: float) -> float:
            row = self.row(value, season)
            return sum(coefficients.get(name, 0.0) * x for name, x in row.items())

        base = effect(self.reference)
        return np.array([effect(float(v)) - base for v in values], dtype=np.float64)


def knots_from(values: Sequence[float]) -> tuple[float, ...]:
    """Interior knots at the 25/50/75% quantiles of `values` (rounded to 0.1, inside the range,
    distinct), or at the quantiles of fewer, equal pieces when the values, or their distinct
    values, are too few for four pieces."""
    observed = np.asarray(values, dtype=np.float64)
    if observed.size == 0:
        return ()
    distinct = len(np.unique(observed))
    pieces = min(
        len(KNOT_QUANTILES) + 1,
        len(observed) // MIN_DAYS_PER_PIECE,
        distinct // MIN_DISTINCT_PER_PIECE,
    )
    if pieces < 2:
        return ()
    quantiles = KNOT_QUANTILES if pieces == 4 else [i / pieces for i in range(1, pieces)]
    low, high = float(observed.min()), float(observed.max())
    knots = sorted({round(float(np.quantile(observed, q)), 1) for q in quantiles})
    return tuple(k for k in knots if low < k < high)


def basis_from(column: str, values: Sequence[float], *, seasonal: bool) -> WeatherBasis:
    """The basis of weather `column` fitted to the history's recorded `values` (not empty)."""
    observed = np.asarray(values, dtype=np.float64)
    if observed.size == 0:
        raise ValueError(f"{column}: no recorded values to fit a weather basis to")
    low, high = float(observed.min()), float(observed.max())
    reference = float(np.median(observed))
    if column != TEMPERATURE:
        return WeatherBasis(column, low, high, reference)
    return WeatherBasis(
        column, low, high, reference, knots=knots_from(values), seasonal=seasonal,
        center=float(observed.mean()),
    )  # fmt: skip
