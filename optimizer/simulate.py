"""Play simulated customers, drawn from a demo world's true demand, through a booking season.

This is how we know a plan earns its keep: the same customers meet the plan and every flat
ladder price, and we count what each earns.

The truth (written by `yieldgate demo-data`, forecasting/world.py):
- a visit date's market A_d = exp(intercept + effects . x_d), x_d from `calendar_features` and
  the calendar's holiday, school_holiday, event, temp_c and precip_mm; the realised market is
  A_d G_d with a day-level gamma shock G_d (mean 1, variance `dispersion`), and the number of
  potential buyers is Poisson(A_d G_d);
- each buyer sees every slot's current price p_s and picks slot s with probability
  v_s / (1 + sum_t v_t), v_s = K q_ws exp(-b (p_s - base)), or buys nothing; a sold-out slot
  is not offered (v_s = 0);
- members, Poisson(2) a slot on week days and Poisson(4) at weekends, visit free and take a
  place (and a sales position, as they do through the quote path) if one is left.

The season: the day's buyers and members arrive in a random order over the days before the
visit. A plan's prices depend only on how many places a slot has sold, not on the calendar, so
the order is all that matters of their arrival times. Each buyer takes one ticket, of a segment
drawn from the venue's paid-ticket mix, priced at the step its sales position falls in
(`pricing.plan` step walking, cents as the quote path rounds them).

Common random numbers: within a run, every policy (the plan and each flat price) meets the same
buyers with the same uniform draws, so the differences between policies are not sampling noise
between independent seasons. Days are independent; all days, runs and policies advance one
arrival at a time together, in numpy.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from forecasting.features import calendar_features, day_types
from forecasting.history import Calendar, load_calendar
from optimizer.forecast_io import Forecast, ForecastDay, ForecastSlot
from optimizer.occupancy import museum_stays, windows_in_use
from pricing.calendar import entry_slots
from pricing.errors import InvalidInput
from pricing.plan import Plan, PlanDay, PlanSlot, Step, compile_plan, validate_plan
from pricing.venue import WEEKDAYS, Venue, minutes_of, parse_venue_toml

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# forecasting/world.py draws members per slot with these means (not recorded in truth.json).
MEMBERS_PER_SLOT_WEEKDAY = 2.0
MEMBERS_PER_SLOT_WEEKEND = 4.0
DAY_COLUMNS = ("holiday", "school_holiday", "event", "temp_c", "precip_mm")
NO_EVENT = -2  # padding after a day's last arrival
BUYER = -1  # an arrival that chooses by the MNL; >= 0: a member of that slot


@dataclass(frozen=True)
class WorldTruth:
    """A demo world's true demand: what the simulated customers are drawn from."""

    venue: Venue
    calendar: Calendar
    trend_origin: dt.date
    intercept: float
    effects: Mapping[str, float]
    price_sensitivity: float
    buy_odds: float  # K = (1 - outside share) / outside share at base prices
    dispersion: float
    slot_shares: Mapping[str, Mapping[str, float]]  # day type -> slot -> q at base price
    members_weekday: float = MEMBERS_PER_SLOT_WEEKDAY  # mean member visits a slot
    members_weekend: float = MEMBERS_PER_SLOT_WEEKEND

    def market_size(self, date: dt.date) -> float:
        """A_d: the expected number of people who consider visiting on `date`."""
        if date in self.calendar.closed:
            raise InvalidInput(f"the world's calendar closes {date}", field="date")
        values = self.calendar.days.get(date)
        if values is None:
            raise InvalidInput(f"{date} is not in the world's calendar", field="date")
        x: dict[str, float] = dict(calendar_features(self.venue, date, self.trend_origin))
        for column in DAY_COLUMNS:
            value = values.get(column)
            if value is None:
                raise InvalidInput(f"the world's calendar has no {column} on {date}", field=column)
            x[column] = value
        missing = sorted(set(self.effects) - set(x))
        if missing:
            raise InvalidInput(f"truth.json: unknown effect(s) {', '.join(missing)}")
        return math.exp(self.intercept + sum(e * x[name] for name, e in self.effects.items()))

    def slot_appeal(self, date: dt.date, slots: Sequence[str]) -> FloatArray:
        """K q_ws per slot: the MNL weight at the base price."""
        kind = day_types(self.venue).get(WEEKDAYS[date.weekday()])
        shares = self.slot_shares.get(kind or "")
        if shares is None:
            raise InvalidInput(f"truth.json: no slot shares for {date} (closed?)", field="date")
        unknown = [slot for slot in slots if slot not in shares]
        if unknown:
            raise InvalidInput(f"truth.json: no share for {unknown[0]} on {date}", field="slot")
        return self.buy_odds * np.array([shares[slot] for slot in slots])

    def weights(self, date: dt.date, slots: Sequence[str], prices: FloatArray) -> FloatArray:
        """v_ds at `prices`: one row of prices per slot (slots x anything)."""
        base = self.venue.prices.base
        appeal = self.slot_appeal(date, slots)
        return appeal[:, None] * np.exp(-self.price_sensitivity * (prices - base))

    def members_mean(self, date: dt.date) -> float:
        return self.members_weekend if date.weekday() >= 5 else self.members_weekday


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror}", field="world") from None


def load_world(directory: str | Path) -> WorldTruth:
    """Read venue.toml, calendar.csv and truth.json written by `yieldgate demo-data`."""
    root = Path(directory)
    if not root.is_dir():
        raise InvalidInput(f"{root}: not a directory (expected a demo-data world)", field="world")
    venue = parse_venue_toml(_read(root / "venue.toml"), source=str(root / "venue.toml"))
    calendar = load_calendar(root / "calendar.csv")
    source = root / "truth.json"
    try:
        truth = json.loads(_read(source))
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{source}: not valid JSON: {exc}", field="world") from None
    try:
        outside = float(truth["outside_share_at_base"])
        return WorldTruth(
            venue=venue,
            calendar=calendar,
            trend_origin=dt.date.fromisoformat(truth["trend_origin"]),
            intercept=float(truth["intercept"]),
            effects={str(k): float(v) for k, v in truth["effects"].items()},
            price_sensitivity=float(truth["price_sensitivity"]),
            buy_odds=(1 - outside) / outside,
            dispersion=float(truth["dispersion"]),
            slot_shares={
                str(kind): {str(s): float(q) for s, q in shares.items()}
                for kind, shares in truth["slot_shares"].items()
            },
        )
    except (KeyError, TypeError, ValueError, AttributeError, ZeroDivisionError) as exc:
        raise InvalidInput(f"{source}: not a demo world's truth ({exc!r})", field="world") from None


def flat_plan(plan: Plan, price: float) -> Plan:
    """The plan's dates and slots, every slot at one price for all of its capacity."""
    days = [
        PlanDay(
            date=day.date,
            slots=[
                PlanSlot(
                    slot=s.slot, capacity=s.capacity, steps=[Step(price=price, units=s.capacity)]
                )
                for s in day.slots
            ],
        )
        for day in plan.days
    ]
    return Plan(venue=plan.venue, version=f"flat-{price:g}", currency=plan.currency, days=days)


def flat_prices(venue: Venue) -> list[float]:
    """The ladder prices a plan may use: within floor and ceiling."""
    low, high = venue.prices.floor_or_lowest, venue.prices.ceiling_or_highest
    return [p for p in venue.prices.ladder if low - 1e-9 <= p <= high + 1e-9]


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
class Comparison:
    simulation: Simulation
    plan: PolicyResult
    flats: tuple[PolicyResult, ...]
    best_flat: PolicyResult

    @property
    def uplift(self) -> float:
        """Mean revenue of the plan over the best flat price's, minus one."""
        return self.plan.mean("revenue") / self.best_flat.mean("revenue") - 1.0

    @property
    def uplift_stderr(self) -> float:
        """Standard error of the uplift from the paired per-run differences."""
        runs = self.simulation.runs
        if runs < 2:
            return float("nan")
        difference = self.plan.revenue - self.best_flat.revenue
        return float(difference.std(ddof=1) / math.sqrt(runs)) / self.best_flat.mean("revenue")


@dataclass(frozen=True)
class _Tables:
    """Per policy, date, slot and sales position: the adult price (cents), each segment's
    price (cents) and the true MNL weight (0 once the slot is full)."""

    weights: FloatArray  # P x D x S x (C + 1)
    segment_cents: IntArray  # P x D x S x (C + 1) x G
    capacity: IntArray  # P x D x S (0 for padding)


def _tables(
    truth: WorldTruth, plans: Sequence[Plan], dates: Sequence[dt.date], slots: Sequence[list[str]]
) -> _Tables:
    venue = truth.venue
    segments = list(venue.segments)
    width = max(len(s) for s in slots)
    positions = max(venue.capacity_of(slot) for day in slots for slot in day) + 1
    shape = (len(plans), len(dates), width)
    weights = np.zeros((*shape, positions))
    cents = np.zeros((*shape, positions, len(segments)), dtype=np.int64)
    capacity = np.zeros(shape, dtype=np.int64)
    for p, plan in enumerate(plans):
        compiled = compile_plan(plan, venue, plan.version or "simulated")
        for d, date in enumerate(dates):
            day = compiled.days[date]
            adult = np.zeros((width, positions))
            for s, slot in enumerate(slots[d]):
                pricing = day[slot]
                steps = [pricing.step_at(i) for i in range(positions)]
                capacity[p, d, s] = pricing.capacity
                adult[s] = [pricing.step_prices[k] / 100 for k in steps]
                cents[p, d, s] = np.array(
                    [[pricing.segment_prices[g][k] for g in segments] for k in steps]
                )
            v = np.zeros((width, positions))
            v[: len(slots[d])] = truth.weights(date, slots[d], adult[: len(slots[d])])
            full = np.arange(positions)[None, :] >= capacity[p, d][:, None]
            v[full] = 0.0
            weights[p, d] = v
    return _Tables(weights, cents, capacity)


def _arrivals(
    truth: WorldTruth,
    dates: Sequence[dt.date],
    slots: Sequence[list[str]],
    runs: int,
    rng: np.random.Generator,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Per lane (run x date): the arrival sequence (BUYER, a member's slot, or NO_EVENT after
    the last) and each arrival's segment; and the buyers per lane."""
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
    for lane, seq in enumerate(sequences):
        events[lane, : len(seq)] = seq
    segment = rng.choice(len(segments), size=events.shape, p=shares).astype(np.int64)
    return events, segment, buyers


def simulate(
    truth: WorldTruth,
    plans: Mapping[str, Plan],
    *,
    seed: int = 0,
    runs: int = 5,
) -> Simulation:
    """Every plan (all over the same dates and slots) against the same simulated customers."""
    if runs < 1:
        raise InvalidInput("runs must be at least 1", field="runs")
    if not plans:
        raise InvalidInput("nothing to simulate", field="plan")
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
    tables = _tables(truth, [plans[n] for n in names], dates, slots)
    rng = np.random.default_rng(seed)
    events, segment, buyers = _arrivals(truth, dates, slots, runs, rng)
    uniforms = rng.random(events.shape)
    sold, paid, revenue = _play(tables, events, segment, uniforms, len(dates))

    n_policies, n_lanes = len(names), events.shape[0]
    members = sold - paid  # P x L x S
    attendance = sold.astype(np.float64)
    day_of_lane = np.tile(np.arange(len(dates)), runs)
    occupancy = np.zeros((n_policies, n_lanes))
    overflow = np.zeros((n_policies, n_lanes))
    comfort = venue.comfort_occupancy
    for d, day_slots in enumerate(slots):
        lanes = day_of_lane == d
        inside = attendance[:, lanes][:, :, : len(day_slots)] @ _window_matrix(venue, day_slots).T
        occupancy[:, lanes] = inside.max(axis=2)
        if comfort is not None:
            overflow[:, lanes] = np.maximum(inside - comfort, 0.0).sum(axis=2)
    full = (sold >= tables.capacity[:, day_of_lane]) & (tables.capacity[:, day_of_lane] > 0)

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


def _window_matrix(venue: Venue, slots: Sequence[str]) -> FloatArray:
    """Entry times x slots: 1 where a visitor of the slot is inside at that entry time."""
    windows = windows_in_use(museum_stays([minutes_of(s) for s in slots], venue.dwell_minutes))
    matrix = np.zeros((len(windows), len(slots)))
    for w, window in enumerate(windows):
        matrix[w, list(window.users)] = 1.0
    return matrix


def _play(
    tables: _Tables,
    events: IntArray,
    segment: IntArray,
    uniforms: FloatArray,
    n_dates: int,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Advance every policy and lane one arrival at a time. Returns places taken and tickets
    bought (P x L x S) and revenue in cents (P x L)."""
    n_policies, _, width, positions = tables.weights.shape
    n_lanes, length = events.shape
    day_of_lane = np.tile(np.arange(n_dates), n_lanes // n_dates)
    p_index = np.arange(n_policies)[:, None, None]
    d_index = day_of_lane[None, :, None]
    s_index = np.arange(width)[None, None, :]
    pl_p, pl_l = np.meshgrid(np.arange(n_policies), np.arange(n_lanes), indexing="ij")
    pl_d = day_of_lane[pl_l]
    capacity = tables.capacity[:, day_of_lane]  # P x L x S
    sold = np.zeros((n_policies, n_lanes, width), dtype=np.int64)
    paid = np.zeros_like(sold)
    revenue = np.zeros((n_policies, n_lanes))
    last_position = positions - 1
    for i in range(length):
        kind = events[:, i]
        buyer = kind == BUYER
        if buyer.any():
            position = np.minimum(sold, last_position)
            v = tables.weights[p_index, d_index, s_index, position]
            cumulative = np.cumsum(v, axis=2)
            target = uniforms[None, :, i] * (1.0 + cumulative[:, :, -1])
            choice = (cumulative < target[:, :, None]).sum(axis=2)  # P x L; width: no purchase
            bought = (choice < width) & buyer[None, :]
            chosen = np.minimum(choice, width - 1)
            at = sold[pl_p, pl_l, chosen]
            price = tables.segment_cents[
                pl_p, pl_d, chosen, np.minimum(at, last_position), segment[None, :, i]
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
    return sold, paid, revenue


def compare_with_flat_prices(
    truth: WorldTruth, plan: Plan, *, seed: int = 0, runs: int = 5
) -> Comparison:
    """The plan against every flat ladder price, on the same simulated customers."""
    prices = flat_prices(truth.venue)
    policies: dict[str, Plan] = {"plan": plan}
    policies.update({f"flat {p:g}": flat_plan(plan, p) for p in prices})
    simulation = simulate(truth, policies, seed=seed, runs=runs)
    flats = tuple(r for r in simulation.results if r.name != "plan")
    best = max(flats, key=lambda r: r.mean("revenue"))
    return Comparison(simulation, simulation.result("plan"), flats, best)


def comparison_as_dict(comparison: Comparison) -> dict[str, Any]:
    """The figures as JSON-ready values (means over runs)."""
    figures = ("revenue", "paid", "attendance", "peak_occupancy", "comfort_overflow")
    simulation = comparison.simulation
    return {
        "dates": [str(simulation.dates[0]), str(simulation.dates[-1])],
        "days": len(simulation.dates),
        "runs": simulation.runs,
        "seed": simulation.seed,
        "currency": simulation.currency,
        "buyers": float(simulation.buyers.mean()),
        "policies": {
            r.name: {f: round(r.mean(f), 2) for f in (*figures, "sold_out_slots")}
            for r in simulation.results
        },
        "best_flat": comparison.best_flat.name,
        "uplift": round(comparison.uplift, 5),
        "uplift_stderr": round(comparison.uplift_stderr, 5),
    }


def truth_forecast(truth: WorldTruth, dates: Sequence[dt.date]) -> Forecast:
    """What a perfect forecaster would say: the world's own A_d, MNL weights at every ladder
    price and mean member visits. Planning from it separates forecast error from the rest."""
    venue = truth.venue
    prices = np.array(venue.prices.ladder, dtype=np.float64)
    days = []
    for date in dates:
        slots = list(entry_slots(venue, date))
        if not slots or date in truth.calendar.closed:
            continue
        weights = truth.weights(date, slots, np.broadcast_to(prices, (len(slots), len(prices))))
        days.append(
            ForecastDay(
                date=date,
                arrivals=truth.market_size(date),
                slots=tuple(
                    ForecastSlot(
                        slot=slot,
                        weights=tuple(float(w) for w in weights[s]),
                        members=truth.members_mean(date),
                    )
                    for s, slot in enumerate(slots)
                ),
            )
        )
    return Forecast(venue=venue.id, price_points=tuple(float(p) for p in prices), days=tuple(days))
