"""Run the checkout load test headless against a service it starts, and write a report.

Starts the service on Redis (a database of its own, emptied first) with a fresh 60-day plan,
runs locust for a fixed time and user count on loopback, writes loadtests/results/<timestamp>/
(locust's CSVs and HTML report, and summary.json), prints one summary line, and stops what it
started. `make loadtest` runs it; `--help` lists the knobs.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from api.devserver import (  # noqa: E402
    ServiceDidNotStart,
    flush_redis_database,
    start_service,
    stop_service,
)

CHECKOUT_KEY = "ck_loadtest"


def start(args: argparse.Namespace) -> tuple[subprocess.Popen[str], str]:
    flush_redis_database(args.redis_url)
    env = {
        "REDIS_URL": args.redis_url,
        "YIELDGATE_API_KEYS": f"checkout:{CHECKOUT_KEY},manager:mk_loadtest",
        "YIELDGATE_TOKEN_KEYS": "loadtest-signing-key",
        "YIELDGATE_BOOTSTRAP_DAYS": "60",
    }
    try:
        return start_service(["--workers", str(args.workers), "--server", args.server], env)
    except ServiceDidNotStart as exc:
        sys.exit(f"loadtest: {exc}")


def summarise(stats_csv: Path) -> dict[str, object]:
    endpoints: dict[str, dict[str, float]] = {}
    total: dict[str, float] = {}
    with stats_csv.open() as handle:
        for row in csv.DictReader(handle):
            figures = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": round(float(row["Requests/s"]), 1),
                "p50_ms": float(row["50%"] or 0),
                "p95_ms": float(row["95%"] or 0),
                "p99_ms": float(row["99%"] or 0),
            }
            if row["Name"] == "Aggregated":
                total = figures
            else:
                endpoints[f"{row['Name']}"] = figures
    return {"total": total, "endpoints": endpoints}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--spawn-rate", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument(
        "--user-rps", type=float, default=20.0, help="requests per second each user aims at"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server", choices=["uvicorn", "granian"], default="granian")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("YIELDGATE_LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
    )
    args = parser.parse_args()

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = ROOT / "loadtests" / "results" / stamp
    out.mkdir(parents=True)
    service, base = start(args)
    try:
        locust = subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(ROOT / "loadtests" / "locustfile.py"),
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(args.spawn_rate),
                "--run-time",
                f"{args.seconds}s",
                "--host",
                base,
                "--csv",
                str(out / "locust"),
                "--html",
                str(out / "report.html"),
                "--only-summary",
                "--stop-timeout",
                "5",
                "--exit-code-on-error",
                "0",
            ],
            env={
                **os.environ,
                "YIELDGATE_CHECKOUT_KEY": CHECKOUT_KEY,
                "YIELDGATE_USER_RPS": str(args.user_rps),
            },
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=args.seconds + 120,
        )
        (out / "locust.log").write_text(locust.stdout + locust.stderr)
        if locust.returncode != 0:
            sys.exit(f"loadtest: locust failed ({locust.returncode}); see {out / 'locust.log'}")
    finally:
        stop_service(service)

    summary = {
        "started": stamp,
        "machine": f"{os.cpu_count()} cores",
        "service": {"server": args.server, "workers": args.workers, "store": "redis"},
        "load": {"users": args.users, "seconds": args.seconds, "user_rps": args.user_rps},
        **summarise(out / "locust_stats.csv"),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    total = summary["total"]
    assert isinstance(total, dict)
    print(
        f"loadtest: {total['rps']:.0f} req/s, p50 {total['p50_ms']:.0f} ms, p95 "
        f"{total['p95_ms']:.0f} ms, p99 {total['p99_ms']:.0f} ms, {total['failures']} failures "
        f"of {total['requests']} ({args.users} users, {args.seconds} s, {args.server} x"
        f"{args.workers}); report in {out.relative_to(ROOT)}"
    )


if __name__ == "__main__":
    main()
