"""Play simulated customers, drawn from a demo world's true demand
(optimizer/simulation/world_truth.py), through a booking season against plans: how we know a
plan earns its keep (optimizer/simulation/comparison.py sets it against every flat price).

The season: the day's buyers and members arrive in a random order over the days before the
visit, at booking times drawn from the optimizer's booking curve
(optimizer/simulation/reoptimise.py). A static plan's prices depend only on how many places a
slot has sold, so for it the order is all that matters; the policy re-optimised in season
(`reoptimise=`) is re-solved at set days from the forecast and the places sold by then, and
sells at the new plan's steps from there on. Each buyer takes one ticket, of a segment drawn
from the venue's paid-ticket mix, priced at the step its sales position falls in
(`pricing.plan` step walking, cents as the quote path rounds them).

Common random numbers: within a run, every policy (the plan and each flat price) meets the same
buyers with the same uniform draws, so the differences between policies are not sampling noise
between independent seasons. Days are independent; all days, runs and policies advance one
arrival at a time together, in numpy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.booking_curve import DEFAULT_MEAN_LEAD_DAYS
from optimizer.occupancy import museum_stays, windows_in_use
from optimizer.simulation.reoptimise import (
    Reoptimisation,
    booking_times,
    reoptimised_plan,
    schedule,
)
from optimizer.simulation.world_truth import WorldTruth
from pricing.errors import InvalidInput
from pricing.plan import Plan, compile_plan, validate_plan
from pricing.venue import Venue, minutes_of

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

NO_EVENT = -2  # padding after a day's last arrival
BUYER = -1  # an arrival that chooses by the MNL; >= 0: a member of that slot
REOPTIMISED = "reoptimised"  # the policy re-solved during the season


@dataclass(frozen=True)
class PolicyResult:
    """One policy's figures over the simulated dates, one value per run (means as properties).

    revenue: VAT-inclusive, in the venue's currency; paid: tickets bought; attendance: paid
    tickets plus members; peak_occupancy: most people inside at an entry time on any date (each
    stays dwell_minutes); comfort_overflow: people above comfort_occupancy summed over entry
    times and dates (what the balanced objective pays its penalty on); sold_out_slots: slots
    that sold every place, summed over dates.
    """

    name: str
    revenue: FloatArray
    paid: FloatArray
    attendance: FloatArray
    peak_occupancy: FloatArray
    comfort_overflow: FloatArray
    sold_out_slots: FloatArray

    def mean(self, figure: str) -> float:
        values: FloatArray = getattr(self, figure)
        return float(values.mean())


@dataclass(frozen=True)
class Simulation:
    dates: tuple[dt.date, ...]
    runs: int
    seed: int
    currency: str
    results: tuple[PolicyResult, ...]
    buyers: FloatArray  # potential buyers per run, summed over dates

    def result(self, name: str) -> PolicyResult:
        return next(r for r in self.results if r.name == name)


@dataclass(frozen=True)
class _Tables:
    """One row per (plan, date): per slot and sales position, the true MNL weight at the
    adult price (0 once the slot is full) and each segment's price (cents)."""

    weights: FloatArray  # T x S x (C + 1)
    segment_cents: IntArray  # T x S x (C + 1) x G
    capacity: IntArray  # T x S (0 for padding)

    def extended(self, more: _Tables) -> _Tables:
        return _Tables(
            np.concatenate([self.weights, more.weights]),
            np.concatenate([self.segment_cents, more.segment_cents]),
            np.concatenate([self.capacity, more.capacity]),
        )


def _tables(
    truth: WorldTruth,
    plan: Plan,
    dates: Sequence[dt.date],
    slots: Sequence[list[str]],
    shape: tuple[int, int],
) -> _Tables:
    """The rows of one plan's `dates` (each with its `slots`); shape: (slots, positions)."""
    venue = truth.venue
    segments = list(venue.segments)
    width, positions = shape
    weights = np.zeros((len(dates), width, positions))
    cents = np.zeros((len(dates), width, positions, len(segments)), dtype=np.int64)
    capacity = np.zeros((len(dates), width), dtype=np.int64)
    compiled = compile_plan(plan, venue, plan.version or "simulated")
    position = np.arange(positions)
    for d, date in enumerate(dates):
        day = compiled.days[date]
        adult = np.zeros((width, positions))
        for s, slot in enumerate(slots[d]):
            pricing = day[slot]
            # pricing.step_at for every position at once
            ends = np.asarray(pricing.step_ends)
            steps = np.minimum(np.searchsorted(ends, position, side="right"), len(ends) - 1)
            capacity[d, s] = pricing.capacity
            adult[s] = np.asarray(pricing.step_prices)[steps] / 100
            cents[d, s] = np.array([pricing.segment_prices[g] for g in segments]).T[steps]
        v = np.zeros((width, positions))
        v[: len(slots[d])] = truth.weights(date, slots[d], adult[: len(slots[d])])
        full = position[None, :] >= capacity[d][:, None]
        v[full] = 0.0
        weights[d] = v
    return _Tables(weights, cents, capacity)


@dataclass(frozen=True)
class _Arrivals:
    """Per lane (run x date), in booking order: each arrival (BUYER, a member's slot, or
    NO_EVENT after the last), its segment and booking time (days from the first date; inf
    after the last); and the buyers per lane."""

    events: IntArray
    segment: IntArray
    times: FloatArray
    buyers: FloatArray


def _arrivals(
    truth: WorldTruth,
    dates: Sequence[dt.date],
    slots: Sequence[list[str]],
    runs: int,
    rng: np.random.Generator,
    lead_rng: np.random.Generator,
    mean_lead_days: float,
) -> _Arrivals:
    mix = truth.venue.demand.segment_mix
    segments = list(truth.venue.segments)
    shares = np.array([mix.get(g, 0.0) for g in segments])
    shares = shares / shares.sum() if shares.sum() > 0 else np.eye(len(segments))[0]
    markets = np.array([truth.market_size(date) for date in dates])
    sequences: list[IntArray] = []
    buyers = np.zeros(runs * len(dates))
    for r in range(runs):
        shocks = rng.gamma(1 / truth.dispersion, truth.dispersion, size=len(dates))
        for d, date in enumerate(dates):
            n = int(rng.poisson(markets[d] * shocks[d]))
            members = rng.poisson(truth.members_mean(date), size=len(slots[d]))
            kinds = np.concatenate(
                [np.full(n, BUYER), np.repeat(np.arange(len(slots[d])), members)]
            ).astype(np.int64)
            sequences.append(rng.permutation(kinds))
            buyers[r * len(dates) + d] = n
    length = max(len(seq) for seq in sequences)
    events = np.full((len(sequences), length), NO_EVENT, dtype=np.int64)
    times = np.full((len(sequences), length), np.inf)
    for lane, seq in enumerate(sequences):
        events[lane, : len(seq)] = seq
        # iid booking times sorted onto an already random order: iid times for each arrival
        day = (dates[lane % len(dates)] - dates[0]).days
        times[lane, : len(seq)] = booking_times(lead_rng, day, len(seq), mean_lead_days)
    segment = rng.choice(len(segments), size=events.shape, p=shares).astype(np.int64)
    return _Arrivals(events, segment, times, buyers)


@dataclass
class _Season:
    """Per policy and lane: places taken and tickets bought per slot, revenue in cents."""

    sold: IntArray  # P x L x S
    paid: IntArray
    revenue: FloatArray  # P x L


def simulate(
    truth: WorldTruth,
    plans: Mapping[str, Plan],
    *,
    seed: int = 0,
    runs: int = 5,
    reoptimise: Reoptimisation | None = None,
) -> Simulation:
    """Every plan (all over the same dates and slots) against the same simulated customers.

    With `reoptimise`, one more policy, REOPTIMISED, starts from the first plan and is re-solved
    from `reoptimise.forecast` during the season with the places it has sold (see
    optimizer/simulation/reoptimise.py); the static policies meet exactly the customers they would
    without it."""
    if runs < 1:
        raise InvalidInput("runs must be at least 1", field="runs")
    if not plans:
        raise InvalidInput("nothing to simulate", field="plan")
    if reoptimise is not None and REOPTIMISED in plans:
        raise InvalidInput(f"a plan may not be called {REOPTIMISED}", field="plan")
    venue = truth.venue
    names = list(plans)
    first = plans[names[0]]
    for name, plan in plans.items():
        validate_plan(plan, venue)
        if [d.date for d in plan.days] != [d.date for d in first.days]:
            raise InvalidInput(f"plan {name} covers other dates than {names[0]}", field="days")
    dates = [day.date for day in first.days]
    if not dates:
        raise InvalidInput("the plan has no dates", field="days")
    slots = [sorted(s.slot for s in day.slots) for day in first.days]
    for d, date in enumerate(dates):
        if not slots[d]:
            raise InvalidInput(f"the plan has no slots on {date}", field="days")
        for name, plan in plans.items():
            if sorted(s.slot for s in plan.days[d].slots) != slots[d]:
                raise InvalidInput(f"plan {name} has other slots on {date}", field="slots")
    policies = [plans[n] for n in names]
    if reoptimise is not None:
        names.append(REOPTIMISED)
        policies.append(first)
    shape = (
        max(len(s) for s in slots),
        max(venue.capacity_of(slot) for day in slots for slot in day) + 1,
    )
    rows = [_tables(truth, plan, dates, slots, shape) for plan in policies]
    tables = _Tables(
        np.concatenate([t.weights for t in rows]),
        np.concatenate([t.segment_cents for t in rows]),
        np.concatenate([t.capacity for t in rows]),
    )
    rng = np.random.default_rng(seed)
    mean_lead = reoptimise.mean_lead_days if reoptimise else DEFAULT_MEAN_LEAD_DAYS
    arrivals = _arrivals(
        truth, dates, slots, runs, rng, np.random.default_rng([seed, 1]), mean_lead
    )
    events, buyers = arrivals.events, arrivals.buyers
    uniforms = rng.random(events.shape)
    n_policies, n_lanes = len(names), events.shape[0]
    day_of_lane = np.tile(np.arange(len(dates)), runs)
    which = np.arange(n_policies)[:, None] * len(dates) + day_of_lane[None, :]  # P x L -> row
    season = _Season(
        np.zeros((n_policies, n_lanes, shape[0]), dtype=np.int64),
        np.zeros((n_policies, n_lanes, shape[0]), dtype=np.int64),
        np.zeros((n_policies, n_lanes)),
    )
    done = np.zeros(n_lanes, dtype=np.int64)
    if reoptimise is not None:
        tables, done = _reoptimise_in_season(
            truth, reoptimise, dates, slots, tables, which, season, arrivals, uniforms
        )
    _advance(tables, which, season, arrivals, uniforms, done, (events != NO_EVENT).sum(axis=1))
    sold, paid, revenue = season.sold, season.paid, season.revenue

    members = sold - paid  # P x L x S
    attendance = sold.astype(np.float64)
    occupancy = np.zeros((n_policies, n_lanes))
    overflow = np.zeros((n_policies, n_lanes))
    comfort = venue.comfort_occupancy
    for d, day_slots in enumerate(slots):
        lanes = day_of_lane == d
        inside = attendance[:, lanes][:, :, : len(day_slots)] @ _window_matrix(venue, day_slots).T
        occupancy[:, lanes] = inside.max(axis=2)
        if comfort is not None:
            overflow[:, lanes] = np.maximum(inside - comfort, 0.0).sum(axis=2)
    capacity = tables.capacity[which]  # P x L x S
    full = (sold >= capacity) & (capacity > 0)

    def per_run(values: FloatArray, how: str = "sum") -> FloatArray:
        by_run = values.reshape(n_policies, runs, len(dates))
        folded = by_run.max(axis=2) if how == "max" else by_run.sum(axis=2)
        return np.asarray(folded, dtype=np.float64)

    results = tuple(
        PolicyResult(
            name=name,
            revenue=per_run(revenue / 100.0)[p],
            paid=per_run(paid.sum(axis=2).astype(np.float64))[p],
            attendance=per_run((paid + members).sum(axis=2).astype(np.float64))[p],
            peak_occupancy=per_run(occupancy, "max")[p],
            comfort_overflow=per_run(overflow)[p],
            sold_out_slots=per_run(full.sum(axis=2).astype(np.float64))[p],
        )
        for p, name in enumerate(names)
    )
    return Simulation(
        dates=tuple(dates),
        runs=runs,
        seed=seed,
        currency=venue.currency,
        results=results,
        buyers=buyers.reshape(runs, len(dates)).sum(axis=1),
    )


def _reoptimise_in_season(
    truth: WorldTruth,
    reoptimise: Reoptimisation,
    dates: Sequence[dt.date],
    slots: Sequence[list[str]],
    tables: _Tables,
    which: IntArray,
    season: _Season,
    arrivals: _Arrivals,
    uniforms: FloatArray,
) -> tuple[_Tables, IntArray]:
    """Play the season up to each re-optimisation point; there re-solve the last policy's
    dates due (per run, from the places it has sold) and price them from the new plan on.
    Returns the tables with the new rows and how many arrivals each lane has played."""
    runs = len(arrivals.buyers) // len(dates)
    shape = (tables.weights.shape[1], tables.weights.shape[2])
    done = np.zeros(len(arrivals.buyers), dtype=np.int64)
    offsets = [(date - dates[0]).days for date in dates]
    for point, due in schedule(reoptimise, offsets).items():
        upto = (arrivals.times < point).sum(axis=1)
        _advance(tables, which, season, arrivals, uniforms, done, upto)
        done = upto
        as_of = dates[0] + dt.timedelta(days=point)
        due_dates = [dates[d] for d in due]
        for r in range(runs):
            lanes = [r * len(dates) + d for d in due]
            places = {
                (dates[d], slot): int(season.sold[-1, lane, s])
                for d, lane in zip(due, lanes, strict=True)
                for s, slot in enumerate(slots[d])
            }
            plan = reoptimised_plan(truth.venue, reoptimise, due_dates, places, as_of)
            if plan is None:
                continue  # not solved: the venue keeps its current steps
            which[-1, lanes] = len(tables.capacity) + np.arange(len(due))
            tables = tables.extended(
                _tables(truth, plan, due_dates, [slots[d] for d in due], shape)
            )
    return tables, done


def _window_matrix(venue: Venue, slots: Sequence[str]) -> FloatArray:
    """Entry times x slots: 1 where a visitor of the slot is inside at that entry time."""
    windows = windows_in_use(museum_stays([minutes_of(s) for s in slots], venue.dwell_minutes))
    matrix = np.zeros((len(windows), len(slots)))
    for w, window in enumerate(windows):
        matrix[w, list(window.users)] = 1.0
    return matrix


def _advance(
    tables: _Tables,
    which: IntArray,
    season: _Season,
    arrivals: _Arrivals,
    uniforms: FloatArray,
    start: IntArray,
    stop: IntArray,
) -> None:
    """Play every lane's arrivals start[lane] to stop[lane] (exclusive) for every policy, one
    arrival at a time, policy p of lane l pricing from table row which[p, l]."""
    events, segment = arrivals.events, arrivals.segment
    sold, paid, revenue = season.sold, season.paid, season.revenue
    n_policies, n_lanes, width = sold.shape
    positions = tables.weights.shape[2]
    rows = which[:, :, None]  # P x L x 1
    s_index = np.arange(width)[None, None, :]
    pl_p, pl_l = np.meshgrid(np.arange(n_policies), np.arange(n_lanes), indexing="ij")
    capacity = tables.capacity[which]  # P x L x S
    last_position = positions - 1
    lane_index = np.arange(n_lanes)
    for i in range(int((stop - start).max(initial=0))):
        column = start + i
        active = column < stop
        kind = np.where(
            active, events[lane_index, np.minimum(column, events.shape[1] - 1)], NO_EVENT
        )
        buyer = kind == BUYER
        if buyer.any():
            group = segment[lane_index, np.minimum(column, events.shape[1] - 1)]
            position = np.minimum(sold, last_position)
            v = tables.weights[rows, s_index, position]
            cumulative = np.cumsum(v, axis=2)
            target = uniforms[lane_index, np.minimum(column, events.shape[1] - 1)][None, :]
            target = target * (1.0 + cumulative[:, :, -1])
            choice = (cumulative < target[:, :, None]).sum(axis=2)  # P x L; width: no purchase
            bought = (choice < width) & buyer[None, :]
            chosen = np.minimum(choice, width - 1)
            at = sold[pl_p, pl_l, chosen]
            price = tables.segment_cents[
                which, chosen, np.minimum(at, last_position), group[None, :]
            ]
            revenue += np.where(bought, price, 0)
            np.add.at(sold, (pl_p[bought], pl_l[bought], chosen[bought]), 1)
            np.add.at(paid, (pl_p[bought], pl_l[bought], chosen[bought]), 1)
        member = kind >= 0
        if member.any():
            lanes = np.flatnonzero(member)
            slot = kind[lanes]
            room = sold[:, lanes, slot] < capacity[:, lanes, slot]  # P x M
            pp, mm = np.nonzero(room)
            np.add.at(sold, (pp, lanes[mm], slot[mm]), 1)
