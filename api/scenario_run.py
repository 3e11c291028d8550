"""A scenario from its inputs to its result: fit (cached), forecast, override, optimise, compare.

Everything here is CPU work and loads the numerical stack: `api.scenarios` runs it in a worker
thread and imports this module there, so the service itself never loads numpy. The work is in
three steps so a long scenario can report progress between chunks of days:
`prepare` (model and demand), `solve_days` (plan and figures per day), `summarise`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from api.plan_evaluation import DayFigures, difference, evaluate_day, kpis
from api.plan_prices import day_prices
from api.scenario_checks import scenario_venue
from api.scenario_demand import ScenarioDemand, fitted_models, scenario_demand
from api.scenario_job import ScenarioJob
from api.scenario_plan import plan_scenario_day
from forecasting.history import parse_calendar
from optimizer.to_plan import plan_version
from pricing.plan import Plan, PlanDay, parse_plan
from pricing.venue import Venue

__all__ = ["ScenarioJob", "ScenarioResult", "prepare", "run_scenario", "solve_days", "summarise"]


@dataclass(frozen=True)
class PreparedScenario:
    job: ScenarioJob
    venue: Venue  # with the scenario's prices and objective
    demand: ScenarioDemand
    live: dict[dt.date, PlanDay]


@dataclass(frozen=True)
class DayResult:
    date: dt.date
    plan: PlanDay | None  # None: the scenario closes the day
    scenario: DayFigures
    live: DayFigures
    live_on_sale: bool


@dataclass(frozen=True)
class ScenarioResult:
    kpis: dict[str, dict[str, float]]
    price_changes: list[dict[str, Any]]
    notes: list[str]
    plan: dict[str, Any]  # Plan JSON of the scenario's days
    daily: list[dict[str, Any]] = field(default_factory=list)


def prepare(job: ScenarioJob) -> PreparedScenario:
    request = job.request
    venue = scenario_venue(job.venue, request.overrides)
    model = fitted_models.get(job.venue, job.history_csv, job.history_version)
    calendar = None
    if job.calendar_csv is not None:
        calendar = parse_calendar(job.calendar_csv, source=f"{job.venue.id} calendar")
    demand = scenario_demand(model, request.dates, request.overrides, calendar)
    live: dict[dt.date, PlanDay] = {}
    if job.live_plan is not None:
        plan: Plan = parse_plan(orjson.loads(job.live_plan))
        live = {day.date: day for day in plan.days}
    return PreparedScenario(job, venue, demand, live)


def solve_days(prepared: PreparedScenario, dates: Sequence[dt.date]) -> list[DayResult]:
    job = prepared.job
    results = []
    for date in dates:
        day = prepared.demand.days.get(date)
        if day is None:
            continue  # the venue is closed that day
        planned = plan_scenario_day(
            prepared.venue, prepared.demand, day, job.request.overrides, job.sold, job.as_of
        )
        plan, venue_today = planned if planned is not None else (None, prepared.venue)
        live_day = prepared.live.get(date)
        results.append(
            DayResult(
                date,
                plan,
                evaluate_day(venue_today, prepared.demand, day, plan, job.sold, job.as_of),
                evaluate_day(job.venue, prepared.demand, day, live_day, job.sold, job.as_of),
                live_day is not None,
            )
        )
    return results


def summarise(prepared: PreparedScenario, results: Sequence[DayResult]) -> ScenarioResult:
    job = prepared.job
    scenario = kpis(r.scenario for r in results)
    live = kpis(r.live for r in results)
    days = [r.plan for r in results if r.plan is not None]
    plan = Plan(
        venue=job.venue.id,
        version=plan_version(job.stamp, days),
        currency=job.venue.currency,
        days=days,
    ).model_dump(mode="json", exclude_none=True)
    notes = list(prepared.demand.notes)
    not_on_sale = [r.date for r in results if not r.live_on_sale]
    if not_on_sale:
        notes.append(
            f"the live plan has no prices for {len(not_on_sale)} of the scenario's open days "
            f"(first {not_on_sale[0]}); there the live figures count no sales"
        )
    closed = [str(r.date) for r in results if r.plan is None]
    if closed:
        notes.append(f"closed by the scenario: {', '.join(closed)}")
    return ScenarioResult(
        kpis={"scenario": scenario, "live": live, "difference": difference(scenario, live)},
        price_changes=price_changes(prepared, results, days),
        notes=notes,
        plan=plan,
        daily=[
            {
                "date": str(r.date),
                "scenario": kpis([r.scenario]),
                "live": kpis([r.live]),
            }
            for r in results
        ],
    )


def price_changes(
    prepared: PreparedScenario, results: Sequence[DayResult], plan_days: Sequence[PlanDay]
) -> list[dict[str, Any]]:
    """Every slot whose next ticket the scenario prices differently from the live plan."""
    sold = {(str(date), slot): n for (date, slot), n in prepared.job.sold.items()}
    scenario = day_prices(plan_days, sold)
    live_days = [prepared.live[r.date] for r in results if r.date in prepared.live]
    live = day_prices(live_days, sold)
    changes = []
    for key in sorted(set(scenario) | set(live)):
        before, after = live.get(key), scenario.get(key)
        if before != after:
            changes.append({"date": key[0], "slot": key[1], "live": before, "scenario": after})
    return changes


def run_scenario(job: ScenarioJob) -> ScenarioResult:
    """The whole scenario in one go (what a short scenario and the CLI twin do)."""
    prepared = prepare(job)
    return summarise(prepared, solve_days(prepared, job.request.dates))
