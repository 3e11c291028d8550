"""What-if scenarios and the venue histories and calendars they forecast from (manager role)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api import venue_documents
from api.auth import Principal
from api.deps import ManagerKey, ServicesDep
from api.responses import json_response
from api.scenario_request import ScenarioRequest
from api.venue_documents import VenueDocuments
from pricing.errors import PayloadTooLarge

router = APIRouter(prefix="/v1", tags=["scenarios"])


async def _upload(
    documents: VenueDocuments, venue: str, request: Request, principal: Principal
) -> Response:
    body = await capped_body(request, documents.kind)
    content_type = request.headers.get("content-type")
    return json_response(await documents.upload(venue, body, content_type, principal.actor))


async def capped_body(request: Request, what: str) -> bytes:
    """The request body, refused (413) as soon as it passes the upload cap, not after it has
    all been read into memory."""
    limit = venue_documents.MAX_UPLOAD_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(
            f"the {what} is {declared} bytes; at most {limit} are accepted", field="body"
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(
                f"the {what} is over {limit} bytes, the most accepted", field="body"
            )
    return bytes(body)


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
    status, answer = await services.scenarios.create(body, principal.actor)
    return json_response(answer, status_code=status)


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
    status, answer = await services.scenarios.rerun(scenario_id, principal.actor)
    return json_response(answer, status_code=status)


@router.post("/scenarios/{scenario_id}/publish")
async def publish_scenario(
    scenario_id: str, services: ServicesDep, principal: ManagerKey
) -> Response:
    return json_response(
        await services.scenarios.publish(scenario_id, principal.actor), status_code=201
    )
