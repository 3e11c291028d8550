"""`yieldgate serve` stops when told, however it is told, and holds its port alone (issue 10).

Real processes, as an operator meets them: SIGTERM to the main process (`docker stop`), to the
server's workers, or to its whole process group (a service manager), and SIGINT to the group
(Ctrl-C in a terminal), each on both servers, idle or while a background scenario runs. Every
process the service started must be gone within EXIT_SECONDS, and a scenario cut short must say
so in its record (read from Redis after the service is gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import orjson
import pytest

from api.cpu_work import CpuWork
from api.devserver import ROOT, ServiceDidNotStart, start_service, stop_service
from api.scenarios import STOPPED_PROBLEM
from api.store.redis_store import RedisStore
from forecasting.world import WorldSpec, simulate_world

MANAGER = {"Authorization": "Bearer mk_shutdown"}
VENUE = "city-museum"
EXIT_SECONDS = 10.0  # "it exits": a bound, not a speed (every exit measured takes under 1 s)
LONG_DAYS = 300  # a fit then 300 days to optimise: seconds of work, running when the signal comes
TERM, INT = signal.SIGTERM, signal.SIGINT


@dataclass(frozen=True)
class Proc:
    ppid: int
    group: int
    command: str


@dataclass
class Service:
    process: subprocess.Popen[str]
    base: str
    log: Path
    server: str
    workers: int

    @property
    def pid(self) -> int:
        return self.process.pid

    def processes(self) -> dict[int, Proc]:
        """Every live process of the session the service leads (its workers, their scenario
        processes, which leave its process group but not its session, and helpers)."""
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue  # gone meanwhile
            state, ppid, group, session = stat.rsplit(")", 1)[1].split()[:4]
            if int(session) == self.pid and state != "Z":
                found[int(entry.name)] = Proc(int(ppid), int(group), command)
        return found

    def workers_now(self) -> list[int]:
        """The server's worker processes (uvicorn with one worker serves in its main process)."""
        if self.server == "uvicorn" and self.workers == 1:
            return [self.pid]
        found = [
            pid
            for pid, proc in self.processes().items()
            if proc.ppid == self.pid and "resource_tracker" not in proc.command
        ]
        assert len(found) == self.workers, self.processes()
        return found

    def scenario_processes(self) -> list[int]:
        """The scenario worker processes: they leave the service's process group as they start."""
        return [pid for pid, proc in self.processes().items() if proc.group != self.pid]

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def history_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A year of the demo world's sales up to yesterday, as the venue's registered history (the
    service runs on the real clock, so the history must end now)."""
    directory = tmp_path_factory.mktemp("histories")
    last = dt.datetime.now(dt.UTC).date() - dt.timedelta(1)
    world = simulate_world(WorldSpec(start=last - dt.timedelta(364), days=365, seed=11))
    (directory / f"{VENUE}.csv").write_text(world.history_csv(), encoding="utf-8")
    return directory


@pytest.fixture
def services() -> Iterator[list[Service]]:
    """The services a test starts; whatever of them is still alive at its end is killed."""
    started: list[Service] = []
    yield started
    for service in started:
        for pid in service.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        service.process.wait(timeout=10)


def serve(
    services: list[Service],
    tmp_path: Path,
    history_dir: Path,
    *,
    server: str,
    workers: int = 1,
    redis_url: str = "",
) -> Service:
    log = tmp_path / f"serve-{len(services)}.log"
    env = {
        "YIELDGATE_API_KEYS": "checkout:ck_shutdown,manager:mk_shutdown",
        "YIELDGATE_TOKEN_KEYS": "shutdown-test-key",
        "YIELDGATE_HISTORY_DIR": str(history_dir),
        "YIELDGATE_SCENARIO_SYNC_DAYS": "1",
        "REDIS_URL": redis_url,
        "YIELDGATE_REDIS_URL": redis_url,
    }
    args = ["--server", server, "--workers", str(workers)]
    try:
        process, base = start_service(args, env, log_file=log, new_session=True)
    except ServiceDidNotStart as exc:
        pytest.fail(f"{exc}\n{log.read_text(errors='replace')}")
    service = Service(process, base, log, server, workers)
    services.append(service)
    return service


def start_long_scenario(service: Service, *, solving: bool = False) -> str:
    """A background scenario, running: fitting the model, or with `solving` past its first
    days, when an LP solver process (CBC) comes and goes for every day."""
    start = dt.datetime.now(dt.UTC).date() + dt.timedelta(2)
    body = {"venue": VENUE, "start": start.isoformat(), "days": LONG_DAYS, "name": "cut short"}
    with httpx2.Client(base_url=service.base, headers=MANAGER, timeout=30) as http:
        response = http.post("/v1/scenarios", json=body)
        assert response.status_code == 202, response.text
        scenario_id: str = response.json()["id"]
        deadline = time.monotonic() + 60
        while True:
            running = http.get(f"/v1/scenarios/{scenario_id}").json()
            if not solving or running["progress"]["days_done"] or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert running["status"] == "running", running
    assert running["progress"]["days_done"] or not solving, running
    return scenario_id


def signal_service(service: Service, whom: str, sig: signal.Signals) -> set[int] | None:
    """Send `sig` to `whom` ("main", "workers" or "group"); the pids that must now end, or None
    for every process of the service (whatever it starts meanwhile too)."""
    if whom == "main":
        os.kill(service.pid, sig)
    elif whom == "group":
        os.killpg(service.pid, sig)
    else:
        workers = service.workers_now()
        ending = None
        if service.server == "uvicorn" and service.workers > 1:
            # uvicorn's supervisor replaces a worker that ends: the service lives on, and
            # only the signalled workers and what they started must end.
            ending = {
                pid
                for pid, proc in service.processes().items()
                if pid in workers or proc.ppid in workers
            }
        for pid in workers:
            os.kill(pid, sig)
        return ending
    return None


def assert_all_end(service: Service, pids: set[int] | None = None) -> None:
    """`pids`, or every process of the service, end within EXIT_SECONDS, saying no Traceback."""
    deadline = time.monotonic() + EXIT_SECONDS
    while time.monotonic() < deadline:
        alive = set(service.processes())  # an ended, unreaped main process is not
        if pids is not None:
            alive &= pids
        if not alive:
            break
        time.sleep(0.05)
    else:
        pytest.fail(
            f"still running {EXIT_SECONDS} s after the signal: "
            f"{ {pid: service.processes().get(pid) for pid in alive} }\n{service.output()}"
        )
    if pids is None:
        service.process.wait(timeout=1)  # it has ended: this reaps it
    output = service.output()
    assert "Traceback" not in output, output


def assert_ready(service: Service) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"{service.base}/readyz").status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"not serving again after 30 s\n{service.output()}")


def stored_scenario(redis_url: str, scenario_id: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        store = RedisStore.from_url(redis_url)
        try:
            stored = await store.scenario(scenario_id)
        finally:
            await store.close()
        assert stored is not None, scenario_id
        record: dict[str, Any] = orjson.loads(stored.record)
        return record

    return asyncio.run(read())


# Each way to stop, with a scenario running, on both servers with one and two workers (with
# uvicorn and one worker the main process is the worker: "workers" is "main").
RUNNING_CASES = [
    ("granian", 1, "main", TERM),
    ("granian", 1, "workers", TERM),
    ("granian", 1, "group", TERM),
    ("granian", 1, "group", INT),
    ("granian", 2, "main", TERM),
    ("granian", 2, "workers", TERM),
    ("granian", 2, "group", TERM),
    ("granian", 2, "group", INT),
    ("uvicorn", 1, "main", TERM),
    ("uvicorn", 1, "group", TERM),
    ("uvicorn", 1, "group", INT),
    ("uvicorn", 2, "main", TERM),
    ("uvicorn", 2, "workers", TERM),
    ("uvicorn", 2, "group", TERM),
    ("uvicorn", 2, "group", INT),
]


@pytest.mark.redis
@pytest.mark.parametrize(
    ("server", "workers", "whom", "sig"),
    RUNNING_CASES,
    ids=[f"{s}-{w}w-{whom}-{sig.name}" for s, w, whom, sig in RUNNING_CASES],
)
def test_a_service_running_a_scenario_stops_and_says_so(
    server: str,
    workers: int,
    whom: str,
    sig: signal.Signals,
    services: list[Service],
    tmp_path: Path,
    history_dir: Path,
    flushed_redis_url: str,
) -> None:
    service = serve(
        services, tmp_path, history_dir, server=server, workers=workers, redis_url=flushed_redis_url
    )
    scenario_id = start_long_scenario(service)

    assert_all_end(service, signal_service(service, whom, sig))

    record = stored_scenario(flushed_redis_url, scenario_id)
    assert record["status"] == "failed", record
    assert record["problem"] == STOPPED_PROBLEM
    assert "the service stopped while this scenario ran" in record["problem"]["detail"]
    assert record["progress"]["days_done"] < LONG_DAYS
    if service.process.poll() is None:  # uvicorn's supervisor replaced the workers
        assert_ready(service)
        stop_service(service.process)
        assert_all_end(service)


@pytest.mark.redis
@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_a_scenario_stopped_while_solving_stops_and_says_so(
    server: str,
    services: list[Service],
    tmp_path: Path,
    history_dir: Path,
    flushed_redis_url: str,
) -> None:
    service = serve(services, tmp_path, history_dir, server=server, redis_url=flushed_redis_url)
    scenario_id = start_long_scenario(service, solving=True)

    assert_all_end(service, signal_service(service, "main", TERM))

    record = stored_scenario(flushed_redis_url, scenario_id)
    assert (record["status"], record["problem"]) == ("failed", STOPPED_PROBLEM), record
    assert 0 < record["progress"]["days_done"] < LONG_DAYS


def run_a_child_process(pid_file: Path) -> None:
    """In a pool process: a child process that runs for a minute, as CBC does for a hard LP."""
    child = subprocess.Popen(["sleep", "60"])
    pid_file.write_text(str(child.pid))
    child.wait()


def is_running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_closing_the_pool_ends_what_its_processes_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"

    async def start_then_close() -> None:
        cpu = CpuWork(1)
        work = asyncio.ensure_future(cpu.run(run_a_child_process, pid_file))
        for _ in range(600):  # up to 30 s for the pool to start and run it
            if pid_file.exists():
                break
            await asyncio.sleep(0.05)
        work.cancel()  # as a stopping service cancels what awaits the pool, then closes it
        cpu.close()
        await asyncio.gather(work, return_exceptions=True)

    asyncio.run(start_then_close())
    child = int(pid_file.read_text())
    deadline = time.monotonic() + EXIT_SECONDS
    while is_running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not is_running(child)


IDLE_CASES = [
    ("granian", 1, "main", TERM),
    ("granian", 2, "group", TERM),
    ("uvicorn", 1, "group", INT),
    ("uvicorn", 2, "main", TERM),
]


@pytest.mark.redis
@pytest.mark.parametrize(
    ("server", "workers", "whom", "sig"),
    IDLE_CASES,
    ids=[f"{s}-{w}w-{whom}-{sig.name}" for s, w, whom, sig in IDLE_CASES],
)
def test_an_idle_service_stops(
    server: str,
    workers: int,
    whom: str,
    sig: signal.Signals,
    services: list[Service],
    tmp_path: Path,
    history_dir: Path,
    flushed_redis_url: str,
) -> None:
    # One worker on the embedded store, two on Redis.
    redis_url = flushed_redis_url if workers > 1 else ""
    service = serve(
        services, tmp_path, history_dir, server=server, workers=workers, redis_url=redis_url
    )
    # Reading the history starts a scenario process (it checks the file), then leaves it idle.
    response = httpx2.get(f"{service.base}/v1/venues/{VENUE}/history", headers=MANAGER)
    assert response.status_code == 200, response.text
    assert len(service.scenario_processes()) == 1, service.processes()
    assert_all_end(service, signal_service(service, whom, sig))
    assert service.process.returncode in (0, -sig), service.output()  # uvicorn re-raises it


@pytest.mark.redis
def test_scenario_processes_end_when_their_server_is_killed(
    services: list[Service], tmp_path: Path, history_dir: Path, flushed_redis_url: str
) -> None:
    # SIGKILL allows no shutdown: the scenario process (out of the group the kill reaches)
    # notices that its server is gone and ends by itself.
    service = serve(services, tmp_path, history_dir, server="granian", redis_url=flushed_redis_url)
    start_long_scenario(service, solving=True)
    assert service.scenario_processes()
    os.killpg(service.pid, signal.SIGKILL)
    assert_all_end(service)


# --- one service per port ---------------------------------------------------------------------


def serve_on(port: int, server: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--server", server]
    process = subprocess.Popen(
        command,
        env={**os.environ, "REDIS_URL": "", "YIELDGATE_REDIS_URL": ""},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=20)  # a refused start exits at once
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"serve on busy port {port} ({server}) started instead of refusing")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def assert_refused(result: subprocess.CompletedProcess[str], port: int) -> None:
    assert result.returncode == 1, result
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"port {port}" in result.stderr and "in use" in result.stderr, result.stderr
    assert "Serving on" not in result.stdout, result.stdout


def test_serve_refuses_the_port_of_a_running_service(
    services: list[Service], tmp_path: Path, history_dir: Path
) -> None:
    # granian listens with SO_REUSEPORT, which would let a second granian share the port.
    service = serve(services, tmp_path, history_dir, server="granian")
    port = int(service.base.rsplit(":", 1)[1])
    for server in ("granian", "uvicorn"):
        assert_refused(serve_on(port, server), port)
    assert_ready(service)


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_serve_refuses_a_port_something_else_listens_on(server: str) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert_refused(serve_on(port, server), port)
