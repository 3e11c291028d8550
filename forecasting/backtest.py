"""Rolling-origin backtests of slot sales: the MNL model against seasonal-naive and ETS.

Each fold trains on the history before its origin and forecasts the next `horizon` days; the
"model" is `fit` (default: the forecaster every command uses, `gate.fit_forecaster`, which picks
its own level forecast by a shorter backtest inside the fold's training history). What is
scored is sales, not demand: every method's forecast is cut at the capacity left (capacity minus
members), since that is all a sold-out slot can show. The model is given the prices that were
actually charged and the day's recorded covariates (holiday, event) and, unless
`known_weather=False`, the weather that came: an oracle weather forecast, a little optimistic;
without it the model takes the history's monthly average weather.

Metrics, pooled over folds: WAPE = sum|y - f| / sum y; MASE = mean|y - f| / the training
history's mean |y_d - y_(d-7)| of the same slot (per fold); coverage = share of sales inside the
80% band; `coverage_open` the same on slots that did not sell out (a sold-out slot's sales
sit at the top of every band cut at capacity, so they flatter `coverage`)."""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from forecasting import counts
from forecasting.history import WEATHER_COLUMNS, History

if TYPE_CHECKING:
    from forecasting.gate import ForecastModel
from pricing.errors import InvalidInput

Array = npt.NDArray[np.float64]
METHODS = ("model", "seasonal_naive", "ets")
LEVEL = 80


@dataclass
class Scores:
    wape: float
    mase: float
    coverage: float
    coverage_open: float
    rows: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "wape": self.wape,
            "mase": self.mase,
            "coverage": self.coverage,
            "coverage_open": self.coverage_open,
            "rows": self.rows,
        }


@dataclass
class _Rows:
    """The test rows of one fold and every method's forecast and band for them."""

    dates: list[dt.date]
    slots: list[str]
    actual: Array
    capacity_left: Array
    sold_out: npt.NDArray[np.bool_]
    naive_scale: Array  # per row: the slot's seasonal-naive MAE in training
    forecast: dict[str, tuple[Array, Array, Array]] = field(default_factory=dict)


@dataclass
class BacktestResult:
    folds: int
    horizon: int
    origins: list[dt.date]
    overall: dict[str, Scores]
    per_slot: dict[str, dict[str, Scores]]
    model_names: list[str]
    notes: list[str]
    last_fold: _Rows

    def as_dict(self) -> dict[str, object]:
        return {
            "folds": self.folds,
            "horizon": self.horizon,
            "origins": [d.isoformat() for d in self.origins],
            "models": self.model_names,
            "overall": {m: s.as_dict() for m, s in self.overall.items()},
            "per_slot": {
                m: {slot: s.as_dict() for slot, s in slots.items()}
                for m, slots in self.per_slot.items()
            },
            "notes": self.notes,
        }


def run_backtest(
    history: History,
    *,
    folds: int = 4,
    horizon: int = 28,
    fit: Callable[[History], ForecastModel] | None = None,
    known_weather: bool = True,
    progress: Callable[[str], None] | None = None,
) -> BacktestResult:
    if fit is None:
        from forecasting.gate import fit_forecaster

        fit = fit_forecaster
    if folds < 1 or horizon < 1:
        raise InvalidInput("folds and horizon must be at least 1", field="folds")
    end = history.last_date + dt.timedelta(1)
    origins = [end - dt.timedelta(horizon * (folds - k)) for k in range(folds)]
    if (origins[0] - history.first_date).days < 8 * 7:
        raise InvalidInput(
            f"{history.source}: {folds} folds of {horizon} days leave less than 8 weeks of "
            "history to train on",
            field="folds",
        )
    fold_rows: list[_Rows] = []
    model_names: list[str] = []
    notes: list[str] = []
    for k, origin in enumerate(origins):
        stop = origin + dt.timedelta(horizon)
        train = history.select(lambda d, o=origin: d < o)  # type: ignore[misc]
        test = history.select(lambda d, o=origin, s=stop: o <= d < s)  # type: ignore[misc]
        if not test.days:
            continue
        rows = _test_rows(train, test)
        model = fit(train)
        model_names.append(model.name)
        notes.extend(n for n in model.notes_ if n not in notes)
        rows.forecast["model"] = _model_forecast(model, test, rows, known_weather)
        rows.forecast["seasonal_naive"] = _naive_forecast(train, rows)
        rows.forecast["ets"] = _ets_forecast(train, rows, origin, notes)
        fold_rows.append(rows)
        if progress:
            wape = _scores(rows, "model").wape
            progress(f"fold {k + 1}/{folds} from {origin}: model WAPE {wape:.3f} ({model.name})")
    overall = {m: _scores_pooled(fold_rows, m) for m in METHODS}
    slots = sorted({s for rows in fold_rows for s in rows.slots})
    per_slot = {m: {slot: _scores_pooled(fold_rows, m, slot) for slot in slots} for m in METHODS}
    return BacktestResult(
        folds, horizon, origins, overall, per_slot, model_names, notes, fold_rows[-1]
    )


def _test_rows(train: History, test: History) -> _Rows:
    scales = _naive_scales(train)
    fallback_scale = float(np.mean(list(scales.values()))) if scales else 1.0
    dates, slots, actual, left, scale, sold_out = [], [], [], [], [], []
    for date, day in test.days.items():
        for slot, record in day.slots.items():
            dates.append(date)
            slots.append(slot)
            actual.append(record.sold)
            left.append(record.capacity - record.members)
            sold_out.append(record.sold_out)
            scale.append(scales.get(slot, fallback_scale))
    return _Rows(
        dates,
        slots,
        np.array(actual, float),
        np.array(left, float),
        np.array(sold_out, bool),
        np.array(scale),
    )


def _naive_scales(train: History) -> dict[str, float]:
    errors: dict[str, list[float]] = {}
    for date, day in train.days.items():
        before = train.days.get(date - dt.timedelta(7))
        if before is None:
            continue
        for slot, record in day.slots.items():
            if slot in before.slots:
                errors.setdefault(slot, []).append(abs(record.sold - before.slots[slot].sold))
    return {slot: max(float(np.mean(e)), 1e-9) for slot, e in errors.items()}


def _model_forecast(
    model: ForecastModel, test: History, rows: _Rows, known_weather: bool
) -> tuple[Array, Array, Array]:
    prices = {(d, s): r.price for d, day in test.days.items() for s, r in day.slots.items()}
    covariates = {
        d: {k: v for k, v in day.covariates.items() if known_weather or k not in WEATHER_COLUMNS}
        for d, day in test.days.items()
    }
    by_key = {}
    alpha = model.dispersion_
    for day in model.predict(list(test.days), level=LEVEL, covariates=covariates, prices=prices):
        for i, slot in enumerate(day.slots):
            by_key[(day.date, slot)] = (day.expected[i], day.low[i], day.high[i])
    mean = np.array([by_key[(d, s)][0] for d, s in zip(rows.dates, rows.slots, strict=True)])
    low = np.array([by_key[(d, s)][1] for d, s in zip(rows.dates, rows.slots, strict=True)])
    high = np.array([by_key[(d, s)][2] for d, s in zip(rows.dates, rows.slots, strict=True)])
    left = rows.capacity_left
    return counts.expected_below(mean, left, alpha), np.minimum(low, left), np.minimum(high, left)


def _naive_forecast(train: History, rows: _Rows) -> tuple[Array, Array, Array]:
    """Same weekday of the last week before the origin (further back across gaps); the band
    adds the training history's 10% and 90% quantiles of week-on-week changes."""
    last = train.last_date
    changes: list[float] = []
    for date, day in train.days.items():
        before = train.days.get(date - dt.timedelta(7))
        if before is not None:
            changes += [
                r.sold - before.slots[s].sold for s, r in day.slots.items() if s in before.slots
            ]
    low_change, high_change = np.quantile(changes, [0.1, 0.9]) if changes else (0.0, 0.0)
    mean = np.zeros(len(rows.dates))
    for i, (date, slot) in enumerate(zip(rows.dates, rows.slots, strict=True)):
        weeks = math.ceil(((date - last).days) / 7)
        candidate = date - dt.timedelta(7 * weeks)
        while candidate >= train.first_date:
            earlier = train.days.get(candidate)
            if earlier is not None and slot in earlier.slots:
                mean[i] = earlier.slots[slot].sold
                break
            candidate -= dt.timedelta(7)
    left = rows.capacity_left
    mean = np.minimum(mean, left)
    low = np.clip(mean + low_change, 0, left)
    high = np.clip(mean + high_change, 0, left)
    return mean, low, high


def _ets_forecast(
    train: History, rows: _Rows, origin: dt.date, notes: list[str]
) -> tuple[Array, Array, Array]:
    """statsmodels ExponentialSmoothing (damped additive trend, weekly additive season) on daily
    totals, split to slots by each weekday's slot shares over the last eight weeks."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    first = train.first_date
    length = (origin - first).days
    totals = np.full(length, np.nan)
    for date, day in train.days.items():
        totals[(date - first).days] = sum(r.sold for r in day.slots.values())
    weekday_of = [(first + dt.timedelta(i)).weekday() for i in range(length)]
    open_weekdays = {d.weekday() for d in train.days}
    for i in range(length):
        if np.isnan(totals[i]):
            # A weekday the venue never opens is a true zero; a missing open day is a gap, and
            # ETS needs a value there: last week's.
            if weekday_of[i] not in open_weekdays:
                totals[i] = 0.0
            else:
                totals[i] = totals[i - 7] if i >= 7 and not np.isnan(totals[i - 7]) else 0.0
    horizon = max((d - origin).days for d in rows.dates) + 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = ExponentialSmoothing(
            totals, trend="add", damped_trend=True, seasonal="add", seasonal_periods=7
        ).fit()
        path = np.maximum(fitted.forecast(horizon), 0.0)
    for warning in caught:
        note = f"ETS baseline: {warning.message}"
        if note not in notes:
            notes.append(note)
    residuals = totals - fitted.fittedvalues
    low_r, high_r = np.quantile(residuals[7:], [0.1, 0.9])
    shares = _recent_shares(train)
    mean, low, high = (np.zeros(len(rows.dates)) for _ in range(3))
    for i, (date, slot) in enumerate(zip(rows.dates, rows.slots, strict=True)):
        total = path[(date - origin).days]
        share = shares.get((date.weekday(), slot), 0.0)
        mean[i], low[i], high[i] = (
            share * total, share * max(total + low_r, 0), share * max(total + high_r, 0)
        )  # fmt: skip
    left = rows.capacity_left
    return np.minimum(mean, left), np.minimum(low, left), np.minimum(high, left)


def _recent_shares(train: History, weeks: int = 8) -> dict[tuple[int, str], float]:
    since = train.last_date - dt.timedelta(7 * weeks)
    sums: dict[tuple[int, str], float] = {}
    day_sums: dict[int, float] = {}
    for date, day in train.days.items():
        if date <= since:
            continue
        for slot, record in day.slots.items():
            sums[(date.weekday(), slot)] = sums.get((date.weekday(), slot), 0.0) + record.sold
            day_sums[date.weekday()] = day_sums.get(date.weekday(), 0.0) + record.sold
    return {key: value / max(day_sums[key[0]], 1e-9) for key, value in sums.items()}


def _scores(rows: _Rows, method: str, slot: str | None = None) -> Scores:
    return _scores_pooled([rows], method, slot)


def _scores_pooled(folds: list[_Rows], method: str, slot: str | None = None) -> Scores:
    actual, error, scaled, inside, open_ = [], [], [], [], []
    for rows in folds:
        mean, low, high = rows.forecast[method]
        keep = np.ones(len(rows.slots), bool) if slot is None else np.array(rows.slots) == slot
        actual.append(rows.actual[keep])
        error.append(np.abs(rows.actual[keep] - mean[keep]))
        scaled.append(error[-1] / rows.naive_scale[keep])
        inside.append((low[keep] <= rows.actual[keep]) & (rows.actual[keep] <= high[keep]))
        open_.append(~rows.sold_out[keep])
    y, e = np.concatenate(actual), np.concatenate(error)
    covered, not_sold_out = np.concatenate(inside), np.concatenate(open_)
    return Scores(
        wape=float(e.sum() / max(y.sum(), 1e-9)),
        mase=float(np.mean(np.concatenate(scaled))) if y.size else math.nan,
        coverage=float(np.mean(covered)) if y.size else math.nan,
        coverage_open=float(np.mean(covered[not_sold_out])) if not_sold_out.any() else math.nan,
        rows=int(y.size),
    )


def plot_last_fold(result: BacktestResult, path: str | Path) -> None:
    """Daily sales of the last fold: actual against each method, with the model's 80% band
    (summed slot bands: wider than the true band of a day's total)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result.last_fold
    days = sorted(set(rows.dates))
    index = {d: i for i, d in enumerate(days)}

    def daily(values: Array) -> Array:
        out = np.zeros(len(days))
        np.add.at(out, [index[d] for d in rows.dates], values)
        return out

    x = np.array(days, dtype="datetime64[D]")
    figure, axes = plt.subplots(figsize=(11, 4.5))
    mean, low, high = rows.forecast["model"]
    axes.fill_between(x, daily(low), daily(high), alpha=0.2, label="model 80% (slot bands summed)")
    axes.plot(x, daily(rows.actual), "k.-", label="actual sales")
    axes.plot(x, daily(mean), label=f"model (WAPE {result.overall['model'].wape:.3f})")
    for method, style in (("seasonal_naive", "--"), ("ets", ":")):
        label = f"{method.replace('_', '-')} (WAPE {result.overall[method].wape:.3f})"
        axes.plot(x, daily(rows.forecast[method][0]), style, label=label)
    axes.set_ylabel("tickets sold per day")
    axes.set_title(f"Backtest, last fold from {result.origins[-1]} ({result.horizon} days)")
    axes.legend(loc="upper left", fontsize=8)
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
