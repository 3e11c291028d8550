"""Prometheus metrics, and the pure ASGI middleware that times every request by route."""

from __future__ import annotations

import contextlib
import time

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
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
    "The plan version this worker last priced from (value 1), by venue.",
    ["venue", "version"],
)


def render() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST


class TimingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            REQUEST_SECONDS.labels(template, scope["method"], f"{status // 100}xx").observe(
                time.perf_counter() - started
            )


def note_live_plan(venue: str, version: str, previous: str | None) -> None:
    if previous is not None and previous != version:
        # another app in this process (tests) may have replaced it already
        with contextlib.suppress(KeyError):
            LIVE_PLAN.remove(venue, previous)
    LIVE_PLAN.labels(venue, version).set(1)
