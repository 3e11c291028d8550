"""Known answer: disrupted days (sales cut to 20%) on the dearest days of a simulated world.
Marked `disrupted`, they are left out and the fit recovers the truth; unmarked, they read as
customers fleeing high prices, so the price sensitivity comes out too high and the level low."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from forecasting.history import History, parse_history
from forecasting.model import MnlDemandModel
from forecasting.world import DemoWorld, WorldSpec, simulate_world

CUT = 0.2  # a strike day sells a fifth of its demand


def disrupted_world() -> tuple[DemoWorld, list[dict[str, Any]], set[str]]:
    world = simulate_world(WorldSpec(seed=11))
    prices: dict[str, list[float]] = {}
    for row in world.history_rows:
        prices.setdefault(row["date"], []).append(float(row["price"]))
    mean_price = {date: float(np.mean(p)) for date, p in prices.items()}
    dear = np.quantile(list(mean_price.values()), 0.75)
    rng = np.random.default_rng(5)
    hit = {d for d in sorted(mean_price) if mean_price[d] >= dear and rng.random() < 0.5}
    rows = []
    for row in world.history_rows:
        row = dict(row)
        row["disrupted"] = int(row["date"] in hit)
        if row["disrupted"]:
            row["sold"] = round(CUT * int(row["sold"]))
        rows.append(row)
    return world, rows, hit


def csv_of(rows: list[dict[str, Any]], *, column: bool) -> str:
    names = [name for name in rows[0] if column or name != "disrupted"]
    lines = [",".join(names)] + [",".join(str(row[n]) for n in names) for row in rows]
    return "\n".join(lines) + "\n"


def level_error(model: MnlDemandModel, world: DemoWorld, clean: History, hit: set[str]) -> float:
    """Forecast against true demand over the history's last 8 weeks of undisrupted days, at
    the prices and covariates those days had."""
    dates = [
        d for d in clean.days if d > clean.last_date - dt.timedelta(56) and d.isoformat() not in hit
    ]
    prices = {(d, s): r.price for d in dates for s, r in clean.days[d].slots.items()}
    covariates = {d: clean.days[d].covariates for d in dates}
    got = truth = 0.0
    for day in model.predict(dates, covariates=covariates, prices=prices):
        for i, slot in enumerate(day.slots):
            if (day.date, slot) in world.true_demand:
                got += float(day.expected[i])
                truth += world.true_demand[(day.date, slot)]
    return got / truth - 1


@pytest.fixture(scope="module")
def fits() -> dict[str, Any]:
    world, rows, hit = disrupted_world()
    clean = world.history()
    marked = parse_history(csv_of(rows, column=True), world.venue)
    unmarked = parse_history(csv_of(rows, column=False), world.venue)
    assert len(hit) > 50 and len(marked.disrupted) == len(hit)
    assert not set(d.isoformat() for d in marked.days) & hit
    return {
        "world": world,
        "clean": clean,
        "hit": hit,
        "marked": MnlDemandModel().fit(marked),
        "unmarked": MnlDemandModel().fit(unmarked),
    }


def test_marked_disrupted_days_leave_the_fit_at_the_truth(fits: dict[str, Any]) -> None:
    model, world = fits["marked"], fits["world"]
    truth = world.truth["price_sensitivity"]
    assert model.price_sensitivity_ == pytest.approx(truth, rel=0.05)
    assert abs(level_error(model, world, fits["clean"], fits["hit"])) < 0.03
    assert any("disrupted day(s)" in note for note in model.notes_)


def test_unmarked_disrupted_days_bias_the_fit(fits: dict[str, Any]) -> None:
    model, world = fits["unmarked"], fits["world"]
    truth = world.truth["price_sensitivity"]
    assert model.price_sensitivity_ > 1.10 * truth  # sales vanish on dear days: "price-shy"
    assert level_error(model, world, fits["clean"], fits["hit"]) < -0.04
