"""A service of our own on loopback, for benchmarks, load tests and end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class ServiceDidNotStart(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_service(
    serve_args: Sequence[str],
    env: Mapping[str, str],
    *,
    capture_output: bool = False,
    launcher: Sequence[str] = (),
) -> tuple[subprocess.Popen[str], str]:
    """`yieldgate serve` on a free loopback port, once /readyz answers: the process and its URL.

    `launcher` goes before the command, e.g. `("taskset", "-c", "0")` to pin it to a core.
    """
    port = free_port()
    process = subprocess.Popen(
        [
            *launcher,
            sys.executable,
            "-m",
            "api.cli",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
            *serve_args,
        ],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.PIPE if capture_output else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if capture_output else None,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise ServiceDidNotStart(f"serve exited with {process.returncode}: {output}")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=1):
                return process, base
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise ServiceDidNotStart("serve did not become ready in 30 s")


def stop_service(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.communicate(timeout=15)  # reaps it and closes its output pipe


def flush_redis_database(url: str) -> None:
    subprocess.run(["redis-cli", "-u", url, "FLUSHDB"], check=True, capture_output=True)
