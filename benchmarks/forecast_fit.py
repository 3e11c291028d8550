"""How long the demand model takes to fit, how much memory it needs, and how accurate it is.

1. Fit time (one core: BLAS threads pinned to 1) and peak traced memory (tracemalloc, a second
   fit) on simulated worlds of 2 years x 14 slots and 5 years x 28 slots, with the recovered
   against the true price sensitivity.
2. The rolling-origin backtest (4 folds x 28 days) on the demo world (`yieldgate demo-data`):
   WAPE, MASE and 80% coverage of the model, seasonal-naive and ETS, and the WAPE the world's
   own true mean demand scores on the same rows (the noise floor).

Writes benchmarks/results/forecast_fit-<timestamp>.json and prints the figures.

    .venv/bin/python benchmarks/forecast_fit.py [--skip-large] [--seed 7]
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"  # before numpy loads: the target is "on one core"

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

import numpy as np  # noqa: E402

from forecasting import counts  # noqa: E402
from forecasting.backtest import plot_last_fold, run_backtest  # noqa: E402
from forecasting.model import MnlDemandModel  # noqa: E402
from forecasting.world import DemoWorld, WorldSpec, simulate_world  # noqa: E402

FIT_TARGET_SECONDS = 2.0  # issue 11: on one core, BLAS on one thread


def fit_figures(label: str, spec: WorldSpec) -> dict[str, Any]:
    world = simulate_world(spec)
    history = world.history()
    started = time.perf_counter()
    model = MnlDemandModel().fit(history)
    seconds = time.perf_counter() - started
    tracemalloc.start()
    MnlDemandModel().fit(history)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    truth = world.truth["price_sensitivity"]
    figures = {
        "world": label,
        "rows": history.row_count,
        "days": len(history.days),
        "fit_seconds": round(seconds, 2),
        "peak_traced_mb": round(peak / 2**20, 1),
        "iterations_last_stage": model.iterations_,
        "converged": model.converged_,
        "price_sensitivity": round(model.price_sensitivity_, 4),
        "price_sensitivity_true": truth,
        "price_sensitivity_error": round(model.price_sensitivity_ / truth - 1, 4),
        "dispersion": round(model.dispersion_, 4),
        "dispersion_true": world.truth["dispersion"],
    }
    print(
        f"{label:18} {history.row_count:6d} rows  fit {seconds:5.2f} s  peak {peak / 2**20:6.1f} MB"
        f"  b {model.price_sensitivity_:.4f} (true {truth}, "
        f"{100 * (model.price_sensitivity_ / truth - 1):+.1f}%)  "
        f"alpha {model.dispersion_:.4f} (true {world.truth['dispersion']})",
        flush=True,
    )
    return figures


def truth_wape(world: DemoWorld, first_origin: dt.date) -> float:
    """The backtest's WAPE had the forecast been the world's true mean demand: the expected
    sales E[min(Y, capacity left)] of the NB2 demand the world draws from, on every history row
    from `first_origin` on (the backtest's test rows)."""
    history = world.history()
    sold, mean, left = [], [], []
    for date, day in history.days.items():
        if date >= first_origin:
            for slot, record in day.slots.items():
                sold.append(record.sold)
                mean.append(world.true_demand[(date, slot)])
                left.append(record.capacity - record.members)
    expected = counts.expected_below(
        np.array(mean), np.array(left, dtype=float), world.truth["dispersion"]
    )
    return float(np.abs(np.array(sold) - expected).sum() / sum(sold))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-large", action="store_true", help="leave out 5 years x 28 slots")
    parser.add_argument("--seed", type=int, default=7)
    args, _ = parser.parse_known_args()  # `make bench` passes every script the same ARGS

    print("== fit (one core)")
    fits = [fit_figures("2 years x 14 slots", WorldSpec(seed=args.seed, slots_per_day=14))]
    if not args.skip_large:
        fits.append(
            fit_figures(
                "5 years x 28 slots", WorldSpec(seed=args.seed, days=1826, slots_per_day=28)
            )
        )
    within = fits[0]["fit_seconds"] <= FIT_TARGET_SECONDS
    verdict = "met" if within else "MISSED"
    print(f"target: 2 years x 14 slots within {FIT_TARGET_SECONDS:g} s: {verdict}")

    print("== backtest on the demo world (4 folds x 28 days)")
    world = simulate_world(WorldSpec(seed=args.seed))
    history = world.history()
    started = time.perf_counter()
    result = run_backtest(history, folds=4, horizon=28)
    seconds = time.perf_counter() - started
    unknown_weather = run_backtest(history, folds=4, horizon=28, known_weather=False)
    print(f"{'method':28} {'WAPE':>7} {'MASE':>7} {'80% cover':>10} {'(not sold out)':>15}")
    rows = [*result.overall.items(), ("model, weather unknown", unknown_weather.overall["model"])]
    for method, s in rows:
        print(f"{method:28} {s.wape:7.3f} {s.mase:7.3f} {s.coverage:10.3f} {s.coverage_open:15.3f}")
    floor = truth_wape(world, result.origins[0])
    print(f"{'the truth (the noise floor)':28} {floor:7.3f}")
    print(
        "  (the world's own mean demand, cut at each slot's capacity left: no forecast of the "
        "mean does better but by luck)"
    )
    print(f"backtest took {seconds:.1f} s")

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = ROOT / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_last_fold(result, out_dir / f"forecast_backtest-{stamp}.png")
    report = {
        "measured_at": stamp,
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "fits": fits,
        "backtest": {**result.as_dict(), "seconds": round(seconds, 1)},
        "model_weather_unknown": unknown_weather.overall["model"].as_dict(),
        "truth_wape": round(floor, 4),
    }
    report["backtest"].pop("per_slot")
    path = out_dir / f"forecast_fit-{stamp}.json"
    path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"max RSS {report['max_rss_mb']} MB; wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
