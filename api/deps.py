"""Dependencies for the routes, as Annotated aliases.

They are all `async def`: FastAPI runs a plain `def` dependency in a thread pool, a thread hop
that cost more than the rest of a quote together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from api.auth import KeyRing, Principal
from api.planning import PlanService
from api.quoting import QuoteService
from api.sales import SaleService
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


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
AuthorizationHeader = Annotated[str | None, Header()]


async def checkout_key(
    services: ServicesDep, authorization: AuthorizationHeader = None
) -> Principal:
    return services.keys.authorize(authorization, "checkout")


async def manager_key(
    services: ServicesDep, authorization: AuthorizationHeader = None
) -> Principal:
    return services.keys.authorize(authorization, "manager")


CheckoutKey = Annotated[Principal, Depends(checkout_key)]
ManagerKey = Annotated[Principal, Depends(manager_key)]
