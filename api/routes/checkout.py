"""What the ticketing checkout calls besides the hot path (`hot.py`): sales and cancellations."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from api.deps import CheckoutServices
from api.responses import json_response
from api.schemas import SaleRequestBody

router = APIRouter(prefix="/v1", tags=["checkout"])


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
