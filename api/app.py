"""The app factory: `create_app(settings)` wires venues, keys, the store and the services."""

from __future__ import annotations

import contextlib
import gc
import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api import problems
from api.auth import KeyRing
from api.calendars import CalendarService
from api.clock import Clock, system_clock
from api.cpu_work import CpuWork
from api.day_state import DayStateReader
from api.deps import Services
from api.histories import HistoryService
from api.metrics import TimingMiddleware
from api.plan_cache import PlanCache
from api.planning import PlanService
from api.quoting import QuoteService
from api.recovery import RecoveryService
from api.request_guard import RequestGuard
from api.routes import checkout, hot, manager, ops, scenarios
from api.sales import SaleService
from api.scenarios import ScenarioService
from api.settings import Settings, get_settings
from api.store.connect import open_store
from api.venues import VenueRegistry
from pricing.errors import InvalidInput
from pricing.token import QuoteSigner

TOKEN_KEY_FILE = "token-key"


def signing_keys(settings: Settings) -> list[bytes]:
    keys = [k.strip().encode() for k in settings.token_keys.split(",") if k.strip()]
    # Without configured keys, tokens are signed with the key kept beside the embedded store's
    # file: made once, the same in every worker and after a restart, so quotes stay buyable.
    return keys or [token_key_file(settings.db_path.parent / TOKEN_KEY_FILE)]


def token_key_file(path: Path) -> bytes:
    """The quote-signing key in `path`, made first if there is none (mode 0600).

    A new key is written whole to a temporary file and hard-linked into place, which never
    replaces an existing file: of workers starting together, the first to link wins and every
    one of them reads that key. The key is never printed or logged.
    """
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
            try:
                with os.fdopen(descriptor, "w", encoding="ascii") as file:
                    file.write(secrets.token_urlsafe(32) + "\n")
                    file.flush()
                    os.fsync(file.fileno())
                with contextlib.suppress(FileExistsError):
                    os.link(draft, path)
            finally:
                os.unlink(draft)
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a key file"
        raise InvalidInput(
            f"quote-signing key file {path}: {reason}; fix it or set YIELDGATE_TOKEN_KEYS",
            field="token_keys",
        ) from None
    if not key:
        raise InvalidInput(
            f"quote-signing key file {path} is empty: remove it to make a new key (quotes "
            "signed with the old one stop working) or set YIELDGATE_TOKEN_KEYS",
            field="token_keys",
        )
    return key.encode()


def read_start_plans(settings: Settings) -> list[Any]:
    """The start-up plan files, read now so a missing or broken one fails the start in one line."""
    documents = []
    for name in filter(None, (part.strip() for part in settings.start_plans.split(","))):
        try:
            documents.append(orjson.loads(Path(name).read_bytes()))
        except (OSError, orjson.JSONDecodeError) as exc:
            raise InvalidInput(f"start plan {name}: {exc}", field="start_plans") from None
    return documents


def create_app(
    settings: Settings | None = None, *, clock: Clock = system_clock, freeze_gc: bool = False
) -> FastAPI:
    """Build the app; bad venue files or key settings raise InvalidInput naming the field."""
    settings = settings or get_settings()
    venues = VenueRegistry.from_directory(settings.venues_dir)
    keys = KeyRing(settings.api_keys)
    signer = QuoteSigner(signing_keys(settings))
    start_plans = read_start_plans(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(settings)
        await store.start([venue.id for venue in venues])
        plan_cache = PlanCache(store, venues)
        day_states = DayStateReader(store, plan_cache, settings.store_retry_seconds)
        plans = PlanService(venues, store, clock)
        cpu = CpuWork(settings.scenario_workers, processes=settings.scenario_processes)
        histories = HistoryService(venues, store, clock, cpu, settings.history_dir)
        calendars = CalendarService(venues, store, clock, cpu, settings.history_dir)
        scenario_service = ScenarioService(
            venues,
            store,
            plans,
            histories,
            calendars,
            clock,
            cpu,
            sync_days=settings.scenario_sync_days,
            queue=settings.scenario_queue,
            queue_per_venue=settings.scenario_queue_per_venue,
        )
        app.state.services = Services(
            settings=settings,
            store=store,
            keys=keys,
            quotes=QuoteService(
                venues,
                day_states,
                signer,
                clock,
                ttl_seconds=settings.quote_ttl_seconds,
                max_tickets=settings.max_tickets_per_order,
                few_left_share=settings.few_left_share,
            ),
            sales=SaleService(venues, store, plan_cache, signer, clock),
            plans=plans,
            histories=histories,
            calendars=calendars,
            scenarios=scenario_service,
            recovery=RecoveryService(venues, store, plan_cache, day_states, clock),
        )
        await plans.publish_at_start(start_plans)
        if settings.bootstrap_days:
            await plans.bootstrap(settings.bootstrap_days)
        if freeze_gc:
            # Start-up objects never die; freezing them keeps the collector's pauses short.
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            await scenario_service.close()
            cpu.close()
            await store.close()

    app = FastAPI(
        title="yieldgate",
        version="0.1.0",
        summary="Yield-management pricing for timed admissions",
        lifespan=lifespan,
    )
    problems.install(app)
    # The key, then the body's size, before any route reads it; timed like every request.
    app.add_middleware(
        RequestGuard,
        keys=keys,
        max_body_bytes=settings.max_body_bytes,
        max_plan_bytes=settings.max_plan_bytes,
    )
    app.add_middleware(TimingMiddleware)
    app.include_router(ops.router)
    app.router.routes.extend(hot.routes)  # right after the no-op, before everything else
    app.include_router(checkout.router)
    app.include_router(manager.router)
    app.include_router(scenarios.router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=[*app.routes, *hot.docs.routes],
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def app_from_environment() -> FastAPI:
    """What each server worker builds: settings from the environment, GC frozen after start."""
    return create_app(get_settings(), freeze_gc=True)
