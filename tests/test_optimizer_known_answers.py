"""The optimizer against answers worked out by hand (derivations beside each test)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pulp
import pytest
from scipy.special import lambertw

from optimizer.day_solve import DaySolution, solve_day
from optimizer.lp import DayProblem, Objective
from optimizer.model import ModelBuilder
from optimizer.occupancy import (
    Stay,
    add_window_capacity_rows,
    museum_stays,
    windows_in_use,
)
from optimizer.outcome import SolveStatus
from optimizer.solve import SOLVERS, SolverName, _status_of, solve_model, solve_or_explain

DATE = dt.date(2027, 1, 5)

# ---------------------------------------------------------------------------------------------
# (1) The three-night hotel: an independent-demand LP on the same occupancy code.
# Products (name, nights covered [start, end), price, demand). Nights 1-3, 150 rooms each.
HOTEL = [
    ("nights_1_3", Stay(1, 4), 900.0, 60.0),
    ("nights_1_2", Stay(1, 3), 300.0, 60.0),
    ("nights_2_3", Stay(2, 4), 400.0, 50.0),
    ("night_3", Stay(3, 4), 200.0, 40.0),
    ("night_1", Stay(1, 2), 200.0, 80.0),
]


def hotel_model(elastic: bool = False, *, min_single_nights: float | None = None) -> ModelBuilder:
    model = ModelBuilder("hotel", "maximise", elastic=elastic)
    sales = [model.variable(f"sell_{name}", 0.0, demand) for name, _, _, demand in HOTEL]
    windows = windows_in_use([stay for _, stay, _, _ in HOTEL])
    add_window_capacity_rows(
        model,
        "rooms",
        [[(x, 1.0)] for x in sales],
        windows,
        [150.0] * len(windows),
        [f"night_{w.start}" for w in windows],
    )
    if min_single_nights is not None:
        single = [(sales[3], 1.0), (sales[4], 1.0)]
        model.at_least("single_nights", single, min_single_nights)
    model.objective([(x, price) for x, (_, _, price, _) in zip(sales, HOTEL, strict=True)])
    return model


def test_hotel_windows_hold_the_products_that_cover_them() -> None:
    windows = windows_in_use([stay for _, stay, _, _ in HOTEL])
    assert [(w.start, w.users) for w in windows] == [(1, (0, 1, 4)), (2, (0, 1, 2)), (3, (0, 2, 3))]


@pytest.mark.parametrize("solver", SOLVERS)
def test_hotel_revenue_allocation_and_duals(solver: SolverName) -> None:
    # Duals: night_1 is priced by the partly sold single night (200), nights_1_2 is partly sold
    # too, so night_1 + night_2 = 300 and night_2 = 100; night_3 only has to lie in [0, 200].
    outcome = solve_model(hotel_model(), solver)
    assert outcome.status is SolveStatus.OPTIMAL
    assert outcome.objective == pytest.approx(104_000)
    allocation = [outcome.values[f"sell_{name}"] for name, *_ in HOTEL]
    assert allocation == pytest.approx([60, 40, 50, 40, 50])
    assert outcome.duals["rooms_night_1"] == pytest.approx(200)
    assert outcome.duals["rooms_night_2"] == pytest.approx(100)
    assert -1e-6 <= outcome.duals["rooms_night_3"] <= 200 + 1e-6


@pytest.mark.parametrize("solver", SOLVERS)
def test_hotel_with_a_minimum_of_single_nights(solver: SolverName) -> None:
    # 10 more single nights than the 90 of the optimum: night_1 (200) displaces nights_1_2 (300).
    outcome = solve_model(hotel_model(min_single_nights=100), solver)
    assert outcome.objective == pytest.approx(103_000)
    assert outcome.values["sell_night_1"] + outcome.values["sell_night_3"] == pytest.approx(100)


def test_an_impossible_minimum_is_named_not_raised() -> None:
    # At most 80 + 40 single nights exist.
    outcome = solve_or_explain(lambda elastic: hotel_model(elastic, min_single_nights=300), "cbc")
    assert outcome.status is SolveStatus.INFEASIBLE
    assert outcome.infeasible_constraints == ("single_nights",)
    assert outcome.reason() == "infeasible: single_nights cannot hold"


# ---------------------------------------------------------------------------------------------
# Sales-based LPs of one date, built directly.


def one_slot_day(
    market: float,
    prices: np.ndarray,
    weights: np.ndarray,
    capacity: float,
    objective: Objective | None = None,
) -> DayProblem:
    return DayProblem(
        date=DATE,
        slots=("10:00",),
        prices=prices,
        revenue_per_sale=prices.copy(),
        weights=weights[None, :],
        market_size=market,
        slot_capacity=np.array([capacity]),
        windows=windows_in_use(museum_stays([600], 120)),
        building_capacity=None,
        comfort_capacity=None,
        objective=objective or Objective(),
    )


def linear_demand_day(market: float) -> DayProblem:
    # q = A - 5p as MNL weights v = q / (A - q): at one price, sales A v / (1 + v) = q exactly.
    # Prices with q <= 0 get weight 0: nobody buys there.
    prices = np.arange(1.0, 60.0)
    q = market - 5 * prices
    weights = np.where(q > 0, q / np.maximum(market - q, 1e-9), 0.0)
    return one_slot_day(market, prices, weights, capacity=100)


def chosen_prices(day: DayProblem, solution: DaySolution) -> dict[float, float]:
    return {
        float(day.prices[k]): float(solution.sales[0, k])
        for k in np.flatnonzero(solution.sales[0] > 1e-6)
    }


@pytest.mark.parametrize("solver", SOLVERS)
def test_peak_and_off_peak_days_with_linear_demand(solver: SolverName) -> None:
    # Revenue p (A - 5p). Peak, A = 300: unconstrained p = 30 sells 150 > 100, so capacity binds
    # at q = 100, p = 40, revenue 4,000. The LP's revenue in sales is the concave hull of the
    # points (q_k, p_k q_k); its slopes either side of q = 100 are (4000 - 3895) / 5 = 21 and
    # (4095 - 4000) / 5 = 19, so the capacity dual is any value in [19, 21].
    # Off-peak, A = 120: p = A / 10 = 12 sells 60 < 100, revenue 720, capacity dual 0.
    peak, off_peak = linear_demand_day(300), linear_demand_day(120)
    peak_solution, off_solution = solve_day(peak, solver), solve_day(off_peak, solver)
    assert chosen_prices(peak, peak_solution) == pytest.approx({40.0: 100.0})
    assert chosen_prices(off_peak, off_solution) == pytest.approx({12.0: 60.0})
    assert peak_solution.bid_prices is not None and off_solution.bid_prices is not None
    assert 19 - 1e-6 <= peak_solution.bid_prices[0] <= 21 + 1e-6
    assert off_solution.bid_prices[0] == pytest.approx(0, abs=1e-6)
    assert peak_solution.revenue + off_solution.revenue == pytest.approx(4_720)


def test_single_mnl_slot_prices_at_the_lambert_w_optimum() -> None:
    # Revenue A p v / (1 + v) with v = exp(a - b p) peaks at p* = (1 + W(e^(a-1))) / b.
    a, b, step = 3.0, 0.1, 0.1
    prices = np.round(np.arange(1.0, 100.0, step), 10)
    day = one_slot_day(1_000.0, prices, np.exp(a - b * prices), capacity=1e9)
    solution = solve_day(day, "highs")
    best = float(((1 + lambertw(np.exp(a - 1))) / b).real)
    chosen = chosen_prices(day, solution)
    assert len(chosen) == 1  # no capacity: one price, never a mix
    assert abs(next(iter(chosen)) - best) <= step + 1e-9
    v = np.exp(a - b * best)
    assert solution.revenue == pytest.approx(1_000 * best * v / (1 + v), rel=1e-4)


# ---------------------------------------------------------------------------------------------
# (4) Building occupancy binds, slot capacities do not bind everywhere.


def occupancy_day(objective: Objective | None = None) -> DayProblem:
    # Entries 10:00, 10:30, 11:00 with a 60-minute dwell: inside at 10:00 {0}, 10:30 {0, 1},
    # 11:00 {1, 2}. One price (10), demand far above capacity: slots 100, building 120.
    # Most sales: x0 + x1 <= 120 and x1 + x2 <= 120 with x0, x2 <= 100, so x = (100, 20, 100).
    entries = [600, 630, 660]
    return DayProblem(
        date=DATE,
        slots=("10:00", "10:30", "11:00"),
        prices=np.array([10.0]),
        revenue_per_sale=np.array([10.0]),
        weights=np.full((3, 1), 100.0),
        market_size=1_000.0,
        slot_capacity=np.full(3, 100.0),
        windows=windows_in_use(museum_stays(entries, 60)),
        building_capacity=np.full(3, 120.0),
        comfort_capacity=None,
        objective=objective or Objective(),
    )


@pytest.mark.parametrize("solver", SOLVERS)
def test_building_occupancy_binds(solver: SolverName) -> None:
    # Dual: min 100 (c0 + c2) + 120 (b1 + b2) with c0 + b1 >= 10, c2 + b2 >= 10, b1 + b2 >= 10
    # costs 2000 + 20 (b1 + b2), so b1 + b2 = 10 exactly (the split is not unique): the middle
    # slot's only cost is the building, and every slot's bid price is the full price 10.
    day = occupancy_day()
    solution = solve_day(day, solver)
    assert solution.outcome.is_optimal
    assert solution.sales[:, 0] == pytest.approx([100, 20, 100])
    assert solution.revenue == pytest.approx(2_200)
    assert solution.bid_prices == pytest.approx([10, 10, 10])


# ---------------------------------------------------------------------------------------------
# (5) Infeasible inputs come back typed, naming the constraint.


@pytest.mark.parametrize("solver", SOLVERS)
def test_unreachable_min_revenue_is_a_typed_infeasible_outcome(solver: SolverName) -> None:
    day = occupancy_day(Objective(kind="attendance", min_revenue=1_000_000))
    solution = solve_day(day, solver)
    assert solution.outcome.status is SolveStatus.INFEASIBLE
    assert solution.outcome.infeasible_constraints == ("min_revenue",)
    assert not solution.sales.any()


def test_attendance_with_a_reachable_min_revenue_sells_the_most_tickets() -> None:
    day = occupancy_day(Objective(kind="attendance", min_revenue=1_000))
    solution = solve_day(day, "cbc")
    assert solution.outcome.objective == pytest.approx(220)
    assert solution.bid_prices is None  # duals are in visitors, not money


def test_stopped_solves_map_to_time_limit() -> None:
    stopped = SimpleNamespace(
        status=pulp.LpStatusOptimal, sol_status=pulp.LpSolutionIntegerFeasible
    )
    not_solved = SimpleNamespace(status=pulp.LpStatusNotSolved, sol_status=0)
    assert _status_of(stopped) is SolveStatus.TIME_LIMIT
    assert _status_of(not_solved) is SolveStatus.TIME_LIMIT


# ---------------------------------------------------------------------------------------------
# (6) CBC and HiGHS agree.


def crowded_day() -> DayProblem:
    # Eight half-hourly slots, two-hour dwell, a ladder of 8 prices, a crowding penalty: every
    # kind of row the museum LP has.
    prices = np.arange(12.0, 27.0, 2.0)
    appeal = np.array([0.5, 1.0, 1.5, 2.0, 2.0, 1.5, 1.0, 0.5])
    entries = [600 + 30 * s for s in range(8)]
    windows = windows_in_use(museum_stays(entries, 120))
    return DayProblem(
        date=DATE,
        slots=tuple(f"{t // 60:02d}:{t % 60:02d}" for t in entries),
        prices=prices,
        revenue_per_sale=prices * 0.82,
        weights=np.exp(appeal[:, None] - 0.1 * prices[None, :]),
        market_size=2_500.0,
        slot_capacity=np.full(8, 120.0),
        windows=windows,
        building_capacity=np.full(len(windows), 400.0),
        comfort_capacity=np.full(len(windows), 300.0),
        objective=Objective(kind="balanced", crowding_penalty=2.0),
    )


def test_cbc_and_highs_agree_on_the_objective() -> None:
    day = crowded_day()
    cbc, highs = solve_day(day, "cbc"), solve_day(day, "highs")
    assert cbc.outcome.is_optimal and highs.outcome.is_optimal
    assert cbc.outcome.objective == pytest.approx(highs.outcome.objective, rel=1e-6)
    assert cbc.revenue == pytest.approx(highs.revenue, rel=1e-4)
    hotel = [solve_model(hotel_model(), s).objective for s in SOLVERS]
    assert hotel[0] == pytest.approx(hotel[1])
