"""Day forecasts with bands, for any demand model that gives a market size and MNL weights."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
from scipy import stats

from forecasting import counts
from forecasting.design import FeatureMap

Array = npt.NDArray[np.float64]


@dataclass
class DayForecast:
    date: dt.date
    arrivals: float
    arrivals_low: float
    arrivals_high: float
    slots: list[str]
    expected: Array  # unconstrained demand per slot at the prices asked for (default: base)
    low: Array
    high: Array
    weights: Array  # slots x price points: the MNL weight v of each slot at each price


def count_band(low_q: float, high_q: float, mu: Array, alpha: float) -> tuple[Array, Array]:
    """Bounds [low, high] of each count (NB2, Poisson when alpha is 0) that hold it with
    probability close to high_q - low_q, both ends included.

    The plain quantiles (the smallest k with P(Y <= k) >= q) give a band that holds the count
    at least that often, and more by about one end's probability on small counts (an 80% band
    of a slot selling ~40 held ~85%). Here each end moves by one where that brings P(Y < low)
    nearer low_q, or P(Y <= high) nearer high_q; the band never stops holding the mean."""
    low = counts.quantile(low_q, mu, alpha)
    high = counts.quantile(high_q, mu, alpha)
    mu = np.maximum(mu, 1e-10)

    def cdf(k: Array) -> Array:
        if alpha <= 0:
            return np.asarray(stats.poisson.cdf(k, mu), dtype=np.float64)
        n = 1.0 / alpha
        return np.asarray(stats.nbinom.cdf(k, n, n / (n + mu)), dtype=np.float64)

    # P(Y < low) < low_q <= P(Y < low + 1): take low + 1 where its miss is the smaller.
    raise_low = (cdf(low) - low_q < low_q - cdf(low - 1)) & (low + 1 <= mu)
    # P(Y <= high - 1) < high_q <= P(Y <= high): take high - 1 where its miss is the smaller.
    lower_high = (high_q - cdf(high - 1) < cdf(high) - high_q) & (high - 1 >= mu)
    return (
        np.asarray(np.where(raise_low, low + 1, low), dtype=np.float64),
        np.asarray(np.where(lower_high, high - 1, high), dtype=np.float64),
    )


class Predictor(Protocol):
    features_: FeatureMap
    last_date_: dt.date
    base_price_: float
    dispersion_: float

    def log_market(self, date: dt.date, covariates: dict[str, float | None]) -> float: ...

    def slot_weights(
        self, date: dt.date, prices: Array, covariates: dict[str, float | None] | None = None
    ) -> tuple[list[str], Array]: ...


def predict_days(
    model: Predictor,
    dates: list[dt.date] | int,
    level: float,
    covariates: dict[dt.date, dict[str, float | None]] | None,
    prices: dict[tuple[dt.date, str], float] | None,
    price_points: list[float] | None,
    *,
    market: Callable[[dt.date, dict[str, float | None]], float] | None = None,
    alpha: float | None = None,
) -> list[DayForecast]:
    """`market` (log A_d) defaults to the model's `log_market`, `alpha` (the NB2 dispersion of
    the bands) to its `dispersion_`."""
    venue = model.features_.venue
    log_market = market or model.log_market
    if isinstance(dates, int):
        after = model.last_date_ + dt.timedelta(1)
        dates = [after + dt.timedelta(i) for i in range(dates)]
    points = list(price_points or venue.prices.ladder)
    low_q, high_q = (100 - level) / 200, 1 - (100 - level) / 200
    out: list[DayForecast] = []
    for date in dates:
        known = (covariates or {}).get(date, {})
        slots, weights = model.slot_weights(date, np.array(points), known)
        if not slots:
            continue
        asked = np.array([(prices or {}).get((date, s), model.base_price_) for s in slots])
        _, v_matrix = model.slot_weights(date, asked, known)
        v = np.diag(v_matrix) if v_matrix.size else np.zeros(0)
        arrivals = float(np.exp(log_market(date, known)))
        expected = arrivals * v / (1.0 + v.sum())
        dispersion = model.dispersion_ if alpha is None else alpha
        day_market = np.array([arrivals])
        out.append(
            DayForecast(
                date,
                arrivals,
                float(counts.quantile(low_q, day_market, dispersion)[0]),
                float(counts.quantile(high_q, day_market, dispersion)[0]),
                slots,
                expected,
                *count_band(low_q, high_q, expected, dispersion),
                weights,
            )
        )
    return out
