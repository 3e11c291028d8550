"""Bounded input (issue 10, item 7): the key is checked before a body is read, and bodies are
capped (413), by their declared length and while they stream in.

In process, requests go straight into the app with a `receive` that counts the chunks it hands
out (TestClient reads a streamed body whole before the app sees it); through `yieldgate serve`
(granian and uvicorn), a raw socket sends what a client would.
"""

from __future__ import annotations

import itertools
import select
import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from apitools import (
    CHECKOUT,
    CHECKOUT_KEY,
    MANAGER,
    MANAGER_KEY,
    TOMORROW,
    FakeClock,
    next_wednesday,
    quote,
)
from fastapi.testclient import TestClient
from scenariotools import VENUE, history_csv

from api import venue_documents
from api.app import create_app
from api.devserver import start_service, stop_service
from api.settings import EXAMPLE_VENUES, Settings

CAP = 4096
BLOCK = b" " * 1024  # JSON whitespace: a body of it is not valid, but it is never parsed whole
GIGABYTE = 1 << 30
PLENTY = 64 << 20  # what a streamed body offers: far past every cap, never all read
QUOTE = {"venue": VENUE, "date": TOMORROW, "slot": "11:00", "tickets": {"adult": 2}}


@pytest.fixture
def capped(clock: FakeClock) -> Iterator[TestClient]:
    settings = Settings(
        api_keys=f"checkout:{CHECKOUT_KEY},manager:{MANAGER_KEY}",
        token_keys="test-signing-key",
        venues_dir=EXAMPLE_VENUES,
        max_body_bytes=CAP,
        max_plan_bytes=8 * CAP,
    )
    with TestClient(create_app(settings, clock=clock)) as client:
        yield client


class Sent:
    """What one request straight through the app answered, and how much of its body it took."""

    def __init__(self, messages: list[dict[str, Any]], chunks_taken: int) -> None:
        start = messages[0]
        self.status: int = start["status"]
        self.headers = {k.decode(): v.decode() for k, v in start.get("headers", [])}
        self.body = b"".join(m.get("body", b"") for m in messages[1:])
        self.chunks_taken = chunks_taken

    def problem(self) -> dict[str, Any]:
        assert self.headers["content-type"] == "application/problem+json", self.headers
        body: dict[str, Any] = orjson.loads(self.body)
        assert body["status"] == self.status and body["title"] and body["detail"]
        return body


def send(
    client: TestClient,
    method: str,
    path: str,
    chunks: Iterator[bytes],
    *,
    headers: dict[str, str],
    content_length: int | None = None,
) -> Sent:
    """One HTTP/1.1 request into the app, its body handed out a chunk per `receive`."""
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if content_length is None:
        raw_headers.append((b"transfer-encoding", b"chunked"))
    else:
        raw_headers.append((b"content-length", str(content_length).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw_headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    taken = 0
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal taken
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        taken += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send_message(message: dict[str, Any]) -> None:
        messages.append(message)

    async def run() -> None:
        await client.app(scope, receive, send_message)

    assert client.portal is not None
    client.portal.call(run)
    return Sent(messages, taken)


def plenty() -> Iterator[bytes]:
    """64 MB of body in 1 KB chunks, one block in memory."""
    return itertools.repeat(BLOCK, PLENTY // len(BLOCK))


def json_headers(key: dict[str, str] | None = None) -> dict[str, str]:
    return {**(key or {}), "content-type": "application/json"}


KEYED_BODIES = [
    ("POST", "/v1/quotes"),  # the hot route: a plain Starlette route
    ("POST", "/v1/sales"),  # FastAPI reads the body before it solves the dependencies
    ("POST", "/v1/plans"),
    ("PUT", f"/v1/venues/{VENUE}/history"),
]


@pytest.mark.parametrize(("method", "path"), KEYED_BODIES)
@pytest.mark.parametrize("key", [None, {"Authorization": "Bearer not-a-key"}])
def test_no_or_an_unknown_key_is_401_before_a_byte_of_the_body_is_read(
    capped: TestClient, method: str, path: str, key: dict[str, str] | None
) -> None:
    for declared in (GIGABYTE, None):
        sent = send(
            capped, method, path, plenty(), headers=json_headers(key), content_length=declared
        )
        assert sent.status == 401 and sent.chunks_taken == 0
        assert sent.problem()["type"] == "https://yieldgate.dev/problems/unauthorized"
        assert sent.headers["connection"] == "close"  # the unread body is not waited for


def cap_of(path: str) -> tuple[int, str]:
    """The `capped` app's cap for a JSON path, and what its 413 calls the body."""
    return (8 * CAP, "plan") if path == "/v1/plans" else (CAP, "body")


@pytest.mark.parametrize(("method", "path"), KEYED_BODIES[:3])
def test_a_declared_length_over_the_cap_is_413_before_the_body_is_read(
    capped: TestClient, method: str, path: str
) -> None:
    key = CHECKOUT if path != "/v1/plans" else MANAGER
    cap, what = cap_of(path)
    sent = send(capped, method, path, plenty(), headers=json_headers(key), content_length=cap + 1)
    assert sent.status == 413 and sent.chunks_taken == 0
    body = sent.problem()
    assert body["field"] == "body"
    assert body["detail"] == f"the {what} is {cap + 1} bytes; at most {cap} are accepted"


@pytest.mark.parametrize(("method", "path"), KEYED_BODIES[:3])
def test_a_chunked_body_is_413_once_it_passes_the_cap_not_after_it_all_came(
    capped: TestClient, method: str, path: str
) -> None:
    key = CHECKOUT if path != "/v1/plans" else MANAGER
    cap, what = cap_of(path)
    sent = send(capped, method, path, plenty(), headers=json_headers(key))
    assert sent.status == 413, sent.body
    assert sent.chunks_taken == cap // len(BLOCK) + 1  # the chunk that passed it, no more
    body = sent.problem()
    assert (
        body["field"] == "body"
        and body["detail"] == f"the {what} is over {cap} bytes, the most accepted"
    )


def test_bodies_under_the_cap_are_taken_declared_or_chunked(capped: TestClient) -> None:
    assert quote(capped)["total"] == 40.0
    raw = orjson.dumps(QUOTE)
    chunks = iter([raw[:10], raw[10:]])
    sent = send(capped, "POST", "/v1/quotes", chunks, headers=json_headers(CHECKOUT))
    assert sent.status == 200, sent.body
    assert orjson.loads(sent.body)["total"] == 40.0
    exactly = b" " * (CAP - len(raw)) + raw  # at the cap, not over it
    sent = send(capped, "POST", "/v1/quotes", iter([exactly]), headers=json_headers(CHECKOUT))
    assert sent.status == 200, sent.body


def test_a_wrong_role_is_still_403(capped: TestClient) -> None:
    response = capped.post("/v1/plans", json={"venue": VENUE}, headers=CHECKOUT)
    assert response.status_code == 403, response.text


def test_csv_uploads_have_their_own_cap_above_the_json_one(
    capped: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv = history_csv().encode()
    assert len(csv) > 10 * CAP
    response = capped.put(
        f"/v1/venues/{VENUE}/history",
        content=csv,
        headers={**MANAGER, "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    # The upload cap (64 MB) is a module constant; smaller here so no test sends 64 MB.
    monkeypatch.setattr(venue_documents, "MAX_UPLOAD_BYTES", 20 * CAP)
    path = f"/v1/venues/{VENUE}/calendar"
    headers = {**MANAGER, "content-type": "text/csv"}
    sent = send(capped, "PUT", path, plenty(), headers=headers, content_length=GIGABYTE)
    assert sent.status == 413 and sent.chunks_taken == 0
    assert sent.problem()["detail"] == (
        f"the calendar is {GIGABYTE} bytes; at most {20 * CAP} are accepted"
    )
    sent = send(capped, "PUT", path, plenty(), headers=headers)
    assert sent.status == 413 and sent.chunks_taken == 20 * CAP // len(BLOCK) + 1
    assert sent.problem()["detail"] == f"the calendar is over {20 * CAP} bytes, the most accepted"


def test_a_plan_has_its_own_cap_above_the_json_one(capped: TestClient) -> None:
    slots = [
        {"slot": f"{hour:02d}:{minute:02d}", "capacity": 10, "steps": [{"price": 20, "units": 10}]}
        for hour in range(10, 18)
        for minute in (0, 30)
    ]
    plan = {
        "venue": VENUE,
        "currency": "EUR",
        "days": [{"date": TOMORROW, "slots": slots}],
        "notes": "x" * CAP,  # ignored by the contract; makes the body pass the JSON cap
    }
    published = capped.post("/v1/plans", json=plan, headers=MANAGER)
    assert published.status_code == 201, published.text
    plan["notes"] = "x" * (8 * CAP)
    sent = capped.post("/v1/plans", json=plan, headers=MANAGER)
    assert sent.status_code == 413 and sent.json()["detail"].startswith("the plan is ")


# --- through `yieldgate serve`, with a raw socket ------------------------------------------

SERVED_CAP = 64 * 1024
SERVE_KEYS = "checkout:ck_guard,manager:mk_guard"


@pytest.fixture(scope="module", params=["granian", "uvicorn"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, int]]:
    env = {
        "YIELDGATE_API_KEYS": SERVE_KEYS,
        "YIELDGATE_MAX_BODY_BYTES": str(SERVED_CAP),
        "REDIS_URL": "",
        "YIELDGATE_REDIS_URL": "",
        "YIELDGATE_DB_PATH": str(tmp_path_factory.mktemp("guard") / "yieldgate.db"),
    }
    process: subprocess.Popen[str]
    process, base = start_service(["--server", request.param], env, capture_output=True)
    try:
        yield "127.0.0.1", int(base.rsplit(":", 1)[1])
    finally:
        stop_service(process)


def connect(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address)
    sock.settimeout(30)  # only so a broken server cannot hang the suite
    return sock


def head(path: str, *, key: str | None, length: int | None) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: localhost", "Content-Type: application/json"]
    if key:
        lines.append(f"Authorization: Bearer {key}")
    lines.append(
        f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    )
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response's status, headers and body (Content-Length framed); ConnectionError if the
    server hangs up first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"the connection closed after {data!r}")
        data += chunk
    top, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = top.decode().split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the connection closed mid-answer")
        rest += chunk
    return int(status_line.split()[1]), headers, rest[:length]


@pytest.mark.parametrize("path", ["/v1/sales", "/v1/plans", "/v1/quotes"])
def test_served_no_key_is_401_with_the_body_unsent(served: tuple[str, int], path: str) -> None:
    with connect(served) as sock:
        sock.sendall(head(path, key=None, length=1_000_000_000))  # and not a byte of it
        status, headers, body = read_answer(sock)
    assert status == 401, body
    assert headers["content-type"] == "application/problem+json"


def test_served_declared_length_over_the_cap_is_413_with_the_body_unsent(
    served: tuple[str, int],
) -> None:
    with connect(served) as sock:
        sock.sendall(head("/v1/sales", key="ck_guard", length=1_000_000_000))
        status, headers, body = read_answer(sock)
    assert status == 413, body
    assert headers["content-type"] == "application/problem+json"
    assert orjson.loads(body)["detail"] == (
        f"the body is 1000000000 bytes; at most {SERVED_CAP} are accepted"
    )


def test_served_chunked_body_is_413_while_the_client_still_sends(
    served: tuple[str, int],
) -> None:
    chunk = f"{len(BLOCK) * 16:x}\r\n".encode() + BLOCK * 16 + b"\r\n"
    most = 64 * 1024 * 1024  # a thousand times the cap: the server answers long before
    with connect(served) as sock:
        sock.sendall(head("/v1/sales", key="ck_guard", length=None))
        sock.setblocking(False)
        sent = 0
        pending = memoryview(chunk)
        while sent < most:
            readable, writable, _ = select.select([sock], [sock], [], 30)
            if readable:
                break
            assert writable, "the server neither read nor answered"
            try:
                n = sock.send(pending)
            except (BrokenPipeError, ConnectionResetError):
                break  # it closed the connection: its answer is already here
            sent += n
            pending = pending[n:] or memoryview(chunk)
        assert sent < most, "the server read on well past the cap"
        sock.setblocking(True)
        sock.settimeout(30)
        status, _, body = read_answer(sock)
    assert status == 413, body
    assert orjson.loads(body)["detail"] == f"the body is over {SERVED_CAP} bytes, the most accepted"


def test_served_content_length_frames_the_body(served: tuple[str, int]) -> None:
    """The guard lets a declared length under the cap through uncounted: the server hands the
    app the declared bytes and no more; what the client sends after them is the next request."""
    body = orjson.dumps({**QUOTE, "date": next_wednesday()})
    with connect(served) as sock:
        sock.sendall(head("/v1/quotes", key="ck_guard", length=len(body)) + body)
        status, _, answer = read_answer(sock)
        assert status == 200, answer
        assert orjson.loads(answer)["total"] == 40.0
        sock.sendall(b"{" * (4 * SERVED_CAP))  # more "body" than declared: not a request
        try:
            status, _, answer = read_answer(sock)
        except ConnectionError:
            return  # or the server hung up
    assert status == 400, answer


def test_the_caps_are_1_mb_for_json_and_64_mb_for_uploads() -> None:
    assert Settings.model_fields["max_body_bytes"].default == 1024 * 1024
    assert venue_documents.MAX_UPLOAD_BYTES == 64 * 1024 * 1024
