"""What-if scenarios: run, store, list, re-run and publish them (issue 6).

A scenario is checked here (venue, history, dates, overrides against the tickets sold), then
fitted, forecast and optimised by `api.scenario_run` in a worker thread: the numerical stack is
imported there, never by the service. Up to `scenario_sync_days` days the answer waits for the
result; longer scenarios answer 202 at once and run in the background, saving their progress
after every chunk of days, so any worker can show it (`GET /v1/scenarios/{id}`). A process takes
at most `scenario_queue` background scenarios queued or running (`scenario_queue_per_venue` per
venue; 429 beyond), and they use the worker pool one chunk at a time, so a short scenario waits
for at most one chunk.

Publishing puts the scenario's days into the live plan (the live plan's other days are kept)
through PlanService.publish: one atomic swap, audited with who, when and the scenario's KPIs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import orjson

from api.calendars import CalendarService
from api.clock import Clock, iso_utc
from api.cpu_work import CpuWork
from api.histories import HistoryService
from api.planning import PlanService
from api.scenario_checks import (
    check_calendar_closures,
    check_dates,
    check_overrides,
    scenario_venue,
)
from api.scenario_job import ScenarioJob
from api.scenario_request import ScenarioRequest
from api.store import Store
from api.venues import VenueRegistry
from pricing.calendar import local_now
from pricing.errors import Conflict, NotFound, TooManyRequests, YieldgateError
from pricing.venue import Venue

if TYPE_CHECKING:
    from api.scenario_run import PreparedScenario, ScenarioResult

log = logging.getLogger("yieldgate.scenarios")
PROGRESS_CHUNK_DAYS = 7
HIDDEN_FIELDS = ("plan",)  # served by GET /v1/scenarios/{id}/plan
# A background scenario saves a sign of life this often, also while it waits for a worker; one
# silent for STALLED_AFTER_SECONDS ran in a service that stopped (restart, crash) and is shown
# as failed, rather than "running" for ever.
HEARTBEAT_SECONDS = 30.0
STALLED_AFTER_SECONDS = 5 * HEARTBEAT_SECONDS
# What a background scenario records when the service stops under it (close).
STOPPED_PROBLEM = {
    "type": "about:blank",
    "title": "Scenario stopped",
    "status": 503,
    "detail": "the service stopped while this scenario ran; run it again",
}
# With the queue full, ask again this much later (a place frees as a background scenario ends).
QUEUE_RETRY_AFTER_SECONDS = 10
P = ParamSpec("P")
T = TypeVar("T")


def _run(job: ScenarioJob) -> ScenarioResult:
    from api.scenario_run import run_scenario

    return run_scenario(job)


def _prepare(job: ScenarioJob) -> PreparedScenario:
    from api.scenario_run import prepare

    return prepare(job)


def _solve(prepared: PreparedScenario, dates: list[dt.date]) -> list[Any]:
    from api.scenario_run import solve_days

    return list(solve_days(prepared, dates))


def _summarise(prepared: PreparedScenario, results: list[Any]) -> ScenarioResult:
    from api.scenario_run import summarise

    return summarise(prepared, results)


def public_view(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key not in HIDDEN_FIELDS}


def as_seen_at(record: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """The record, or, for a running scenario with no sign of life for STALLED_AFTER_SECONDS,
    the record as failed: the service that ran it stopped."""
    if record["status"] != "running":
        return record
    last = record.get("heartbeat_at") or record["updated_at"]
    silent = (now - dt.datetime.fromisoformat(last)).total_seconds()
    if silent <= STALLED_AFTER_SECONDS:
        return record
    return {
        **record,
        "status": "failed",
        "problem": {
            "type": "about:blank",
            "title": "Scenario stopped",
            "status": 503,
            "detail": f"the service running this scenario stopped (no sign of life since {last});"
            " run it again",
        },
    }


class ScenarioService:
    def __init__(
        self,
        venues: VenueRegistry,
        store: Store,
        plans: PlanService,
        histories: HistoryService,
        calendars: CalendarService,
        clock: Clock,
        cpu: CpuWork,
        *,
        sync_days: int,
        queue: int,
        queue_per_venue: int,
    ) -> None:
        self._venues = venues
        self._store = store
        self._plans = plans
        self._histories = histories
        self._calendars = calendars
        self._clock = clock
        self._cpu = cpu
        self._sync_days = sync_days
        self._background: set[asyncio.Task[None]] = set()
        self._queue = queue
        self._queue_per_venue = queue_per_venue
        self._queued: Counter[str] = Counter()  # background scenarios queued or running
        # Background scenarios take the worker pool one chunk at a time, one scenario at a
        # time, so a short scenario (answered at once) waits at most one chunk for a worker.
        self._cpu_turn = asyncio.Semaphore(1)

    async def create(
        self, request: ScenarioRequest, actor: str, *, rerun_of: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """(201, result) for a short scenario; (202, record with progress) for a long one."""
        venue = self._venues.get(request.venue)
        job = await self._job(request, venue)
        now = self._clock()
        record: dict[str, Any] = {
            "id": f"sc_{secrets.token_hex(6)}",
            "venue": venue.id,
            "name": request.name,
            "status": "running",
            "created_at": iso_utc(now),
            "created_by": actor,
            "updated_at": iso_utc(now),
            "rerun_of": rerun_of,
            "request": request.as_json(),
            "history_version": job.history_version,
            "calendar_version": job.calendar_version,
            "live_version": job.live_version,
            "progress": {"days_done": 0, "days": request.days},
            "published": [],
        }
        if request.days > self._sync_days:
            record["heartbeat_at"] = record["updated_at"]
            self._take_place(venue.id)
            try:
                await self._save(record)
            except BaseException:
                self._free_place(venue.id)
                raise
            task = asyncio.create_task(self._run_in_background(record, job))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            task.add_done_callback(lambda _: self._free_place(venue.id))
            return 202, public_view(record)
        result = await self._cpu.run(_run, job)
        self._finish(record, result)
        await self._save(record)
        return 201, public_view(record)

    async def get(self, scenario_id: str) -> dict[str, Any]:
        return public_view(await self._record(scenario_id))

    async def plan(self, scenario_id: str) -> dict[str, Any]:
        record = await self._record(scenario_id)
        if record["status"] != "done":
            raise self._not_done(record)
        plan: dict[str, Any] = record["plan"]
        return plan

    async def list(self, venue_id: str, limit: int) -> dict[str, Any]:
        venue = self._venues.get(venue_id)
        now = self._clock()
        records = [
            as_seen_at(orjson.loads(raw), now)
            for raw in await self._store.list_scenarios(venue.id, limit)
        ]
        summary_fields = ("id", "name", "status", "created_at", "created_by", "rerun_of")
        return {
            "venue": venue.id,
            "scenarios": [
                {
                    **{key: r.get(key) for key in summary_fields},
                    "start": r["request"]["start"],
                    "days": r["request"]["days"],
                    "progress": r["progress"],
                    "kpis": r.get("kpis"),
                    "published": r.get("published", []),
                }
                for r in records
            ],
        }

    async def rerun(self, scenario_id: str, actor: str) -> tuple[int, dict[str, Any]]:
        """The same inputs again, against today's history, sold counts and live plan."""
        record = await self._record(scenario_id)
        request = ScenarioRequest.model_validate(record["request"])
        return await self.create(request, actor, rerun_of=scenario_id)

    async def publish(self, scenario_id: str, actor: str) -> dict[str, Any]:
        record = await self._record(scenario_id)
        if record["status"] != "done":
            raise self._not_done(record)
        venue = self._venues.get(record["venue"])
        scenario_days = record["plan"]["days"]
        plan = {"venue": venue.id, "currency": venue.currency, "days": scenario_days}
        published = await self._plans.publish(
            plan,
            actor,
            audit_details={
                "scenario": record["id"],
                "kpis": record["kpis"],
                "compared_with": record["live_version"],
            },
        )
        record["published"].append(
            {"version": published["version"], "at": published["published_at"], "by": actor}
        )
        await self._save(record)
        return {**published, "scenario": record["id"], "kpis": record["kpis"]}

    async def close(self) -> None:
        """Stop the background scenarios; each saves that the service stopped under it (before
        the caller closes the store) rather than staying "running" until its beats run out."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    # --- inside -----------------------------------------------------------------------

    def _take_place(self, venue_id: str) -> None:
        """Count one more background scenario, or 429 when the queue is full."""
        total = self._queued.total()
        if total >= self._queue or self._queued[venue_id] >= self._queue_per_venue:
            whose = (
                f"{total} background scenarios are"
                if total >= self._queue
                else f"venue {venue_id!r} has {self._queued[venue_id]} background scenarios"
            )
            raise TooManyRequests(
                f"{whose} queued or running, the most allowed; try again later, or ask for "
                f"at most {self._sync_days} days to be answered at once",
                retry_after=QUEUE_RETRY_AFTER_SECONDS,
            )
        self._queued[venue_id] += 1

    def _free_place(self, venue_id: str) -> None:
        self._queued[venue_id] -= 1
        if not self._queued[venue_id]:
            del self._queued[venue_id]

    async def _background_cpu(
        self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """A background scenario's share of the worker pool: one call at a time (`_cpu_turn`)."""
        async with self._cpu_turn:
            return await self._cpu.run(function, *args, **kwargs)

    async def _job(self, request: ScenarioRequest, venue: Venue) -> ScenarioJob:
        history = await self._histories.resolve(venue)
        calendar = await self._calendars.resolve(venue)
        now = self._clock()
        today = local_now(venue, now).date()
        check_dates(request, today, history.first_date, history.last_date)
        sold: dict[tuple[dt.date, str], int] = {}
        for date in request.dates:
            counts = await self._store.sold_counts(venue.id, date.isoformat())
            sold.update({(date, slot): n for slot, n in counts.items() if n})
        check_overrides(request, venue, sold)
        if calendar is not None:
            check_calendar_closures(request, calendar.closed, sold)
        scenario_venue(venue, request.overrides)  # contradictory prices fail here, not later
        live_version = await self._store.current_version(venue.id)
        live_plan = await self._store.plan_body(venue.id, live_version) if live_version else None
        return ScenarioJob(
            request=request,
            venue=venue,
            history_csv=history.csv,
            history_version=history.version,
            calendar_csv=None if calendar is None else calendar.csv,
            calendar_version=None if calendar is None else calendar.version,
            live_version=live_version,
            live_plan=live_plan,
            sold=sold,
            as_of=today,
            stamp=now,
        )

    async def _run_in_background(self, record: dict[str, Any], job: ScenarioJob) -> None:
        stop_beats = asyncio.Event()
        heartbeat = asyncio.create_task(self._heartbeat(record, stop_beats))
        stopped = False
        try:
            prepared = await self._background_cpu(_prepare, job)
            dates = job.request.dates
            results: list[Any] = []
            for first in range(0, len(dates), PROGRESS_CHUNK_DAYS):
                chunk = dates[first : first + PROGRESS_CHUNK_DAYS]
                results.extend(await self._background_cpu(_solve, prepared, chunk))
                record["progress"] = {"days_done": first + len(chunk), "days": len(dates)}
                record["updated_at"] = iso_utc(self._clock())
                await self._save(record)
            self._finish(record, await self._background_cpu(_summarise, prepared, results))
        except YieldgateError as exc:
            record["status"] = "failed"
            record["problem"] = {
                "type": exc.type_,
                "title": exc.title,
                "status": exc.status,
                "detail": exc.detail,
                "field": exc.field,
            }
        except asyncio.CancelledError:  # only close() cancels: the service is stopping
            record["status"] = "failed"
            record["problem"] = dict(STOPPED_PROBLEM)
            stopped = True
        except Exception:
            log.exception("scenario %s failed", record["id"])
            record["status"] = "failed"
            record["problem"] = {
                "type": "about:blank",
                "title": "Internal error",
                "status": 500,
                "detail": "the scenario failed on our side; it has been logged",
            }
        finally:
            # Stopped before the last save, so a beat in flight cannot land after it. The flag
            # ends the beats even if a store call swallows the cancellation.
            stop_beats.set()
            heartbeat.cancel()
            await asyncio.wait({heartbeat})
        record["updated_at"] = iso_utc(self._clock())
        try:
            await self._save(record)
        except YieldgateError as exc:
            log.warning("scenario %s: could not save its end: %s", record["id"], exc.detail)
        if stopped:
            raise asyncio.CancelledError

    async def _heartbeat(self, record: dict[str, Any], stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), HEARTBEAT_SECONDS)
                return
            except TimeoutError:
                pass
            record["heartbeat_at"] = iso_utc(self._clock())
            try:
                await self._save(record)
            except YieldgateError as exc:
                log.warning("scenario %s: no heartbeat saved: %s", record["id"], exc.detail)

    def _finish(self, record: dict[str, Any], result: ScenarioResult) -> None:
        record.update(
            status="done",
            updated_at=iso_utc(self._clock()),
            progress={"days_done": record["request"]["days"], "days": record["request"]["days"]},
            kpis=result.kpis,
            price_changes=result.price_changes,
            notes=result.notes,
            daily=result.daily,
            plan_version=result.plan["version"],
            plan=result.plan,
        )

    async def _save(self, record: dict[str, Any]) -> None:
        await self._store.save_scenario(record["venue"], record["id"], orjson.dumps(record))

    async def _record(self, scenario_id: str) -> dict[str, Any]:
        stored = await self._store.scenario(scenario_id)
        if stored is None:
            raise NotFound(f"no scenario {scenario_id!r}", field="id")
        record: dict[str, Any] = as_seen_at(orjson.loads(stored.record), self._clock())
        return record

    @staticmethod
    def _end(record: dict[str, Any]) -> str:
        start = dt.date.fromisoformat(record["request"]["start"])
        return (start + dt.timedelta(record["request"]["days"] - 1)).isoformat()

    @staticmethod
    def _not_done(record: dict[str, Any]) -> Conflict:
        if record["status"] == "running":
            progress = record["progress"]
            return Conflict(
                f"scenario {record['id']} is still running ({progress['days_done']} of "
                f"{progress['days']} days)",
                field="id",
            )
        detail = record.get("problem", {}).get("detail", "it failed")
        return Conflict(f"scenario {record['id']} has no plan: {detail}", field="id")
