"""Products that use windows: the one piece of capacity logic shared by museums and hotels.

A product occupies every window from its start (inclusive) to its end (exclusive): a museum
visitor entering at 10:30 with a 120-minute dwell is inside at 10:30 ... 12:00, a hotel guest
booked for nights 1-2 uses windows 1 and 2. Occupancy only rises when a product starts, so the
windows worth a row are the distinct start times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from optimizer.model import ModelBuilder, Terms


@dataclass(frozen=True)
class Stay:
    start: int
    end: int  # exclusive


@dataclass(frozen=True)
class Window:
    start: int
    users: tuple[int, ...]  # indices of the products inside during this window


def windows_in_use(stays: Sequence[Stay]) -> tuple[Window, ...]:
    """One window per distinct start time, with the products inside at that moment."""
    starts = sorted({stay.start for stay in stays})
    return tuple(
        Window(t, tuple(j for j, stay in enumerate(stays) if stay.start <= t < stay.end))
        for t in starts
    )


def museum_stays(entry_minutes: Sequence[int], dwell_minutes: int) -> tuple[Stay, ...]:
    """A visitor entering at t is inside during [t, t + dwell): entry in (t - dwell, t]."""
    return tuple(Stay(t, t + dwell_minutes) for t in entry_minutes)


def window_usage(usage_by_product: Sequence[Terms], window: Window) -> Terms:
    """The terms of everything inside during a window."""
    return [term for j in window.users for term in usage_by_product[j]]


def add_window_capacity_rows(
    model: ModelBuilder,
    prefix: str,
    usage_by_product: Sequence[Terms],
    windows: Sequence[Window],
    capacities: Sequence[float],
    window_names: Sequence[str],
) -> list[str]:
    """`usage of window w <= capacity of w` for every window; returns the row names."""
    names = []
    for window, capacity, label in zip(windows, capacities, window_names, strict=True):
        name = f"{prefix}_{label}"
        model.at_most(name, window_usage(usage_by_product, window), capacity)
        names.append(name)
    return names
