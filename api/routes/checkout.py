"""What the ticketing checkout calls: prices, quotes, sales and cancellations."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Header, Query
from starlette.responses import Response

from api.deps import CheckoutKey, ServicesDep
from api.responses import json_response
from api.schemas import QuoteRequest, SaleRequestBody

router = APIRouter(prefix="/v1", tags=["checkout"])


@router.get("/venues/{venue}/prices")
async def day_prices(
    venue: str,
    services: ServicesDep,
    _: CheckoutKey,
    date: Annotated[str, Query()],
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    data = await services.quotes.prices(venue, date)
    response = json_response(data)
    etag = f'"{hashlib.blake2b(response.body, digest_size=12).hexdigest()}"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"max-age={services.settings.prices_max_age_seconds}",
    }
    if if_none_match == etag:
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response


@router.post("/quotes")
async def create_quote(body: QuoteRequest, services: ServicesDep, _: CheckoutKey) -> Response:
    data = await services.quotes.quote(body.venue, body.date, body.slot, body.tickets)
    return json_response(data)


@router.post("/sales")
async def record_sale(body: SaleRequestBody, services: ServicesDep, _: CheckoutKey) -> Response:
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
async def cancel_sale(order_id: str, services: ServicesDep, _: CheckoutKey) -> Response:
    return json_response(await services.sales.cancel(order_id))
