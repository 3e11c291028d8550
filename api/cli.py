"""The `yieldgate` command line."""

from __future__ import annotations

import argparse
import errno
import json
import os
import secrets
import shutil
import socket
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from api.cli_common import fail
from api.cli_forecasting import add_commands as add_forecasting_commands
from api.cli_optimizer import add_commands as add_optimizer_commands
from api.cli_planning import add_commands as add_planning_commands
from api.cli_publish import publish_plan_data
from api.cli_scenarios import add_commands as add_scenario_commands
from pricing.errors import YieldgateError

APP_FACTORY = "api.app:app_from_environment"
GRANIAN_WORKER_KILL_SECONDS = 8


def _serve(args: argparse.Namespace) -> int:
    metrics_dir = None
    if args.workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # /metrics then adds up every worker's counters, whichever worker answers the scrape.
        # Set before prometheus_client is first imported: forked workers (granian) keep the
        # parent's choice of single- or multi-process values.
        metrics_dir = tempfile.mkdtemp(prefix="yieldgate-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        return _run_server(args)
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _port_in_use(host: str, port: int) -> str | None:
    """Why `serve` cannot listen on host:port, or None. granian listens with SO_REUSEPORT, so it
    would share a port another service listens on and split its traffic rather than fail; a bind
    without SO_REUSEPORT fails while any socket listens there, whether it set SO_REUSEPORT or not
    (there is a moment between this check and the server's bind: good enough for a mistake)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As both servers do, so a port whose last connections are in TIME_WAIT counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is in use: stop what listens there, or use --port"
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


def _run_server(args: argparse.Namespace) -> int:

    import uvicorn

    from api.app import create_app
    from api.settings import get_settings

    settings = get_settings()
    busy = _port_in_use(args.host, args.port)
    if busy:
        return fail(busy, 1)
    if not settings.api_keys:
        keys = f"checkout:ck_{secrets.token_urlsafe(18)},manager:mk_{secrets.token_urlsafe(18)}"
        os.environ["YIELDGATE_API_KEYS"] = keys
        print("No YIELDGATE_API_KEYS set; generated keys for this run:")
        for pair in keys.split(","):
            role, key = pair.split(":", 1)
            print(f"  {role:8} {key}")
    # Without YIELDGATE_TOKEN_KEYS every worker signs with the key file beside the embedded
    # store's (see api.app.signing_keys): the check below makes it once, before any worker runs.
    get_settings.cache_clear()
    try:
        create_app(get_settings())  # fail here, in one line, on bad venues or keys
    except YieldgateError as exc:
        return fail(exc.detail)
    store = "Redis" if get_settings().redis_url else "the embedded store (no REDIS_URL)"
    print(
        f"Serving on http://{args.host}:{args.port} with {args.workers} {args.server} "
        f"worker(s) on {store}",
        flush=True,
    )
    if args.server == "granian":
        _serve_granian(args)
        return 0
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level=args.log_level,
    )
    return 0


def _serve_granian(args: argparse.Namespace) -> None:
    from granian import Granian
    from granian.constants import Interfaces, Loops

    Granian(
        APP_FACTORY,
        factory=True,
        address=args.host,
        port=args.port,
        workers=args.workers,
        interface=Interfaces.ASGI,
        loop=Loops.uvloop,
        websockets=False,
        log_level=args.log_level,
        # A worker that has not stopped this long after SIGTERM is killed (a last resort: its
        # lifespan ends its background scenarios and scenario processes in about a second).
        workers_kill_timeout=GRANIAN_WORKER_KILL_SECONDS,
    ).serve()


def _publish(args: argparse.Namespace) -> int:
    try:
        data = json.loads(Path(args.plan).read_text(encoding="utf-8"))
    except OSError as exc:
        return fail(f"{args.plan}: {exc.strerror}")
    except json.JSONDecodeError as exc:
        return fail(f"{args.plan}: not valid JSON: {exc}")
    return publish_plan_data(data, args.url, args.key)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yieldgate", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve quotes, prices, sales and plans over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 1)))
    serve.add_argument(
        "--server",
        choices=["uvicorn", "granian"],
        default=os.environ.get("YIELDGATE_SERVER", "granian"),
        help="the HTTP server (default: %(default)s)",
    )
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    serve.set_defaults(run=_serve)

    publish = commands.add_parser("publish", help="validate a Plan JSON file and make it live")
    publish.add_argument("plan", help="the Plan JSON file")
    publish.add_argument(
        "--url",
        default=os.environ.get("YIELDGATE_URL"),
        help="a running service (default: straight to REDIS_URL)",
    )
    publish.add_argument(
        "--key",
        default=os.environ.get("YIELDGATE_MANAGER_KEY"),
        help="a manager API key, for --url",
    )
    publish.set_defaults(run=_publish)

    add_forecasting_commands(commands)
    add_optimizer_commands(commands)
    add_planning_commands(commands)
    add_scenario_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
