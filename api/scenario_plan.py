"""The scenario's plan for one day: its demand, capacities and closures through the optimizer.

The same LP as `yieldgate optimize` (optimizer.day_problem, day_solve, to_plan), built per date
because a scenario's capacity may differ from date to date. Loads numpy and PuLP: import it
only inside work that runs off the event loop.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from api.scenario_demand import DemandDay, ScenarioDemand
from api.scenario_request import Overrides
from optimizer.day_problem import build_day_problem, price_grid
from optimizer.day_solve import solve_day
from optimizer.forecast_io import Forecast, ForecastDay, ForecastSlot
from optimizer.outcome import SolveOutcome
from optimizer.run import fairness_of
from optimizer.to_plan import plan_day
from pricing.errors import InvalidInput
from pricing.plan import PlanDay
from pricing.venue import Venue

SOLVE_TIME_LIMIT_SECONDS = 30.0


def day_venue(venue: Venue, overrides: Overrides, day: DemandDay) -> Venue:
    """The venue on this date: the scenario's capacities (caps: never above the venue's own)
    put into its per-slot capacity table."""
    capacities = {
        slot: min(capacity, venue.capacity_of(slot))
        for slot, capacity in overrides.capacities_on(day.date, [s.slot for s in day.slots]).items()
    }
    if not capacities:
        return venue
    return venue.model_copy(update={"slot_capacities": {**venue.slot_capacities, **capacities}})


def plan_scenario_day(
    venue: Venue,
    demand: ScenarioDemand,
    day: DemandDay,
    overrides: Overrides,
    sold: Mapping[tuple[dt.date, str], int],
    as_of: dt.date,
) -> tuple[PlanDay, Venue] | None:
    """The day's plan and the venue it was planned for; None when the scenario closes the day.

    An LP that cannot be solved raises InvalidInput naming the constraint that cannot hold.
    """
    all_slots = [s.slot for s in day.slots]
    closed = overrides.closed_on(day.date, all_slots)
    open_slots = tuple(s for s in day.slots if s.slot not in closed)
    if not open_slots:
        return None
    venue_today = day_venue(venue, overrides, day)
    ladder = tuple(venue_today.prices.ladder)
    weights = demand.weights(DemandDay(day.date, day.arrivals, open_slots), ladder)
    forecast_day = ForecastDay(
        day.date,
        day.arrivals,
        tuple(
            ForecastSlot(slot.slot, tuple(float(w) for w in weights[i]), members=slot.members)
            for i, slot in enumerate(open_slots)
        ),
    )
    grid = price_grid(venue_today, Forecast(venue.id, ladder, ()), day.date)
    problem = build_day_problem(
        venue_today, forecast_day, grid, sold=sold, as_of=as_of, fairness=fairness_of(venue_today)
    )
    solution = solve_day(problem, solver="cbc", time_limit=SOLVE_TIME_LIMIT_SECONDS)
    if not solution.outcome.is_optimal:
        raise _not_solved(day.date, solution.outcome, overrides)
    planned, _ = plan_day(venue_today, problem, solution)
    return planned, venue_today


def _not_solved(date: dt.date, outcome: SolveOutcome, overrides: Overrides) -> InvalidInput:
    culprits = outcome.infeasible_constraints
    field = "overrides"
    if "min_revenue" in culprits:
        asked = overrides.objective is not None and overrides.objective.min_revenue is not None
        field = "overrides.objective.min_revenue" if asked else "objective.min_revenue"
    return InvalidInput(
        f"{field}: no plan for {date} meets the scenario's rules ({outcome.reason()})",
        field=field,
        constraints=list(culprits),
        date=str(date),
    )
