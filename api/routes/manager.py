"""What the revenue manager's tools call: plans and inventory reconciliation."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from starlette.responses import Response

from api.deps import ManagerKey, ServicesDep
from api.responses import json_response
from api.schemas import InventoryBody

router = APIRouter(prefix="/v1", tags=["manager"])
VenueQuery = Annotated[str, Query()]


@router.get("/venues/{venue}/inventory/{date}")
async def get_inventory(venue: str, date: str, services: ServicesDep, _: ManagerKey) -> Response:
    return json_response(await services.sales.inventory(venue, date))


@router.put("/venues/{venue}/inventory/{date}")
async def put_inventory(
    venue: str, date: str, body: InventoryBody, services: ServicesDep, _: ManagerKey
) -> Response:
    return json_response(await services.sales.reconcile(venue, date, body.sold))


@router.post("/venues/{venue}/recover")
async def recover_venue(venue: str, services: ServicesDep, principal: ManagerKey) -> Response:
    """After the store lost the venue's data: republish the plan this worker holds if the store
    has none, and accept the store's data from now on (reconcile the inventory first)."""
    return json_response(await services.recovery.recover(venue, principal.actor))


@router.post("/plans")
async def publish_plan(
    services: ServicesDep,
    principal: ManagerKey,
    plan: Annotated[dict[str, Any], Body()],
    replace: Annotated[
        Literal["all"] | None,
        Query(description="all: dates the plan leaves out go off sale (default: they keep theirs)"),
    ] = None,
) -> Response:
    published = await services.plans.publish(plan, principal.actor, replace_all=replace == "all")
    return json_response(published, status_code=201)


@router.get("/plans")
async def list_plans(services: ServicesDep, _: ManagerKey, venue: VenueQuery) -> Response:
    return json_response(await services.plans.list(venue))


@router.get("/plans/current")
async def current_plan(services: ServicesDep, _: ManagerKey, venue: VenueQuery) -> Response:
    return Response(await services.plans.current(venue), media_type="application/json")


@router.get("/plans/audit")
async def plan_audit(
    services: ServicesDep,
    _: ManagerKey,
    venue: VenueQuery,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    return json_response(await services.plans.audit(venue, limit))


@router.post("/plans/{version}/rollback")
async def rollback_plan(
    version: str, services: ServicesDep, principal: ManagerKey, venue: VenueQuery
) -> Response:
    return json_response(await services.plans.rollback(venue, version, principal.actor))
