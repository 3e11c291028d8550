"""The safety net when the MNL fit fails: recent averages per weekday and slot."""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

from forecasting.design import build_design, recent_members
from forecasting.history import History
from forecasting.prediction import DayForecast, predict_days
from pricing.calendar import entry_slots

Array = npt.NDArray[np.float64]


class SeasonalFallback:
    """Used when the joint fit fails: recent average sales per weekday and slot, with the
    venue's prior price sensitivity and the same outside-share normalisation. Sold-out slots
    count at their sales, so it runs low on popular slots; it is a safety net, not a model."""

    name = "seasonal-means"

    def __init__(self, *, weeks: int = 8, outside_share: float = 0.5) -> None:
        self.weeks = weeks
        self.outside_share = outside_share

    def fit(self, history: History) -> SeasonalFallback:
        design = build_design(history)
        self.features_ = design.features
        self.last_date_ = history.last_date
        self.members_ = recent_members(history)
        self.base_price_ = history.venue.prices.base
        self.price_sensitivity_ = history.venue.demand.price_sensitivity_prior
        self.price_sensitivity_source_ = "prior"
        self.notes_ = list(history.warnings)
        recent = np.array(
            [d > history.last_date - dt.timedelta(7 * self.weeks) for d in design.dates]
        )
        weekday = np.array([d.weekday() for d in design.dates])
        self.means_: dict[int, Array] = {}
        for day in set(weekday.tolist()):
            rows = (weekday == day) & recent
            if not rows.any():
                rows = weekday == day
            counted = design.observed[rows].sum(axis=0)
            total = np.where(design.observed[rows], design.sold[rows], 0.0).sum(axis=0)
            self.means_[day] = total / np.maximum(counted, 1)
        sold = design.sold[design.observed]
        # Moment estimate of NB2 alpha from the variance around the weekday-slot means.
        fitted = np.array([self.means_[w] for w in weekday])[design.observed]
        excess = np.mean((sold - fitted) ** 2 - fitted)
        self.dispersion_ = float(max(excess / max(np.mean(fitted**2), 1e-9), 0.0))
        return self

    def log_market(self, date: dt.date, covariates: dict[str, float | None]) -> float:
        del covariates
        total = float(self._slot_means(date).sum())
        return float(np.log(max(total, 1e-9) / (1 - self.outside_share)))

    def _slot_means(self, date: dt.date) -> Array:
        columns = [self.features_.slots.index(s) for s in entry_slots(self.features_.venue, date)]
        means = self.means_.get(date.weekday())
        if means is None:
            return np.ones(len(columns))
        return np.maximum(means[columns], 1e-3)

    def slot_weights(
        self, date: dt.date, prices: Array, covariates: dict[str, float | None] | None = None
    ) -> tuple[list[str], Array]:
        del covariates  # recent weekday averages: a holiday is its weekday here
        slots = list(entry_slots(self.features_.venue, date))
        if not slots:
            return [], np.zeros((0, len(prices)))
        means = self._slot_means(date)
        odds = (1 - self.outside_share) / self.outside_share
        relative = np.asarray(prices, dtype=np.float64) - self.base_price_
        shares = means / means.sum()
        return slots, odds * shares[:, None] * np.exp(-self.price_sensitivity_ * relative)[None, :]

    def predict(
        self,
        dates: list[dt.date] | int,
        *,
        level: float = 80,
        covariates: dict[dt.date, dict[str, float | None]] | None = None,
        prices: dict[tuple[dt.date, str], float] | None = None,
        price_points: list[float] | None = None,
    ) -> list[DayForecast]:
        return predict_days(self, dates, level, covariates, prices, price_points)
