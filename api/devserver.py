"""A service of our own on loopback, for benchmarks, load tests and end-to-end tests."""

from __future__ import annotations

import os
import shutil
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
    log_file: Path | None = None,
    new_session: bool = False,
) -> tuple[subprocess.Popen[str], str]:
    """`yieldgate serve` on a free loopback port, once /readyz answers: the process and its URL.

    `launcher` goes before the command, e.g. `("taskset", "-c", "0")` to pin it to a core;
    `log_file` takes everything the service writes (else its errors reach our stderr);
    `new_session` starts it in a session and process group of its own, whose id is its pid, to
    signal the group as a terminal's Ctrl-C or a service manager does.
    """
    port = free_port()
    log = log_file.open("a") if log_file is not None else None
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
        stdout=subprocess.PIPE if capture_output else log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if capture_output or log else None,
        text=True,
        start_new_session=new_session,
    )
    if log is not None:
        log.close()  # the service writes to its own copy
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


class LocalRedis:
    """A redis-server of our own on a free loopback port, with an append-only file fsynced on
    every write in `directory`, so it can be killed, restarted on its file, or wiped."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise ServiceDidNotStart("redis-server did not start in 10 s")

    def kill(self) -> None:
        """As a crash: SIGKILL, nothing flushed beyond what was already fsynced."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def wipe(self) -> None:
        """Remove its files, so the next start is a Redis that lost everything."""
        shutil.rmtree(self.directory, ignore_errors=True)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
