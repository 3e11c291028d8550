"""One exception hierarchy for the whole service; `api.problems` maps it to HTTP problem details."""

from __future__ import annotations

from typing import Any


class YieldgateError(Exception):
    """Base of every error the service reports to a caller on purpose."""

    status = 400
    title = "Bad request"
    type_ = "about:blank"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra


class InvalidInput(YieldgateError):
    status = 422
    title = "Invalid input"
    type_ = "https://yieldgate.dev/problems/invalid-input"


class NotFound(YieldgateError):
    status = 404
    title = "Not found"
    type_ = "https://yieldgate.dev/problems/not-found"


class Conflict(YieldgateError):
    status = 409
    title = "Conflict"
    type_ = "https://yieldgate.dev/problems/conflict"


class SoldOut(Conflict):
    title = "Sold out"
    type_ = "https://yieldgate.dev/problems/sold-out"


class TokenRejected(YieldgateError):
    """The quote token does not prove the price: forged, expired or for another order."""

    status = 422
    title = "Quote token rejected"
    type_ = "https://yieldgate.dev/problems/token-rejected"


class Unauthorized(YieldgateError):
    status = 401
    title = "Unauthorized"
    type_ = "https://yieldgate.dev/problems/unauthorized"


class Forbidden(YieldgateError):
    status = 403
    title = "Forbidden"
    type_ = "https://yieldgate.dev/problems/forbidden"


class PayloadTooLarge(YieldgateError):
    status = 413
    title = "Payload too large"
    type_ = "https://yieldgate.dev/problems/payload-too-large"


class UnsupportedMediaType(YieldgateError):
    status = 415
    title = "Unsupported media type"
    type_ = "https://yieldgate.dev/problems/unsupported-media-type"


class TooManyRequests(YieldgateError):
    """More work than the service takes on at once; ask again in `retry_after` seconds."""

    status = 429
    title = "Too many requests"
    type_ = "https://yieldgate.dev/problems/too-many-requests"

    def __init__(
        self, detail: str, *, retry_after: int, field: str | None = None, **extra: Any
    ) -> None:
        super().__init__(detail, field=field, **extra)
        self.retry_after = retry_after


class ServiceUnavailable(YieldgateError):
    status = 503
    title = "Service unavailable"
    type_ = "https://yieldgate.dev/problems/unavailable"
