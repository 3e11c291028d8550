"""Worker processes for CPU-heavy work (history checks, model fits, scenario LPs).

The event loop only awaits them, so quotes keep flowing while a scenario runs. Processes rather
than threads: a fit in a thread holds the GIL long enough to put tens of milliseconds on the
quote path's p99. The pool is started on first use, with `spawn` so a worker never inherits the
server's event loop, sockets or locks; each worker keeps its own cache of fitted models, which
is why the pool is small and long-lived. `processes=False` keeps the work in threads (tests of
the scenario logic that do not care where it runs).
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class CpuWork:
    def __init__(self, workers: int, *, processes: bool = True) -> None:
        self._executor: Executor
        if processes:
            self._executor = ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("spawn")
            )
        else:
            self._executor = ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="yieldgate-cpu"
            )

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(function, *args, **kwargs))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
