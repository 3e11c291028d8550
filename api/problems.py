"""The one place errors become HTTP: RFC 9457 problem details as JSON, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from api.responses import alternatives_json
from pricing.errors import ServiceUnavailable, TooManyRequests, YieldgateError

log = logging.getLogger("yieldgate.errors")
PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = "1"


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    type_: str = "about:blank",
    retry_after: str | None = None,
    **extra: Any,
) -> Response:
    body = {"type": type_, "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    if retry_after is None and status == 503:
        retry_after = RETRY_AFTER_SECONDS
    headers = None if retry_after is None else {"Retry-After": retry_after}
    return Response(
        orjson.dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def domain_problem(exc: YieldgateError) -> Response:
    """The problem for one of our errors (also sent by api.request_guard, outside the app)."""
    extra = dict(exc.extra)
    if "alternatives" in extra:
        extra["alternatives"] = alternatives_json(extra["alternatives"])
    retry_after = str(exc.retry_after) if isinstance(exc, TooManyRequests) else None
    return problem(
        exc.status,
        exc.title,
        exc.detail,
        type_=exc.type_,
        retry_after=retry_after,
        field=exc.field,
        **extra,
    )


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, YieldgateError)
    if isinstance(exc, ServiceUnavailable):
        log.warning("%s %s: %s", request.method, request.url.path, exc.detail)
    return domain_problem(exc)


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0]
    field = _field_of(tuple(first["loc"]))
    message = "the body is not valid JSON" if first["type"] == "json_invalid" else first["msg"]
    return problem(
        422,
        "Invalid input",
        f"{field}: {message}",
        type_="https://yieldgate.dev/problems/invalid-input",
        field=field,
        errors=[{"field": _field_of(tuple(e["loc"])), "message": e["msg"]} for e in errors],
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return problem(
        exc.status_code, str(exc.detail), f"{request.method} {request.url.path}: {exc.detail}"
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(500, "Internal error", "something went wrong on our side; it has been logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(YieldgateError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
