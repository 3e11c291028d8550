"""Which level forecast to trust, chosen by a short rolling backtest (issue 11, item 5).

Candidates for the day's market size and per-slot demand:
- `full`: the MNL fitted on the whole history, its trend extrapolated;
- `level`: the MNL with the local level (model.py, `local_level=True`): fitted without the
  backtest's days, its market scaled by the exponentially weighted level of the days before
  each origin, trend flat;
- `naive`: seasonal naive, each slot's sales on the same weekday of the last week before the
  origin (further back across gaps);
- `blend`: the mean of `level` and `naive`.

The backtest has `folds` origins `horizon` days apart at the history's end. The local-level
model is fitted once, before the first origin (its parameters are not refitted per origin; its
level is measured again at each one from the days before it), so the whole choice costs one
extra fit. Every candidate's forecast is cut at the capacity left and scored by WAPE of slot
sales over all folds; the lowest wins (ties: level, full, blend, naive). Each candidate's NB2
dispersion is fitted on its own backtest errors, so the winner's 80% bands are as wide as its
errors at these horizons were.

Whatever wins, the price response and the slot substitution are the MNL's, fitted on the whole
history (`slot_weights`, `price_sensitivity_`): the optimizer always has them. Only the day's
market size (arrivals) and the per-slot demand the Forecast JSON shows come from the winner;
for `naive` and `blend` a slot's `expected` is that method's, and the arrivals are scaled so that
the MNL's slot demands add up to the same day total.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from forecasting import counts
from forecasting.backtest import _naive_forecast as naive_forecast
from forecasting.backtest import _test_rows as test_rows
from forecasting.fallback import SeasonalFallback
from forecasting.history import History
from forecasting.model import DemandModel, FitFailed, MnlDemandModel, fit_dispersion
from forecasting.prediction import DayForecast, count_band, predict_days

Array = npt.NDArray[np.float64]
CANDIDATES = ("level", "full", "blend", "naive")  # the order ties are broken in
LABELS = {
    "full": "mnl",
    "level": "level-corrected mnl",
    "naive": "seasonal-naive",
    "blend": "blend of level-corrected mnl and seasonal-naive",
}
SHORT = {"full": "full", "level": "level-corrected", "naive": "seasonal naive", "blend": "blend"}


class GatedDemandModel:
    """The forecaster `forecast`, `plan`, scenarios and `make run` use: see the module."""

    def __init__(self, *, folds: int = 3, horizon: int = 14, outside_share: float = 0.5) -> None:
        if folds < 1 or horizon < 1:
            raise ValueError("folds and horizon must be at least 1")
        self.folds = folds
        self.horizon = horizon
        self.outside_share = outside_share

    def fit(self, history: History) -> GatedDemandModel:
        span = self.folds * self.horizon
        self.level_model_ = MnlDemandModel(
            outside_share=self.outside_share, local_level=True, level_holdout=span
        ).fit(history)
        self.full_ = MnlDemandModel(outside_share=self.outside_share).fit(history)
        full = self.full_
        self.features_ = full.features_
        self.last_date_ = history.last_date
        self.base_price_ = full.base_price_
        self.members_ = full.members_
        self.price_sensitivity_ = full.price_sensitivity_
        self.price_sensitivity_source_ = full.price_sensitivity_source_
        self.naive_ = _last_same_weekday(history)
        self.scores_, self.dispersions_ = self._backtest(history)
        self.choice_ = min(CANDIDATES, key=lambda c: (self.scores_[c], CANDIDATES.index(c)))
        self.name = LABELS[self.choice_]
        self.dispersion_ = self.dispersions_[self.choice_]
        others = ", ".join(
            f"{SHORT[c]} {self.scores_[c]:.3f}" for c in CANDIDATES if c != self.choice_
        )
        why = (
            f"model: {self.name} (backtest WAPE {self.scores_[self.choice_]:.3f} vs {others}; "
            f"{self.folds} folds x {self.horizon} days at the history's end)"
        )
        if self.choice_ != "full":
            why += "; the price response and slot weights are the full mnl's"
        level_notes = [n for n in self.level_model_.notes_ if n.startswith("local level")]
        self.notes_ = list(full.notes_)
        if self.choice_ in ("level", "blend"):
            self.notes_.extend(level_notes)
        self.notes_.append(why)
        return self

    # --- the backtest --------------------------------------------------------------------

    def _backtest(self, history: History) -> tuple[dict[str, float], dict[str, float]]:
        model = self.level_model_
        end = history.last_date + dt.timedelta(1)
        origins = [end - dt.timedelta(self.horizon * (self.folds - k)) for k in range(self.folds)]
        alpha = model.dispersion_fit_
        actual: list[Array] = []
        sold_out: list[npt.NDArray[np.bool_]] = []
        means: dict[str, list[Array]] = {c: [] for c in CANDIDATES}
        uncut: dict[str, list[Array]] = {c: [] for c in CANDIDATES}
        for origin in origins:
            stop = origin + dt.timedelta(self.horizon)
            train = history.select(lambda d, o=origin: d < o)  # type: ignore[misc]
            test = history.select(lambda d, o=origin, s=stop: o <= d < s)  # type: ignore[misc]
            if not test.days or not train.days:
                continue
            rows = test_rows(train, test)
            keys = list(zip(rows.dates, rows.slots, strict=True))
            left = rows.capacity_left
            level = _demand(model, test, keys, flat=True) * model.level_at(origin)
            full = _demand(model, test, keys, flat=False)
            naive = naive_forecast(train, rows)[0]
            level_cut = counts.expected_below(level, left, alpha)
            for name, cut, raw in (
                ("level", level_cut, level),
                ("full", counts.expected_below(full, left, alpha), full),
                ("naive", naive, naive),
                ("blend", 0.5 * (level_cut + naive), 0.5 * (level + naive)),
            ):
                means[name].append(cut)
                uncut[name].append(raw)
            actual.append(rows.actual)
            sold_out.append(rows.sold_out)
        y = np.concatenate(actual)
        censored = np.concatenate(sold_out)
        scores: dict[str, float] = {}
        dispersions: dict[str, float] = {}
        for c in CANDIDATES:
            mean, raw = np.concatenate(means[c]), np.concatenate(uncut[c])
            if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(raw))):
                # A forecast that overflowed (a season extrapolated far from the data) loses.
                scores[c], dispersions[c] = float("inf"), 0.0
                continue
            scores[c] = float(np.abs(y - mean).sum() / max(y.sum(), 1e-9))
            dispersions[c] = fit_dispersion(y, np.maximum(raw, 1e-3), censored)
        return scores, dispersions

    # --- prediction ----------------------------------------------------------------------

    def _market(self) -> Callable[[dt.date, dict[str, float | None]], float]:
        if self.choice_ == "full":
            return self.full_.log_market
        return self.level_model_.log_market

    def log_market(self, date: dt.date, covariates: dict[str, float | None]) -> float:
        value = self._market()(date, covariates)
        if self.choice_ in ("full", "level"):
            return value
        slots, weights = self.full_.slot_weights(date, np.array([self.base_price_]), covariates)
        if not slots:
            return value
        v = weights[:, 0]
        expected = np.exp(value) * v / (1 + v.sum())
        total = float(self._slot_demand(date, slots, expected).sum())
        return float(np.log(max(total, 1e-9) / (v.sum() / (1 + v.sum()))))

    def slot_weights(
        self, date: dt.date, prices: Array, covariates: dict[str, float | None] | None = None
    ) -> tuple[list[str], Array]:
        return self.full_.slot_weights(date, prices, covariates)

    def _slot_demand(self, date: dt.date, slots: list[str], level: Array) -> Array:
        """Per-slot demand of the naive or blend winner, given the level model's."""
        naive = np.array(
            [self.naive_.get((date.weekday(), s), float(level[i])) for i, s in enumerate(slots)]
        )
        return naive if self.choice_ == "naive" else 0.5 * (level + naive)

    def predict(
        self,
        dates: list[dt.date] | int,
        *,
        level: float = 80,
        covariates: dict[dt.date, dict[str, float | None]] | None = None,
        prices: dict[tuple[dt.date, str], float] | None = None,
        price_points: list[float] | None = None,
    ) -> list[DayForecast]:
        days = predict_days(
            self, dates, level, covariates, prices, price_points, market=self._market()
        )
        if self.choice_ in ("full", "level"):
            return days
        low_q, high_q = (100 - level) / 200, 1 - (100 - level) / 200
        alpha = self.dispersion_
        out = []
        for day in days:
            expected = self._slot_demand(day.date, day.slots, day.expected)
            arrivals = day.arrivals * float(expected.sum()) / max(float(day.expected.sum()), 1e-9)
            market = np.array([arrivals])
            out.append(
                DayForecast(
                    day.date,
                    arrivals,
                    float(counts.quantile(low_q, market, alpha)[0]),
                    float(counts.quantile(high_q, market, alpha)[0]),
                    day.slots,
                    expected,
                    *count_band(low_q, high_q, expected, alpha),
                    day.weights,
                )
            )
        return out


def _demand(
    model: MnlDemandModel, test: History, keys: list[tuple[dt.date, str]], *, flat: bool
) -> Array:
    """The model's demand (no level) of the test rows `keys`, at the prices charged and with the
    recorded covariates; the trend flat after the fit or extrapolated."""
    prices = {(d, s): r.price for d, day in test.days.items() for s, r in day.slots.items()}
    covariates = {d: day.covariates for d, day in test.days.items()}
    by_key = {}
    for day in model.predict(
        list(test.days), covariates=covariates, prices=prices, local_level=False, flat_trend=flat
    ):
        for i, slot in enumerate(day.slots):
            by_key[(day.date, slot)] = float(day.expected[i])
    return np.array([by_key[key] for key in keys])


def _last_same_weekday(history: History) -> dict[tuple[int, str], float]:
    """Each weekday's and slot's sales on its last day in the history."""
    last: dict[tuple[int, str], float] = {}
    for date in sorted(history.days):
        for slot, record in history.days[date].slots.items():
            last[(date.weekday(), slot)] = float(record.sold)
    return last


ForecastModel = DemandModel | GatedDemandModel


def reads_covariates(model: ForecastModel) -> bool:
    """Whether the model's market size reads holidays, events and weather: the MNL's does (with
    or without the local level), and so does a gated model's unless seasonal naive won."""
    if isinstance(model, GatedDemandModel):
        return model.choice_ != "naive"
    return isinstance(model, MnlDemandModel)


def fit_forecaster(history: History, *, outside_share: float = 0.5) -> ForecastModel:
    """The default forecaster: the backtest-gated choice; the full MNL (said) where the history
    is too short for the gate's folds (on a few months, the trend and the annual terms are
    confounded: holding the trend flat alone would throw the forecast off); the seasonal
    fallback (said) if the MNL fit fails."""
    gate = GatedDemandModel(outside_share=outside_share)
    span = gate.folds * gate.horizon
    try:
        if (history.last_date - history.first_date).days + 1 < span + 8 * 7 + 28:
            model = MnlDemandModel(outside_share=outside_share).fit(history)
            model.notes_.append(
                f"model: {model.name} (the history is too short for the {gate.folds} x "
                f"{gate.horizon} day backtest that chooses the level forecast)"
            )
            return model
        return gate.fit(history)
    except (FitFailed, ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
        fallback = SeasonalFallback(outside_share=outside_share).fit(history)
        fallback.notes_.append(f"the MNL fit failed ({exc}); used the {fallback.name} fallback")
        return fallback
