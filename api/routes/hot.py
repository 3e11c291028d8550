"""The checkout's hot path, quotes and the day's prices, as plain Starlette routes.

FastAPI's per-request work (solving parameters and dependencies, its own body handling) cost
more than pricing the order itself: when tuning, a quote took about 40 µs less as a plain
route (benchmarks/quote_in_process.py measures in process, quote_throughput.py over HTTP). So
these two take the bare request and call the same functions the other routes use through
FastAPI: `checkout_services` for the key, `parse_body` for the pydantic model. `docs` describes
them to the OpenAPI schema from the same models; it is never served.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from api.deps import checkout_services
from api.responses import json_response
from api.schemas import QuoteRequest, parse_body
from pricing.errors import InvalidInput


async def create_quote(request: Request) -> Response:
    services = checkout_services(request)
    body = parse_body(QuoteRequest, await request.body())
    data = await services.quotes.quote(body.venue, body.date, body.slot, body.tickets)
    return json_response(data)


async def day_prices(request: Request) -> Response:
    services = checkout_services(request)
    date = request.query_params.get("date")
    if date is None:
        raise InvalidInput("date: the date query parameter is required", field="date")
    price_list = await services.quotes.prices(request.path_params["venue"], date)
    headers = {
        "ETag": price_list.etag,
        "Cache-Control": f"max-age={services.settings.prices_max_age_seconds}",
    }
    if request.headers.get("if-none-match") == price_list.etag:
        return Response(status_code=304, headers=headers)
    return Response(price_list.body, media_type="application/json", headers=headers)


class NamedRoute(Route):
    """A Starlette route that tells the metrics middleware its template, as FastAPI's do."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


routes = [
    NamedRoute("/v1/quotes", create_quote, methods=["POST"]),
    NamedRoute("/v1/venues/{venue}/prices", day_prices, methods=["GET"]),
]

docs = APIRouter(tags=["checkout"])
Authorization = Annotated[str, Header(description="Bearer KEY of the checkout role")]


@docs.post("/v1/quotes")
async def _quote_docs(body: QuoteRequest, authorization: Authorization) -> dict[str, Any]:
    """Price an order for a slot; the answer carries a signed token for the sale."""
    raise NotImplementedError  # never served: `routes` answers this path


@docs.get("/v1/venues/{venue}/prices")
async def _prices_docs(
    venue: str,
    date: Annotated[str, Query()],
    authorization: Authorization,
    if_none_match: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Every slot of the day on sale, with its next ticket's price; ETag and max-age."""
    raise NotImplementedError  # never served: `routes` answers this path
