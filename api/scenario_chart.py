"""The price calendar of a scenario beside the live plan's: days x entry slots, one colour per
price (the next ticket's, given the tickets sold). Loads matplotlib (Agg): import it lazily."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

Prices = Mapping[tuple[str, str], float]  # (date, slot) -> price


def write_price_calendar(
    path: str | Path,
    dates: Sequence[str],
    scenario: Prices,
    live: Prices,
    *,
    title: str,
    currency: str,
) -> None:
    slots = sorted({slot for _, slot in [*scenario, *live]})
    grids = [_grid(dates, slots, prices) for prices in (scenario, live)]
    values = [v for grid in grids for row in grid for v in row if not math.isnan(v)]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    height = max(3.0, 0.28 * len(dates) + 1.6)
    figure, axes = plt.subplots(1, 2, figsize=(2 + 0.3 * len(slots) * 2, height), sharey=True)
    colormap = matplotlib.colormaps["viridis"].with_extremes(bad="#dddddd")
    image: Any = None
    for axis, grid, label in zip(axes, grids, ("scenario", "live"), strict=True):
        image = axis.imshow(grid, aspect="auto", cmap=colormap, vmin=low, vmax=high)
        axis.set_title(label)
        axis.set_xticks(range(len(slots)), slots, rotation=90, fontsize=7)
        axis.set_yticks(range(len(dates)), dates, fontsize=7)
        for y, row in enumerate(grid):
            for x, value in enumerate(row):
                if not math.isnan(value):
                    axis.text(x, y, f"{value:g}", ha="center", va="center", fontsize=5, color="w")
    figure.suptitle(title)
    figure.colorbar(image, ax=list(axes), label=f"price of the next adult ticket ({currency})")
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _grid(dates: Sequence[str], slots: Sequence[str], prices: Prices) -> list[list[float]]:
    return [[prices.get((date, slot), math.nan) for slot in slots] for date in dates]
