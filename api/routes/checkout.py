"""What the ticketing checkout calls: prices, quotes, sales and cancellations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.deps import CheckoutServices, checkout_services
from api.responses import json_response
from api.schemas import QuoteRequest, SaleRequestBody, openapi_body, parse_body
from pricing.errors import InvalidInput

router = APIRouter(prefix="/v1", tags=["checkout"])


# The two hot routes take the bare request: every parameter and dependency FastAPI solves costs
# more than pricing the order (benchmarks/quote_throughput.py), so they authorise and validate
# with the same functions the other routes use, called directly, and document their inputs here.
PRICES_DOCS: dict[str, Any] = {
    "parameters": [
        {"name": "date", "in": "query", "required": True, "schema": {"type": "string"}},
        {"name": "if-none-match", "in": "header", "required": False, "schema": {"type": "string"}},
    ]
}


@router.post("/quotes", openapi_extra=openapi_body(QuoteRequest))
async def create_quote(request: Request) -> Response:
    services = checkout_services(request)
    body = parse_body(QuoteRequest, await request.body())
    data = await services.quotes.quote(body.venue, body.date, body.slot, body.tickets)
    return json_response(data)


@router.get("/venues/{venue}/prices", openapi_extra=PRICES_DOCS)
async def day_prices(venue: str, request: Request) -> Response:
    services = checkout_services(request)
    date = request.query_params.get("date")
    if date is None:
        raise InvalidInput("date: the date query parameter is required", field="date")
    price_list = await services.quotes.prices(venue, date)
    headers = {
        "ETag": price_list.etag,
        "Cache-Control": f"max-age={services.settings.prices_max_age_seconds}",
    }
    if request.headers.get("if-none-match") == price_list.etag:
        return Response(status_code=304, headers=headers)
    return Response(price_list.body, media_type="application/json", headers=headers)


@router.post("/sales")
async def record_sale(body: SaleRequestBody, services: CheckoutServices) -> Response:
    record, recorded_now = await services.sales.sell(
        body.order_id, body.venue, body.date, body.slot, body.tickets, body.token
    )
    return Response(
        record,
        status_code=201 if recorded_now else 200,
        media_type="application/json",
        headers=None if recorded_now else {"Idempotent-Replayed": "true"},
    )


@router.post("/sales/{order_id}/cancel")
async def cancel_sale(order_id: str, services: CheckoutServices) -> Response:
    return json_response(await services.sales.cancel(order_id))
