"""The demand model of DESIGN.md: market size per day times multinomial-logit slot choice.

    mu_ds = A_d * v_ds / (1 + sum_t v_dt),   A_d = exp(theta . x_d),
    v_ds  = K * q_ds * exp(-b (p_ds - base)),   sum_s q_ds = 1 over the day type's slots,

q_ds the day's slot shares: its day type's profile, moved by its weekday and the time of year
(slot_appeal.py).

Normalisation. With an outside option, the level of A and the level of the slot appeals are
only told apart by how total sales bend with price, which sales data barely show. We fix it:
at base price in every slot, the no-purchase share is `outside_share` (K is the buy/no-buy
odds), so the appeals become slot shares q_ds and A_d is "people who considered the day".
In the usual notation a_ds = log(K q_ds) + b * base.

Fit. Joint maximum likelihood with scipy's L-BFGS-B and analytic gradients: first Poisson, then
the negative-binomial dispersion alpha with the means held (a 1-D search), then the means again
under NB with alpha held. Sold-out slots enter as P(Y >= sold) (censored), so popular slots are
not estimated at their capacity. The NB2 variance mu + alpha mu^2 is what a day-level gamma
shock shared by all slots gives, so one alpha serves slot bands and day bands alike. Slots of
one day are treated as independent given the mean (a composite likelihood): point estimates
are consistent, standard errors would be too small, so none are reported.
"""

from __future__ import annotations

import datetime as dt
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize
from threadpoolctl import threadpool_limits

from forecasting import counts
from forecasting.design import HOLIDAY_ROW, Design, FeatureMap, build_design, recent_members
from forecasting.fallback import SeasonalFallback
from forecasting.features import calendar_features, slot_season_row
from forecasting.history import WEATHER_COLUMNS, History
from forecasting.prediction import DayForecast, predict_days
from forecasting.slot_appeal import AppealLayout, Appeals, d_log_shares, log_softmax
from pricing.calendar import entry_slots

Array = npt.NDArray[np.float64]

HALF_LIVES = (7.0, 14.0, 28.0, 56.0)  # days: the local level's candidate half-lives
MARKET_PRIOR_SD = 1.5  # log scale, per unit of x_d (a flag's 0 to 1, a continuous column's sd)


# BLAS threads a fit may use. Its matrix products are small, so more threads only add
# hand-offs, and on a busy host they wait for each other: one thread is fastest.
FIT_BLAS_THREADS = 1


class FitFailed(Exception):
    """The joint fit did not produce a usable model; the caller falls back."""


@dataclass(frozen=True)
class LevelRows:
    """Slot rows of the history's recent days, for the local level and its dispersion."""

    number: npt.NDArray[np.int64]  # day number: 0 on the history's last day, negative before
    sold: Array
    mean: Array  # the model's demand at the prices charged, trend flat, no level
    left: Array  # capacity left for paid tickets
    censored: npt.NDArray[np.bool_]
    alpha: float  # NB2 dispersion for the expected sales under a capacity

    def ratio(self, origin: int, half_life: float, *, iterations: int = 8) -> float:
        """The level r of a forecast made before day `origin`: sum w E[min(Y(r mu), left)] =
        sum w sold over the rows before it, a row's weight w halving every `half_life` days
        back from the origin. Without sold-out slots that is the weighted ratio of actual to
        fitted sales; a fixed-point iteration, monotone and quick to settle."""
        before = self.number < origin
        if not before.any():
            return 1.0
        weights = 0.5 ** ((origin - 1 - self.number[before]) / half_life)
        actual = float(np.sum(weights * self.sold[before]))
        mean, left = self.mean[before], self.left[before]
        ratio = 1.0
        for _ in range(iterations):
            expected = float(
                np.sum(weights * counts.expected_below(ratio * mean, left, self.alpha))
            )
            if expected <= 0:
                return 1.0
            ratio *= actual / expected
            ratio = min(max(ratio, 0.05), 20.0)
        return ratio


class MnlDemandModel:
    name = "mnl"

    def __init__(
        self,
        *,
        outside_share: float = 0.5,
        censoring: bool = True,
        max_iterations: int = 2000,
        local_level: bool = False,
        half_lives: Sequence[float] = HALF_LIVES,
        level_folds: int = 4,
        level_horizon: int = 14,
        level_holdout: int = 28,
    ) -> None:
        """`censoring=False` reads sold-out slots as if sales were demand: only for showing how
        that biases the estimates low.

        `local_level=True` corrects each forecast day's market size by the exponentially
        weighted ratio of actual to fitted sales over the history's recent open days, holds the
        trend flat after the history's last date and refits the dispersion on the corrected
        residuals (see `_fit_level`). The half-life is the one of `half_lives` (days) that does
        best in a rolling backtest of `level_folds` x `level_horizon` days at the history's end.
        The parameters are then fitted without the last `level_holdout` days (`_fitted_part`)."""
        if not 0 < outside_share < 1:
            raise ValueError("outside_share must be between 0 and 1")
        if not half_lives or min(half_lives) <= 0:
            raise ValueError("half_lives must be positive days")
        self.outside_share = outside_share
        self.censoring = censoring
        self.max_iterations = max_iterations
        self.local_level = local_level
        self.half_lives = tuple(half_lives)
        self.level_folds = level_folds
        self.level_horizon = level_horizon
        self.level_holdout = level_holdout

    # --- fitting -------------------------------------------------------------------------

    def fit(self, history: History) -> MnlDemandModel:
        with threadpool_limits(limits=FIT_BLAS_THREADS):
            return self._fit(history)

    def _fit(self, history: History) -> MnlDemandModel:
        started = time.perf_counter()
        whole, history = history, self._fitted_part(history)
        self.notes_: list[str] = list(history.warnings)
        design = build_design(history)
        self.notes_.extend(design.notes)
        if not self.censoring:
            design.censored[:] = False
        self.features_: FeatureMap = design.features
        self.last_date_ = history.last_date
        self.members_ = recent_members(history)
        self._layout(design)
        venue = history.venue
        self.base_price_ = venue.prices.base
        observed_prices = design.price[design.observed]
        self.price_varied_ = bool(np.ptp(observed_prices) > 1e-9) if observed_prices.size else False
        prior = venue.demand.price_sensitivity_prior
        if self.price_varied_:
            self.price_sensitivity_source_ = "estimated"
        else:
            self.price_sensitivity_source_ = "prior"
            self.notes_.append(
                f"prices never varied in the history, so the price sensitivity is not "
                f"identified: used the venue's price_sensitivity_prior {prior:g}"
            )
        start = self._start_values(design, prior)
        bounds = (
            [(None, None)] * self._n_theta
            + [(1e-4, 5.0) if self.price_varied_ else (prior, prior)]
            + [(-20.0, 20.0)] * self._appeals.size
        )
        # The Poisson stage only finds where the dispersion is measured and the NB stage
        # starts: a looser tolerance there halves its iterations and moves nothing after.
        params = self._maximise(design, start, bounds, alpha=0.0, ftol=1e-6)
        alpha = self._fit_dispersion(design, params)
        params = self._maximise(design, params, bounds, alpha=alpha, ftol=1e-10)
        alpha = self._fit_dispersion(design, params)
        self._store(design, params, alpha)
        if self.local_level:
            self._fit_level(whole)
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def _layout(self, design: Design) -> None:
        self._n_theta = design.x.shape[1]
        offered_by_type = np.zeros((len(design.features.types), len(design.features.slots)), bool)
        for w in range(offered_by_type.shape[0]):
            offered_by_type[w] = design.offered[design.day_type == w].any(axis=0)
        features = design.features
        for w, kind in enumerate(features.types):
            if not offered_by_type[w].any():
                # No history for this day type: its slots share demand equally (u fixed at 0).
                grid = features.venue.weekday_slots[kind.split("+")[0]]
                offered_by_type[w] = [slot in grid for slot in features.slots]
                self.notes_.append(f"no history for {kind}: its slots get equal shares")
        free = offered_by_type & np.array(
            [[design.offered[design.day_type == w].any()] for w in range(len(features.types))]
        )
        for w in range(free.shape[0]):
            first = np.flatnonzero(free[w])
            if first.size:
                free[w, first[0]] = False
        # Each weekday of a day type but its first differs from the first by its own appeals
        # (a holiday on a week day by the holiday row's), and each slot but the type's reference
        # slot moves with the season. Relative to the first weekday and the reference slot, as
        # a move shared by all weekdays or all slots changes no share (a direction the
        # likelihood cannot see slowed the fit sixfold).
        free_weekday = np.zeros((HOLIDAY_ROW + 1, len(features.slots)), dtype=bool)
        seen: set[int] = set()
        for r in range(HOLIDAY_ROW + 1):
            rows = design.weekday == r
            if rows.any():
                types = np.unique(design.day_type[rows])
                if r == HOLIDAY_ROW or types[0] in seen:
                    free_weekday[r] = design.offered[rows].any(axis=0) & free[types].any(axis=0)
                seen.update(types.tolist())
        terms = len(slot_season_row(design.dates[0])) if design.dates else 0
        free_season = np.zeros((*offered_by_type.shape, terms), dtype=bool)
        if features.seasonal:
            for w in range(offered_by_type.shape[0]):
                offered = design.offered[design.day_type == w].any(axis=0)
                free_season[w] = (offered & free[w])[:, None]
        self._appeals = AppealLayout(offered_by_type, free, free_weekday, free_season)
        self._log_odds = float(np.log((1 - self.outside_share) / self.outside_share))

    def _unpack(self, params: Array) -> tuple[Array, float, Appeals]:
        theta = params[: self._n_theta]
        b = float(params[self._n_theta])
        return theta, b, self._appeals.unpack(params[self._n_theta + 1 :])

    def _design_log_shares(self, design: Design, appeals: Appeals) -> Array:
        return appeals.log_shares(design.day_type, design.weekday, design.season)

    def _negative_loglik(self, params: Array, design: Design, alpha: float) -> tuple[float, Array]:
        theta, b, appeals = self._unpack(params)
        log_q = self._design_log_shares(design, appeals)
        relative_price = np.where(design.offered, design.price - self.base_price_, 0.0)
        log_v = self._log_odds + log_q - b * relative_price
        v = np.where(design.offered, np.exp(log_v), 0.0)
        share = v / (1.0 + v.sum(axis=1, keepdims=True))
        mu = np.exp(design.x @ theta)[:, None] * share
        obs = design.observed
        ll, d_mu = counts.loglik(design.sold[obs], mu[obs], design.censored[obs], alpha)
        # d ll / d log mu, then through log mu_ds = log A_d + log v_ds - log(1 + V_d)
        g = np.zeros_like(mu)
        g[obs] = d_mu * mu[obs]
        g_day = g.sum(axis=1)
        h = g - share * g_day[:, None]
        grad_theta = design.x.T @ g_day
        grad_b = -float(np.sum(h * relative_price))
        d_u = d_log_shares(h, log_q)
        layout = self._appeals
        grad_appeals = layout.gradient(d_u, design.day_type, design.weekday, design.season)
        penalty, grad_penalty = layout.penalty(params[self._n_theta + 1 :])
        # A weak prior on the market-size effects (not the intercept): where a day type sells
        # out on nearly every slot, P(Y >= sold) tends to 1 as its demand grows, and nothing
        # else would stop its effect running off to a market hundreds of times the truth.
        effects = theta[1:] / MARKET_PRIOR_SD**2
        penalty += 0.5 * float(np.sum(theta[1:] * effects))
        grad_theta[1:] -= effects
        grad = np.concatenate([grad_theta, [grad_b], grad_appeals - grad_penalty])
        scale = 1.0 / max(int(obs.sum()), 1)
        return (penalty - float(ll.sum())) * scale, -grad * scale

    def _maximise(
        self, design: Design, start: Array, bounds: Sequence[tuple[float | None, float | None]],
        alpha: float, ftol: float,
    ) -> Array:  # fmt: skip
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            result = optimize.minimize(
                self._negative_loglik, start, args=(design, alpha), jac=True,
                method="L-BFGS-B", bounds=bounds,
                options={"maxiter": self.max_iterations, "ftol": ftol, "gtol": 1e-7},
            )  # fmt: skip
        if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
            raise FitFailed(f"the likelihood became non-finite ({result.message})")
        self.converged_ = bool(result.success)
        self.iterations_ = int(result.nit)
        if not result.success:
            self.notes_.append(f"the optimiser stopped early: {result.message}")
        return np.asarray(result.x, dtype=np.float64)

    def _fit_dispersion(self, design: Design, params: Array) -> float:
        mu = self._mean(design, params)
        obs = design.observed
        y, m, c = design.sold[obs], mu[obs], design.censored[obs]

        def negative(log_alpha: float) -> float:
            return -float(counts.loglik(y, m, c, float(np.exp(log_alpha)))[0].sum())

        result = optimize.minimize_scalar(negative, bounds=(np.log(1e-6), np.log(5.0)),
                                          method="bounded")  # fmt: skip
        alpha = float(np.exp(result.x))
        return alpha if alpha > 2e-6 else 0.0

    def _mean(self, design: Design, params: Array) -> Array:
        theta, b, appeals = self._unpack(params)
        log_q = self._design_log_shares(design, appeals)
        relative_price = np.where(design.offered, design.price - self.base_price_, 0.0)
        v = np.where(design.offered, np.exp(self._log_odds + log_q - b * relative_price), 0.0)
        share = v / (1.0 + v.sum(axis=1, keepdims=True))
        return np.asarray(np.exp(design.x @ theta)[:, None] * share, dtype=np.float64)

    def _start_values(self, design: Design, prior: float) -> Array:
        """Market size from a statsmodels Poisson GLM on daily totals; shares from averages."""
        import statsmodels.api as sm

        obs = design.observed
        totals = np.where(obs, design.sold, 0.0).sum(axis=1)
        coverage = obs.sum(axis=1) / np.maximum(design.offered.sum(axis=1), 1)
        buy_share = 1 - self.outside_share
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                glm = sm.GLM(totals, design.x, family=sm.families.Poisson(),
                             offset=np.log(np.maximum(coverage, 1e-3))).fit()  # fmt: skip
                theta = np.asarray(glm.params, dtype=np.float64)
                self.glm_summary_ = str(glm.summary(xname=design.features.names))
            except (ValueError, np.linalg.LinAlgError) as exc:
                theta = np.zeros(design.x.shape[1])
                theta[0] = np.log(max(totals.mean(), 1.0))
                self.notes_.append(f"start values: the daily-total GLM failed ({exc})")
                self.glm_summary_ = ""
        for warning in caught:
            self.notes_.append(f"start values (daily-total GLM): {warning.message}")
        theta[0] -= np.log(buy_share)
        grid = self._appeals.grid
        u_start = np.zeros_like(grid, dtype=np.float64)
        for w in range(grid.shape[0]):
            rows = design.day_type == w
            mean = np.where(obs[rows], design.sold[rows], np.nan)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # an all-gap slot is NaN
                per_slot = np.nanmean(mean, axis=0)
            per_slot = np.where(np.isfinite(per_slot), per_slot, 1.0)
            logs = np.log(np.maximum(per_slot, 0.5))
            first = np.flatnonzero(grid[w])
            if first.size:
                u_start[w] = logs - logs[first[0]]
        rest = self._appeals.size - int(self._appeals.free_base.sum())
        base = np.clip(u_start[self._appeals.free_base], -20, 20)
        return np.concatenate([theta, [prior], base, np.zeros(rest)])

    def _store(self, design: Design, params: Array, alpha: float) -> None:
        theta, b, appeals = self._unpack(params)
        features = design.features
        self.theta_ = theta
        self.price_sensitivity_ = b
        self.dispersion_ = alpha
        self.appeals_ = appeals
        # Each day type's profile before its weekdays' and the season's moves.
        self.log_shares_ = log_softmax(appeals.base)
        self.slot_shares_ = {
            kind: {
                slot: float(np.exp(self.log_shares_[w, j]))
                for j, slot in enumerate(features.slots)
                if self._appeals.grid[w, j]
            }
            for w, kind in enumerate(features.types)
        }
        # Per natural unit of each covariate (trend per year, temperature per degree...).
        self.coefficients_ = {
            name: float(theta[j] / features.scale[j])
            for j, name in enumerate(features.names)
            if name != "intercept"
        }
        negative, _ = self._negative_loglik(params, design, alpha)
        self.loglik_ = -negative * max(int(design.observed.sum()), 1)
        if b >= 5.0 - 1e-6 or (self.price_varied_ and b <= 2e-4):
            self.notes_.append(f"the price sensitivity {b:.4g} sits at its bound; check prices")
        self.dispersion_fit_ = alpha  # the in-sample NB2 dispersion, before any level correction
        self.fit_last_date_ = self.last_date_  # the last day the parameters were fitted on
        self.level_ = 1.0
        self.level_half_life_: float | None = None
        self._trend_column = features.names.index("trend") if "trend" in features.names else None
        self._last_trend = features.row(self.last_date_, {})

    def _fitted_part(self, history: History) -> History:
        """With the local level, the parameters are fitted on all but the history's last
        `level_holdout` days: a recent shift is then measured against a model that has not bent
        its trend and season towards it, and carried forward by the level alone."""
        if not self.local_level or self.level_holdout < 1:
            return history
        cut = history.last_date - dt.timedelta(self.level_holdout)
        if (cut - history.first_date).days < 8 * 7:
            return history
        return history.select(lambda d: d <= cut)

    def _fit_level(self, history: History) -> None:
        """The local level, from the whole `history` (the held-out tail included).

        The model's demand for each recent slot row (at the prices charged, trend flat after
        the fitted part) is scaled by the level that makes the exponentially weighted expected
        sales (demand cut at the capacity left) match the weighted actual sales of the days
        before the forecast (`LevelRows.ratio`): a sold-out slot then counts as the demand it
        hid, not as its capacity. Each candidate half-life forecasts the `level_horizon` days
        after each of `level_folds` origins at the history's end from the days before the
        origin; the lowest WAPE of day totals wins. The dispersion is then refitted by maximum
        likelihood on those corrected forecasts' slot sales, so the bands carry the error of a
        level carried forward. Disrupted days are not in `history.days`: here they are gaps."""
        rows = self._level_table(history)
        self.last_date_ = history.last_date
        self.members_ = recent_members(history)
        origins = [1 - self.level_horizon * k for k in range(self.level_folds, 0, -1)]
        origins = [o for o in origins if len(np.unique(rows.number[rows.number < o])) >= 28]
        scores: dict[float, float] = {}
        for h in self.half_lives:
            error = total = 0.0
            for origin in origins:
                test = (rows.number >= origin) & (rows.number < origin + self.level_horizon)
                ratio = rows.ratio(origin, h)
                predicted = counts.expected_below(ratio * rows.mean, rows.left, rows.alpha)
                # Day totals: the level is a day's, and slot noise would only blur the choice.
                at = np.unique(rows.number[test], return_inverse=True)[1]
                error += float(np.abs(np.bincount(at, rows.sold[test] - predicted[test])).sum())
                total += float(rows.sold[test].sum())
            scores[h] = error / max(total, 1e-9)
        self.level_scores_ = scores
        if origins:
            half_life = min(self.half_lives, key=lambda h: (scores[h], h))
            y, m, c = [], [], []
            for origin in origins:
                test = (rows.number >= origin) & (rows.number < origin + self.level_horizon)
                y.append(rows.sold[test])
                m.append(rows.ratio(origin, half_life) * rows.mean[test])
                c.append(rows.censored[test])
            self.dispersion_ = fit_dispersion(
                np.concatenate(y), np.concatenate(m), np.concatenate(c)
            )
            chosen = (
                f"chosen by a rolling backtest of {len(origins)} x {self.level_horizon} days at "
                f"the history's end, WAPE {scores[half_life]:.3f}"
            )
        else:
            half_life = sorted(self.half_lives)[len(self.half_lives) // 2]
            chosen = "too little history to choose it by backtest"
        self.level_half_life_ = half_life
        self.name = "level-corrected mnl"
        self.level_ = self.level_at(history.last_date + dt.timedelta(1))
        self.notes_.append(
            f"local level x{self.level_:.3f} (actual / fitted sales of recent open days, "
            f"half-life {half_life:g} days, {chosen}); trend held flat after {self.fit_last_date_}"
        )

    def _level_table(self, history: History) -> LevelRows:
        last = history.last_date
        window = int(4 * max(self.half_lives) + self.level_folds * self.level_horizon)
        dates = [d for d in history.days if d > last - dt.timedelta(window)]
        prices = {(d, s): r.price for d in dates for s, r in history.days[d].slots.items()}
        covariates = {d: history.days[d].covariates for d in dates}
        number, sold, mean, left, censored = [], [], [], [], []
        for day in self.predict(
            dates, covariates=covariates, prices=prices, local_level=False, flat_trend=True
        ):
            records = history.days[day.date].slots
            for i, slot in enumerate(day.slots):
                record = records.get(slot)
                if record is None or record.capacity - record.members <= 0:
                    continue
                number.append((day.date - last).days)  # 0 on the last day, negative before
                sold.append(record.sold)
                mean.append(float(day.expected[i]))
                left.append(record.capacity - record.members)
                censored.append(record.sold_out)
        self.level_rows_ = LevelRows(
            np.array(number, dtype=np.int64),
            np.array(sold, dtype=np.float64),
            np.array(mean, dtype=np.float64),
            np.array(left, dtype=np.float64),
            np.array(censored, dtype=bool),
            self.dispersion_fit_,
        )
        return self.level_rows_

    def level_at(self, date: dt.date, half_life: float | None = None) -> float:
        """The local level a forecast made on `date` (from the days before it) would use."""
        if not self.local_level:
            return 1.0
        origin = (date - self.last_date_).days
        h = half_life or self.level_half_life_ or HALF_LIVES[1]
        return self.level_rows_.ratio(origin, h)

    # --- prediction ----------------------------------------------------------------------

    def log_market(
        self,
        date: dt.date,
        covariates: dict[str, float | None],
        *,
        level: bool | None = None,
        flat_trend: bool | None = None,
    ) -> float:
        """log A_d. With the local level (the default when fitted with `local_level=True`) the
        market is scaled by `level_` and the trend stays at its value on the history's last
        date; `level=False, flat_trend=False` gives the full model's market."""
        corrected = self.local_level if level is None else level
        flat = self.local_level if flat_trend is None else flat_trend
        row = self.features_.row(date, covariates)
        column = self._trend_column
        if flat and column is not None and date > self.fit_last_date_:
            row[column] = self._last_trend[column]
        value = float(row @ self.theta_)
        return value + float(np.log(self.level_)) if corrected else value

    def weather_response(
        self, column: str, values: Sequence[float], *, date: dt.date | None = None
    ) -> Array:
        """The effect on log A_d of weather `column` (temp_c, precip_mm) at each of `values`,
        relative to the history's median: the response curve behind the per-basis-column
        `coefficients_`. Values outside the history's range count as its nearest end. With
        `date`, the temperature's seasonal interaction is that date's; without, the year's
        average day's. A weather column the model does not use has no effect: zeros."""
        if column not in WEATHER_COLUMNS:
            raise ValueError(f"{column}: not a weather column ({', '.join(WEATHER_COLUMNS)})")
        basis = self.features_.weather.get(column)
        if basis is None:
            return np.zeros(len(values))
        season = None if date is None else calendar_features(self.features_.venue, date, date)
        return basis.response(self.coefficients_, values, season)

    def slot_weights(
        self, date: dt.date, prices: Array, covariates: dict[str, float | None] | None = None
    ) -> tuple[list[str], Array]:
        """Slots of the date and their MNL weights v at each of `prices` (slots x prices); a
        holiday on a week day (in `covariates`) takes the holiday row's slot profile."""
        slots = list(entry_slots(self.features_.venue, date))
        if not slots:
            return [], np.zeros((0, len(prices)))
        w, r = self.features_.profile(date, covariates or {})
        season = np.array([slot_season_row(date)])
        log_q_all = self.appeals_.log_shares(np.array([w]), np.array([r]), season)[0]
        columns = [self.features_.slots.index(slot) for slot in slots]
        log_q = log_q_all[columns]
        relative = np.asarray(prices, dtype=np.float64) - self.base_price_
        log_v = self._log_odds + log_q[:, None] - self.price_sensitivity_ * relative[None, :]
        return slots, np.exp(log_v)

    def predict(
        self,
        dates: list[dt.date] | int,
        *,
        level: float = 80,
        covariates: dict[dt.date, dict[str, float | None]] | None = None,
        prices: dict[tuple[dt.date, str], float] | None = None,
        price_points: list[float] | None = None,
        local_level: bool | None = None,
        flat_trend: bool | None = None,
        alpha: float | None = None,
    ) -> list[DayForecast]:
        """Forecasts for `dates` (or the `dates` days after the history) with `level`% bands.

        Slot demand is at `prices` where given, else at the venue's base price. Dates on which
        the venue has no entry slots are left out. `local_level` and `flat_trend` (default: as
        fitted) are `log_market`'s; `alpha` replaces the bands' dispersion."""

        def market(date: dt.date, covariates: dict[str, float | None]) -> float:
            return self.log_market(date, covariates, level=local_level, flat_trend=flat_trend)

        return predict_days(
            self, dates, level, covariates, prices, price_points, market=market, alpha=alpha
        )


DemandModel = MnlDemandModel | SeasonalFallback


def fit_dispersion(y: Array, mu: Array, censored: npt.NDArray[np.bool_]) -> float:
    """The NB2 dispersion alpha (0: Poisson) that makes counts `y` likeliest around means `mu`,
    sold-out counts censored."""
    if y.size == 0:
        return 0.0
    mu = np.maximum(mu, 1e-6)

    def negative(log_alpha: float) -> float:
        return -float(counts.loglik(y, mu, censored, float(np.exp(log_alpha)))[0].sum())

    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        result = optimize.minimize_scalar(
            negative, bounds=(np.log(1e-6), np.log(5.0)), method="bounded"
        )
    alpha = float(np.exp(result.x))
    return alpha if alpha > 2e-6 else 0.0


def fit_demand(history: History, *, outside_share: float = 0.5) -> DemandModel:
    """The MNL model, or the seasonal fallback (with a note saying why) if its fit fails."""
    model = MnlDemandModel(outside_share=outside_share)
    try:
        return model.fit(history)
    except (FitFailed, ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
        fallback = SeasonalFallback(outside_share=outside_share).fit(history)
        fallback.notes_.append(f"the MNL fit failed ({exc}); used the {fallback.name} fallback")
        return fallback
