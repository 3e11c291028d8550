"""The slot appeals of the MNL (DESIGN.md's a_ds): a profile per day type, moved by the weekday
and through the year.

    U_ds = u_ws + delta_rs + sum_j f_j(d) gamma_wsj,     log q_ds = U_ds - log sum_t exp(U_dt)

with (w, r) = the day's profile (`FeatureMap.profile`: its day type and weekday, or the holiday
row for a holiday on a week day) and f the yearly Fourier terms of `features.slot_season_row`.
The sum runs over the day type's grid. One slot of each day type has u = 0 (the level belongs to
the market size). delta and gamma have Gaussian priors centred on 0, a ridge toward the day type's
profile flat through the year: with few days a slot keeps its type's share, with many it follows
the data (a Friday evening is not a Monday evening; a late slot draws more in June).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
Index = npt.NDArray[np.int64]

WEEKDAY_PRIOR_SD = 0.5  # a weekday's slot appeals off its day type's, log scale
SEASON_PRIOR_SD = 0.3  # the amplitude of a yearly harmonic of a slot's appeal, log scale


@dataclass(frozen=True)
class Appeals:
    base: Array  # types x slots: u, -inf off the type's grid
    weekday: Array  # 8 x slots: delta, a row per weekday and one for holidays on week days
    season: Array  # types x slots x terms: gamma

    def log_shares(self, day_type: Index, weekday: Index, season: Array) -> Array:
        """log q for each day (days x slots), from its profile and season terms."""
        u = self.base[day_type] + self.weekday[weekday]
        for j in range(season.shape[1]):
            u = u + season[:, j : j + 1] * self.season[day_type, :, j]
        return log_softmax(u)


def log_softmax(u: Array) -> Array:
    """Each row's log shares; -inf (a slot off the grid) stays -inf."""
    top = np.max(u, axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):
        log_norm = top + np.log(np.sum(np.exp(u - top), axis=1, keepdims=True))
    return np.asarray(u - log_norm, dtype=np.float64)


@dataclass(frozen=True)
class AppealLayout:
    """Which appeals are free parameters, and how they sit in the parameter vector."""

    grid: Mask  # types x slots: slots a day of the type can have
    free_base: Mask  # types x slots
    free_weekday: Mask  # 8 x slots
    free_season: Mask  # types x slots x terms

    @property
    def size(self) -> int:
        return int(self.free_base.sum() + self.free_weekday.sum() + self.free_season.sum())

    def unpack(self, values: Array) -> Appeals:
        n_base, n_weekday = int(self.free_base.sum()), int(self.free_weekday.sum())
        base = np.where(self.grid, 0.0, -np.inf)
        base[self.free_base] = values[:n_base]
        weekday = np.zeros(self.free_weekday.shape)
        weekday[self.free_weekday] = values[n_base : n_base + n_weekday]
        season = np.zeros(self.free_season.shape)
        season[self.free_season] = values[n_base + n_weekday :]
        return Appeals(base, weekday, season)

    def gradient(self, d_u: Array, day_type: Index, weekday: Index, season: Array) -> Array:
        """The gradient over the free appeals, given d(objective)/dU_ds per day (days x slots)."""
        of_type = np.eye(self.grid.shape[0])[day_type]  # days x types, one-hot
        by_type = of_type.T @ d_u
        by_weekday = np.eye(self.free_weekday.shape[0])[weekday].T @ d_u
        by_season = np.zeros(self.free_season.shape)
        if self.free_season.any():
            for w in range(self.grid.shape[0]):  # [w, s, j]: sum of d_u[d, s] season[d, j]
                by_season[w] = (d_u * of_type[:, w : w + 1]).T @ season
        return np.concatenate(
            [by_type[self.free_base], by_weekday[self.free_weekday], by_season[self.free_season]]
        )

    def penalty(self, values: Array) -> tuple[float, Array]:
        """The ridge: minus the log prior of delta and gamma (up to a constant), and its
        gradient."""
        n_base = int(self.free_base.sum())
        precision = np.zeros(values.size)
        precision[n_base : n_base + int(self.free_weekday.sum())] = WEEKDAY_PRIOR_SD**-2
        precision[n_base + int(self.free_weekday.sum()) :] = SEASON_PRIOR_SD**-2
        return 0.5 * float(np.sum(precision * values**2)), precision * values


def d_log_shares(h: Array, log_q: Array) -> Array:
    """d/dU_ds from d/dlog q_ds (days x slots), through the softmax."""
    q = np.exp(log_q)
    return np.asarray(h - q * h.sum(axis=1, keepdims=True), dtype=np.float64)
