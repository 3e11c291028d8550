"""What a request costs inside the app, without HTTP, a load generator or the machine's noise.

Drives the ASGI app directly (no socket) for `GET /healthz`, `POST /v1/quotes` and the day's
price list, and prints microseconds per request. The store is Redis when REDIS_URL is set (the
day cache then serves most quotes), else the embedded store. `--profile` prints the quote path's
cProfile top functions: the tool used to find what stands between a quote and the no-op.

    .venv/bin/python benchmarks/quote_in_process.py [--requests 5000] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import os
import pstats
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from api.app import create_app  # noqa: E402
from api.settings import EXAMPLE_VENUES, Settings  # noqa: E402

KEY = "ck_in_process"


def next_wednesday() -> str:
    today = dt.date.today()
    return str(today + dt.timedelta(days=(2 - today.weekday()) % 7 or 7))


def http_scope(method: str, path: str, query: bytes, body: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"authorization", f"Bearer {KEY}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }


async def call(app: Any, method: str, path: str, query: bytes = b"", body: bytes = b"") -> int:
    delivered = False
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)  # the app never asks twice for a complete body
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(http_scope(method, path, query, body), receive, send)
    return statuses[0]


async def per_request_us(app: Any, requests: int, *request: Any) -> float:
    for _ in range(300):
        status = await call(app, *request)
    if status != 200:
        sys.exit(f"benchmark: {request[1]} answered {status}")
    started = time.perf_counter()
    for _ in range(requests):
        await call(app, *request)
    return (time.perf_counter() - started) / requests * 1e6


async def main(args: argparse.Namespace) -> None:
    settings = Settings(
        redis_url=os.environ.get("REDIS_URL") or None,
        api_keys=f"checkout:{KEY}",
        token_keys="in-process-key",
        venues_dir=EXAMPLE_VENUES,
    )
    app = create_app(settings)
    date = next_wednesday()
    quote = (
        "POST",
        "/v1/quotes",
        b"",
        f'{{"venue": "city-museum", "date": "{date}", "slot": "11:00", '
        f'"tickets": {{"adult": 2, "child": 1}}}}'.encode(),
    )
    prices = ("GET", "/v1/venues/city-museum/prices", f"date={date}".encode())
    async with app.router.lifespan_context(app):
        healthz_us = await per_request_us(app, args.requests, "GET", "/healthz")
        quote_us = await per_request_us(app, args.requests, *quote)
        prices_us = await per_request_us(app, args.requests, *prices)
        store = "redis" if settings.redis_url else "embedded store"
        print(
            f"healthz {healthz_us:6.1f} us  quote {quote_us:6.1f} us  prices {prices_us:6.1f} us"
            f"  quote/no-op {healthz_us / quote_us:.2f}  prices/no-op "
            f"{healthz_us / prices_us:.2f}  ({store})"
        )
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.requests):
                await call(app, *quote)
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--profile", action="store_true")
    asyncio.run(main(parser.parse_args()))
