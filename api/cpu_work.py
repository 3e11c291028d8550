"""Worker processes for CPU-heavy work (history checks, model fits, scenario LPs).

The event loop only awaits them, so quotes keep flowing while a scenario runs. Processes rather
than threads: a fit in a thread holds the GIL long enough to put tens of milliseconds on the
quote path's p99. The pool is started on first use, with `spawn` so a worker never inherits the
server's event loop, sockets or locks; each worker keeps its own cache of fitted models, which
is why the pool is small and long-lived. `processes=False` keeps the work in threads (tests of
the scenario logic that do not care where it runs).

Only the serving process stops its pool: a pool process leaves the server's process group as it
starts, for one of its own that the LP solver processes it starts join, so a Ctrl-C or a `kill`
of the server's group reaches the server alone, which then ends each pool process's group in
`close` (at once: whatever it was computing is dropped, its callers already cancelled). A pool
process whose server died without closing it (SIGKILL, out of memory) ends its group itself.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
# How long `close` waits for a pool process to end on SIGTERM before it sends SIGKILL.
STOP_GRACE_SECONDS = 2.0
# How often a pool process checks that the server that started it is still there.
PARENT_CHECK_SECONDS = 1.0


def _start_pool_process() -> None:
    """The pool's initializer, in each pool process as it starts."""
    os.setpgid(0, 0)  # a process group of its own: signals to the server's group pass it by
    parent = os.getppid()
    threading.Thread(
        target=_exit_with_parent, args=(parent,), name="yieldgate-parent-watch", daemon=True
    ).start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os.killpg(0, signal.SIGKILL)  # orphaned: itself and any solver it runs, nobody takes results


def _signal_group(process: BaseProcess, sig: signal.Signals) -> None:
    """`sig` to a pool process and the solver it may be running: its process group."""
    if process.pid is None:
        return
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:  # still starting, in the server's group; or ended
        if sig == signal.SIGKILL:
            process.kill()
        else:
            process.terminate()


class CpuWork:
    def __init__(self, workers: int, *, processes: bool = True) -> None:
        self._executor: Executor
        if processes:
            self._executor = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_pool_process,
            )
        else:
            self._executor = ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="yieldgate-cpu"
            )

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(function, *args, **kwargs))

    def close(self) -> None:
        """End the pool's processes and the solvers they run now, busy or not (SIGTERM, then
        SIGKILL after STOP_GRACE_SECONDS), and drop queued work: the executor alone would let
        the server's exit wait on them for ever. Threads (processes=False) cannot be stopped;
        running work there finishes."""
        executor = self._executor
        if not isinstance(executor, ProcessPoolExecutor):
            executor.shutdown(wait=False, cancel_futures=True)
            return
        pool = list((executor._processes or {}).values())
        for process in pool:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in pool:
            # The sentinel, not join(): the executor's own thread may be reaping it too.
            if not wait([process.sentinel], max(0.0, deadline - time.monotonic())):
                _signal_group(process, signal.SIGKILL)
        # Its processes gone, the executor's thread fails what was left and ends at once; wait
        # for it, or its clean-up races the interpreter's exit over the queues' pipes.
        executor.shutdown(wait=True, cancel_futures=True)
