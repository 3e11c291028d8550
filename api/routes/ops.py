"""Health, readiness and metrics for the operator."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from api import metrics
from api.deps import ServicesDep
from api.responses import json_response

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz() -> Response:
    return json_response({"status": "ok"})


@router.get("/readyz")
async def readyz(services: ServicesDep) -> Response:
    await services.recovery.check_ready()
    return json_response({"status": "ready"})


@router.get("/metrics")
async def prometheus_metrics() -> Response:
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
