"""What-if scenarios and the venue histories and calendars they forecast from (manager role)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api.auth import Principal
from api.deps import ManagerKey, ServicesDep
from api.responses import json_response
from api.scenario_request import ScenarioRequest
from api.venue_documents import VenueDocuments

router = APIRouter(prefix="/v1", tags=["scenarios"])


async def _upload(
    documents: VenueDocuments, venue: str, request: Request, principal: Principal
) -> Response:
    # Capped by api.request_guard while it streams in (venue_documents.MAX_UPLOAD_BYTES).
    body = await request.body()
    content_type = request.headers.get("content-type")
    return json_response(await documents.upload(venue, body, content_type, principal.actor))


def _scenario_answer(status: int, answer: dict[str, Any]) -> Response:
    """201 with the result, or 202 with the record and where to follow it."""
    headers = {"Location": f"/v1/scenarios/{answer['id']}"} if status == 202 else None
    return json_response(answer, status_code=status, headers=headers)


@router.put(
    "/venues/{venue}/history",
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def put_history(
    venue: str, request: Request, services: ServicesDep, principal: ManagerKey
) -> Response:
    return await _upload(services.histories, venue, request, principal)


@router.get("/venues/{venue}/history")
async def get_history(venue: str, services: ServicesDep, _: ManagerKey) -> Response:
    return json_response(await services.histories.describe(venue))


@router.put(
    "/venues/{venue}/calendar",
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def put_calendar(
    venue: str, request: Request, services: ServicesDep, principal: ManagerKey
) -> Response:
    return await _upload(services.calendars, venue, request, principal)


@router.get("/venues/{venue}/calendar")
async def get_calendar(venue: str, services: ServicesDep, _: ManagerKey) -> Response:
    return json_response(await services.calendars.describe(venue))


@router.post("/scenarios")
async def create_scenario(
    body: ScenarioRequest, services: ServicesDep, principal: ManagerKey
) -> Response:
    return _scenario_answer(*await services.scenarios.create(body, principal.actor))


@router.get("/scenarios")
async def list_scenarios(
    services: ServicesDep,
    _: ManagerKey,
    venue: Annotated[str, Query()],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    return json_response(await services.scenarios.list(venue, limit))


@router.get("/scenarios/{scenario_id}")
async def get_scenario(scenario_id: str, services: ServicesDep, _: ManagerKey) -> Response:
    return json_response(await services.scenarios.get(scenario_id))


@router.get("/scenarios/{scenario_id}/plan")
async def scenario_plan(scenario_id: str, services: ServicesDep, _: ManagerKey) -> Response:
    return json_response(await services.scenarios.plan(scenario_id))


@router.post("/scenarios/{scenario_id}/rerun")
async def rerun_scenario(
    scenario_id: str, services: ServicesDep, principal: ManagerKey
) -> Response:
    return _scenario_answer(*await services.scenarios.rerun(scenario_id, principal.actor))


@router.post("/scenarios/{scenario_id}/publish")
async def publish_scenario(
    scenario_id: str, services: ServicesDep, principal: ManagerKey
) -> Response:
    return json_response(
        await services.scenarios.publish(scenario_id, principal.actor), status_code=201
    )
