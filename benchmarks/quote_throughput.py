"""How fast the quote path is, against the no-op ceiling of the same stack on the same machine.

Starts one server on Redis (a database of its own), then drives it with wrk:
1. the maximum throughput and latency percentiles of `GET /healthz` (no I/O: the ceiling),
   `POST /v1/quotes` (random slot, 1-6 tickets of mixed segments) and `GET .../prices`;
2. each endpoint again, paced at 70% of its own maximum, for the p99 a checkout would see on a
   busy day with headroom left.
wrk shares the two cores with the server, so the ratios are what to compare, not the absolutes.

    .venv/bin/python benchmarks/quote_throughput.py [--workers 1] [--server uvicorn] [--seconds 10]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from api.devserver import (  # noqa: E402
    ServiceDidNotStart,
    flush_redis_database,
    start_service,
    stop_service,
)

CHECKOUT_KEY = "ck_bench"
SLOTS = [f"{h:02d}:{m:02d}" for h in range(10, 18) for m in (0, 30)]  # a weekday's 16 slots
TICKET_MIXES = [
    '{"adult": 1}',
    '{"adult": 2}',
    '{"adult": 2, "child": 1}',
    '{"adult": 2, "child": 2}',
    '{"adult": 1, "senior": 1}',
    '{"senior": 2}',
    '{"adult": 2, "student": 1, "child": 3}',
    '{"student": 1}',
    '{"adult": 3, "child": 3}',
    '{"adult": 4}',
]


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        print("installing wrk (Debian package)", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            check=False,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("benchmark: wrk is not installed and could not be installed (apt-get install wrk)")
    return wrk


def open_days(count: int) -> list[str]:
    """The next Wednesdays and Thursdays (open 10:00-18:00 at the example venue)."""
    today = dt.date.today()
    days = [today + dt.timedelta(days=n) for n in range(1, 50)]
    return [str(d) for d in days if d.weekday() in (2, 3)][:count]


def lua_list(items: list[str]) -> str:
    return "{" + ", ".join(json.dumps(item) for item in items) + "}"


def wrk_script(kind: str, days: list[str], pace_ms: float | None) -> str:
    auth = f'wrk.headers["Authorization"] = "Bearer {CHECKOUT_KEY}"\n'
    pace = f"function delay() return {pace_ms:.3f} end\n" if pace_ms else ""
    if kind == "healthz":
        return pace
    if kind == "prices":
        return (
            auth
            + pace
            + f"""
local days = {lua_list(days)}
request = function()
  return wrk.format("GET", "/v1/venues/city-museum/prices?date=" .. days[math.random(#days)])
end
"""
        )
    return (
        auth
        + pace
        + f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local days = {lua_list(days)}
local slots = {lua_list(SLOTS)}
local mixes = {lua_list(TICKET_MIXES)}
request = function()
  local body = '{{"venue": "city-museum", "date": "' .. days[math.random(#days)] ..
    '", "slot": "' .. slots[math.random(#slots)] .. '", "tickets": ' ..
    mixes[math.random(#mixes)] .. '}}'
  return wrk.format(nil, "/v1/quotes", nil, body)
end
"""
    )


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def parse_wrk(output: str) -> dict[str, float]:
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rate is None:
        raise RuntimeError(f"wrk gave no rate:\n{output}")
    result = {"rps": float(rate.group(1))}
    for pct in ("50", "90", "99"):
        found = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if found:
            result[f"p{pct}_ms"] = float(found.group(1)) * UNITS[found.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    result["non_2xx"] = float(errors.group(1)) if errors else 0.0
    result["socket_errors"] = float(sum(map(int, socket_errors.groups()))) if socket_errors else 0.0
    return result


def run_wrk(
    wrk: str, url: str, script: str, seconds: int, connections: int, pin: bool
) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        output = subprocess.run(
            [
                *(("taskset", "-c", "1") if pin else ()),
                wrk,
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                "-s",
                handle.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        os.unlink(handle.name)
    return parse_wrk(output)


def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen[str], str]:
    flush_redis_database(args.redis_url)
    env = {
        "REDIS_URL": args.redis_url,
        "YIELDGATE_API_KEYS": f"checkout:{CHECKOUT_KEY},manager:mk_bench",
        "YIELDGATE_TOKEN_KEYS": "bench-signing-key",
    }
    try:
        return start_service(
            ["--workers", str(args.workers), "--server", args.server],
            env,
            launcher=("taskset", "-c", "0") if args.pin else (),
        )
    except ServiceDidNotStart as exc:
        sys.exit(f"benchmark: {exc}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--server", choices=["uvicorn", "granian"], default="granian")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--pin",
        action="store_true",
        help="one worker on core 0, wrk on core 1: the server's own cost, without the load "
        "generator taking its CPU",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("YIELDGATE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
    )
    args = parser.parse_args()
    if args.pin and args.workers != 1:
        sys.exit("benchmark: --pin runs one worker on one core; leave --workers at 1")

    wrk = ensure_wrk()
    days = open_days(8)
    server, base = start_server(args)
    endpoints = {
        "healthz": f"{base}/healthz",
        "quotes": f"{base}/v1/quotes",
        "prices": f"{base}/v1/venues/city-museum/prices",
    }
    results: dict[str, dict[str, dict[str, float]]] = {}
    try:
        for kind, url in endpoints.items():
            load = (args.connections, args.pin)
            run_wrk(wrk, url, wrk_script(kind, days, None), 2, *load)  # warm up
            peak = run_wrk(wrk, url, wrk_script(kind, days, None), args.seconds, *load)
            target = 0.7 * peak["rps"]
            # Each connection waits its share of the interval between requests (a closed loop:
            # it under-reports queueing when the server stalls, so read p99 as a lower bound).
            pace_ms = 1000.0 * args.connections / target
            paced = run_wrk(wrk, url, wrk_script(kind, days, pace_ms), args.seconds, *load)
            results[kind] = {"max": peak, "at_70pct": paced}
            print(
                f"{kind:8} max {peak['rps']:8.0f} req/s  p50 {peak.get('p50_ms', 0):6.2f} ms  "
                f"p99 {peak.get('p99_ms', 0):6.2f} ms | at {paced['rps']:6.0f} req/s "
                f"p99 {paced.get('p99_ms', 0):5.2f} ms | errors "
                f"{peak['non_2xx'] + peak['socket_errors'] + paced['non_2xx']:.0f}",
                flush=True,
            )
    finally:
        stop_service(server)

    ceiling = results["healthz"]["max"]["rps"]
    summary = {
        "machine": f"{os.cpu_count()} cores, {sys.platform}",
        "server": args.server,
        "workers": args.workers,
        "wrk": f"-t1 -c{args.connections} -d{args.seconds}s",
        "pinned": args.pin,
        "quote_over_noop": round(results["quotes"]["max"]["rps"] / ceiling, 3),
        "prices_over_noop": round(results["prices"]["max"]["rps"] / ceiling, 3),
        "results": results,
    }
    out_dir = ROOT / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    pinned = "-pinned" if args.pin else ""
    out = out_dir / f"quote_throughput-{args.server}-{args.workers}w{pinned}-{stamp}.json"
    out.write_text(json.dumps(summary, indent=2))
    print(
        f"quote/no-op {summary['quote_over_noop']:.2f}  prices/no-op "
        f"{summary['prices_over_noop']:.2f}  ({args.server}, {args.workers} worker(s); {out})"
    )


if __name__ == "__main__":
    main()
