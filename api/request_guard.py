"""The gate every request passes before a route sees it: the key first, then the body's size.

FastAPI reads a route's body before it solves the route's dependencies, so a key checked there
comes after the whole body is in memory, and nothing capped the body. This pure ASGI middleware
answers a /v1 request without a valid key (401) before a byte of its body is read, and caps
every body: at `max_body_bytes` (a setting, 1 MB), a Plan JSON at `max_plan_bytes` (16 MB) and,
for the CSV uploads, at `venue_documents.MAX_UPLOAD_BYTES` (64 MB). Over the cap is a 413, at
once by the declared Content-Length, or as soon as a body without one (chunked) passes it while
it streams in.

On the quote path it costs a scan of the raw headers and the key's digest, which the routes
then reuse (the principal is left in the scope for `api.deps`). An HTTP/1.x body with a
Content-Length and no Transfer-Encoding is framed by the server, which never hands the app more
bytes than declared (granian and uvicorn: tests/test_request_guard.py), so only other bodies
(chunked, HTTP/2) are counted as they arrive.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems, venue_documents
from api.auth import KeyRing
from pricing.errors import PayloadTooLarge, Unauthorized, YieldgateError

PRINCIPAL = "yieldgate.principal"  # scope key: the Principal of the request's key
KEYED_PREFIX = "/v1/"
# PUT /v1/venues/{venue}/<kind>: the CSV uploads of api/routes/scenarios.py.
UPLOAD_KINDS = ("history", "calendar")
FRAMED_HTTP_VERSIONS = ("1.1", "1.0")
PLANS_PATH = "/v1/plans"


class RequestGuard:
    def __init__(
        self, app: ASGIApp, keys: KeyRing, max_body_bytes: int, max_plan_bytes: int
    ) -> None:
        self.app = app
        self._keys = keys
        self._max_body_bytes = max_body_bytes
        self._max_plan_bytes = max_plan_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        authorization = length = encoding = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                encoding = value
        path: str = scope["path"]
        if path.startswith(KEYED_PREFIX):
            try:
                scope[PRINCIPAL] = self._keys.authenticate(
                    None if authorization is None else authorization.decode("latin-1")
                )
            except Unauthorized as exc:
                unread = encoding is not None or (length is not None and length != b"0")
                await _refuse(exc, scope, send, close=unread)
                return
        limit, what = self._limit(scope["method"], path)
        framed = encoding is None and scope.get("http_version") in FRAMED_HTTP_VERSIONS
        if length is not None and length.isdigit():
            if int(length) > limit:
                refused = PayloadTooLarge(
                    f"the {what} is {int(length)} bytes; at most {limit} are accepted",
                    field="body",
                )
                await _refuse(refused, scope, send, close=True)
                return
            if framed:
                await self.app(scope, receive, send)
                return
        elif framed and length is None:  # HTTP/1.x without either header: no body
            await self.app(scope, receive, send)
            return
        await self._counting(scope, receive, send, limit, what)

    def _limit(self, method: str, path: str) -> tuple[int, str]:
        if method == "PUT" and path.startswith("/v1/venues/"):
            kind = path.rpartition("/")[2]
            if kind in UPLOAD_KINDS:
                return venue_documents.MAX_UPLOAD_BYTES, kind
        if method == "POST" and path == PLANS_PATH:
            return self._max_plan_bytes, "plan"
        return self._max_body_bytes, "body"

    async def _counting(
        self, scope: Scope, receive: Receive, send: Send, limit: int, what: str
    ) -> None:
        """Run the app with a receive that counts; once the body passes the cap, the app's
        answer (whatever reading it made it do) is dropped and a 413 sent instead."""
        received = 0
        over = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise PayloadTooLarge(f"the {what} is over {limit} bytes", field="body")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over and not started:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not over or started:
                raise
        if over and not started:
            refused = PayloadTooLarge(
                f"the {what} is over {limit} bytes, the most accepted", field="body"
            )
            await _refuse(refused, scope, send, close=True)


async def _refuse(exc: YieldgateError, scope: Scope, send: Send, *, close: bool) -> None:
    """Answer with the error's problem; `close` when the body is left unread, so the server
    drops the connection rather than read the rest of it."""
    response = problems.domain_problem(exc)
    if close:
        response.headers["connection"] = "close"

    async def nothing_to_receive() -> Message:  # a plain Response never reads
        return {"type": "http.disconnect"}

    await response(scope, nothing_to_receive, send)
