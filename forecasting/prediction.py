"""Day forecasts with bands, for any demand model that gives a market size and MNL weights."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

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


class Predictor(Protocol):
    features_: FeatureMap
    last_date_: dt.date
    base_price_: float
    dispersion_: float

    def log_market(self, date: dt.date, covariates: dict[str, float | None]) -> float: ...

    def slot_weights(self, date: dt.date, prices: Array) -> tuple[list[str], Array]: ...


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
        slots, weights = model.slot_weights(date, np.array(points))
        if not slots:
            continue
        asked = np.array([(prices or {}).get((date, s), model.base_price_) for s in slots])
        _, v_matrix = model.slot_weights(date, asked)
        v = np.diag(v_matrix) if v_matrix.size else np.zeros(0)
        arrivals = float(np.exp(log_market(date, (covariates or {}).get(date, {}))))
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
                counts.quantile(low_q, expected, dispersion),
                counts.quantile(high_q, expected, dispersion),
                weights,
            )
        )
    return out
