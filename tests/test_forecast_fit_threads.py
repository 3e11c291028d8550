"""A fit runs its BLAS on one thread, whatever the process's default, and restores it after."""

from __future__ import annotations

from typing import Any

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from forecasting.design import Design, build_design
from forecasting.history import History
from forecasting.model import MnlDemandModel
from forecasting.world import WorldSpec, simulate_world


def blas_threads() -> list[int]:
    return [int(pool["num_threads"]) for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_a_fit_limits_blas_to_one_thread_and_gives_the_default_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    history: History = simulate_world(WorldSpec(seed=3, days=120, slots_per_day=6)).history()
    seen: list[list[int]] = []

    def spying(history: History, *args: Any, **kwargs: Any) -> Design:
        seen.append(blas_threads())
        return build_design(history, *args, **kwargs)

    monkeypatch.setattr("forecasting.model.build_design", spying)
    with threadpool_limits(limits=2, user_api="blas"):  # as on a 2-core host's default
        before = blas_threads()
        MnlDemandModel().fit(history)
        after = blas_threads()
    assert before and all(threads == 2 for threads in before)
    assert seen == [[1] * len(before)]
    assert after == before
