"""Dependencies for the routes, as Annotated aliases.

They are all `async def`: FastAPI runs a plain `def` dependency in a thread pool, a thread hop
that cost more than the rest of a quote together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from api.auth import KeyRing, Principal, Role, require
from api.calendars import CalendarService
from api.histories import HistoryService
from api.planning import PlanService
from api.quoting import QuoteService
from api.recovery import RecoveryService
from api.request_guard import PRINCIPAL
from api.sales import SaleService
from api.scenarios import ScenarioService
from api.settings import Settings
from api.store import Store


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    store: Store
    keys: KeyRing
    quotes: QuoteService
    sales: SaleService
    plans: PlanService
    histories: HistoryService
    calendars: CalendarService
    scenarios: ScenarioService
    recovery: RecoveryService


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def checkout_services(request: Request) -> Services:
    """The services, for a caller holding a checkout (or manager) key; 401 or 403 otherwise.

    A plain function: the hot routes call it directly, the others through `CheckoutServices`
    (FastAPI runs a sync dependency in a thread pool, so that alias wraps it in a coroutine).
    """
    services: Services = request.app.state.services
    authorized(request, services.keys, "checkout")
    return services


def authorized(request: Request, keys: KeyRing, role: Role) -> Principal:
    """The caller's principal, 403 without `role`. api.request_guard has authenticated every
    /v1 request (401) before its body was read and left the principal in the scope."""
    principal: Principal | None = request.scope.get(PRINCIPAL)
    if principal is None:  # an app without the guard: authenticate here
        return keys.authorize(request.headers.get("authorization"), role)
    return require(principal, role)


ServicesDep = Annotated[Services, Depends(get_services)]


async def _checkout_services(request: Request) -> Services:
    return checkout_services(request)


CheckoutServices = Annotated[Services, Depends(_checkout_services)]
AuthorizationHeader = Annotated[str | None, Header()]


async def manager_key(
    request: Request, services: ServicesDep, authorization: AuthorizationHeader = None
) -> Principal:
    # `authorization` only documents the header in the OpenAPI schema.
    return authorized(request, services.keys, "manager")


ManagerKey = Annotated[Principal, Depends(manager_key)]
