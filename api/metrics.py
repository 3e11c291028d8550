"""Prometheus metrics, and the pure ASGI middleware that times every request by route."""

from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_SECONDS = Histogram(
    "yieldgate_request_duration_seconds",
    "Time to answer a request, by route template, method and status class.",
    ["route", "method", "status"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
QUOTES = Counter("yieldgate_quotes_total", "Quotes answered, by outcome.", ["outcome"])
SALES = Counter("yieldgate_sales_total", "Sale and cancel requests, by outcome.", ["outcome"])
STORE_ERRORS = Counter(
    "yieldgate_store_errors_total", "Store operations that failed, by operation.", ["operation"]
)
LIVE_PLAN = Gauge(
    "yieldgate_live_plan_info",
    "1 for the plan version quotes are priced from, 0 for versions replaced since, by venue.",
    ["venue", "version"],
    multiprocess_mode="livemax",
)

STORE_LOST = Gauge(
    "yieldgate_store_lost",
    "1 while the store has lost the venue's data (a Redis that restarted empty), by venue.",
    ["venue"],
    multiprocess_mode="livemax",
)


def render() -> tuple[bytes, str]:
    """This process's metrics, or every worker's when served with several (multiprocess mode)."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


class TimingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._series: dict[tuple[str, str, str], Any] = {}  # labelled children, found once

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            labels = (
                getattr(scope.get("route"), "path", "unmatched"),
                scope["method"],
                f"{status // 100}xx",
            )
            series = self._series.get(labels)
            if series is None:
                series = self._series[labels] = REQUEST_SECONDS.labels(*labels)
            series.observe(time.perf_counter() - started)


def note_live_plan(venue: str, version: str, previous: str | None) -> None:
    # Set to 0 rather than removed: in multiprocess mode a removed series lingers in its file.
    if previous is not None and previous != version:
        LIVE_PLAN.labels(venue, previous).set(0)
    LIVE_PLAN.labels(venue, version).set(1)
