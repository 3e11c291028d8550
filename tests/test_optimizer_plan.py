"""From LP to plan: steps, capacity, bid prices, off-peak, re-optimisation, input checks, CLI."""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import itertools
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from api.cli_optimizer import add_commands
from optimizer.booking_curve import remaining_demand_share
from optimizer.day_problem import build_day_problem, mean_segment_factor, price_grid
from optimizer.forecast_io import load_forecast, parse_forecast, parse_sold_csv
from optimizer.lp import FairnessRule, build_sales_lp
from optimizer.run import OptimizerSettings, optimize
from optimizer.solve import solve_model
from optimizer.steps import slot_steps
from pricing.calendar import entry_slots
from pricing.errors import InvalidInput
from pricing.plan import first_selling_price, parse_plan, validate_plan
from pricing.venue import Venue, parse_venue_toml

ROOT = Path(__file__).resolve().parents[1]
VENUE_FILE = ROOT / "examples" / "venues" / "city-museum.toml"
PEAK, QUIET = dt.date(2027, 1, 5), dt.date(2027, 1, 6)  # a Tuesday and a Wednesday


@pytest.fixture(scope="module")
def venue() -> Venue:
    return parse_venue_toml(VENUE_FILE.read_text(), source=str(VENUE_FILE))


def forecast_data(venue: Venue, arrivals: list[float], start: dt.date = PEAK) -> dict[str, Any]:
    """MNL weights exp(a_s - 0.1 p) with appeal peaking at 12:30; one busy, one quiet day."""
    ladder = venue.prices.ladder
    days = []
    for offset, market in enumerate(arrivals):
        date = start + dt.timedelta(days=offset)
        slots = []
        for slot in entry_slots(venue, date):
            hour = int(slot[:2]) + int(slot[3:]) / 60
            appeal = 1.0 - 0.25 * (hour - 12.5) ** 2
            weights = [round(math.exp(appeal - 0.1 * p), 6) for p in ladder]
            slots.append({"slot": slot, "weights": weights, "expected": 50.0})
        days.append({"date": date.isoformat(), "arrivals": market, "slots": slots})
    return {"venue": venue.id, "model": "mnl", "price_points": ladder, "days": days}


@pytest.fixture(scope="module")
def solved(venue: Venue) -> Any:
    forecast = parse_forecast(forecast_data(venue, [6000, 1500]))
    result = optimize(venue, forecast)
    assert result.plan is not None, [f.reason() for f in result.failures]
    return result


# --- steps ------------------------------------------------------------------------------------


def test_a_single_price_is_one_step_with_all_remaining_capacity() -> None:
    steps = slot_steps(
        [12, 14, 16], [0, 37.4, 0], remaining=120, sold=0, capacity=120, fallback_price=16
    )
    assert [(s.price, s.units) for s in steps] == [(14, 120)]


def test_a_mix_of_two_prices_sells_the_cheaper_share_first() -> None:
    steps = slot_steps(
        [12, 14, 16], [0, 40.6, 52.2], remaining=120, sold=0, capacity=120, fallback_price=16
    )
    assert [(s.price, s.units) for s in steps] == [(14, 41), (16, 79)]


def test_tickets_on_hand_hold_the_first_positions() -> None:
    steps = slot_steps(
        [12, 14, 16], [10.2, 0, 9.8], remaining=20, sold=100, capacity=120, fallback_price=16
    )
    assert [(s.price, s.units) for s in steps] == [(12, 110), (16, 10)]


def test_a_slot_that_sells_nothing_is_at_the_highest_price() -> None:
    steps = slot_steps(
        [12, 14, 16], [0, 0, 0], remaining=0, sold=120, capacity=120, fallback_price=16
    )
    assert [(s.price, s.units) for s in steps] == [(16, 120)]


def test_rounded_units_never_exceed_remaining_capacity_and_ascend() -> None:
    rng = np.random.default_rng(5)
    prices = [12.0, 14.0, 16.0, 18.0, 20.0]
    for _ in range(500):
        remaining = int(rng.integers(0, 50))
        sales = rng.uniform(0, 1, 5) * (rng.uniform(0, 1, 5) < 0.5) * remaining
        sold = int(rng.integers(0, 30))
        steps = slot_steps(
            prices,
            sales.tolist(),
            remaining=remaining,
            sold=sold,
            capacity=remaining + sold,
            fallback_price=20,
        )
        assert sum(s.units for s in steps) == remaining + sold
        assert all(a.price < b.price for a, b in itertools.pairwise(steps))
        assert all(s.units >= 0 for s in steps)


def test_fairness_offers_its_share_of_capacity_at_the_fair_price() -> None:
    rule = FairnessRule(share=0.25, max_price=14)
    steps = slot_steps(
        [12, 14, 16, 18],
        [0, 0, 50, 30],
        remaining=100,
        sold=0,
        capacity=100,
        fallback_price=18,
        fairness=rule,
    )
    assert [(s.price, s.units) for s in steps] == [(14, 25), (16, 25), (18, 50)]


# --- plan from the LP ---------------------------------------------------------------------------


def test_plan_passes_the_venue_rules_with_integer_units_within_capacity(
    solved: Any, venue: Venue
) -> None:
    plan = solved.plan
    validate_plan(plan, venue)
    assert [day.date for day in plan.days] == [PEAK, QUIET]
    for day in plan.days:
        assert [s.slot for s in day.slots] == list(entry_slots(venue, day.date))
        for slot in day.slots:
            assert slot.capacity == venue.capacity_of(slot.slot)
            assert sum(step.units for step in slot.steps) <= slot.capacity
            assert all(a.price < b.price for a, b in itertools.pairwise(slot.steps))
            assert slot.expected_sales is not None and slot.expected_sales <= slot.capacity + 1e-6
    assert parse_plan(json.loads(plan.model_dump_json())) == plan


def test_bid_prices_are_the_capacity_duals(solved: Any, venue: Venue) -> None:
    forecast = parse_forecast(forecast_data(venue, [6000, 1500]))
    day = build_day_problem(
        venue, forecast.days[0], price_grid(venue, forecast, forecast.days[0].date)
    )
    sales_model = build_sales_lp(day)
    outcome = solve_model(sales_model.model, "cbc")
    expected = [sum(outcome.duals[row] for row in rows) for rows in sales_model.capacity_rows]
    bids = [slot.bid_price for slot in solved.plan.days[0].slots]
    assert bids == pytest.approx(expected, abs=1e-3)
    # sold-out peak slots carry a bid price; the quiet day's half-empty morning does not
    assert bids[0] > 5
    assert solved.plan.days[1].slots[0].bid_price == pytest.approx(0, abs=1e-6)


def test_off_peak_slots_open_below_base(solved: Any, venue: Venue) -> None:
    peak = solved.plan.days[0]
    off_peak = [s.slot for s in peak.slots if first_selling_price(s.steps) < venue.prices.base]
    assert off_peak == ["16:00", "16:30", "17:00", "17:30"]
    assert solved.kpis[0].off_peak_share == pytest.approx(4 / 16)


def test_day_kpis_add_up(solved: Any, venue: Venue) -> None:
    peak, quiet = solved.kpis
    assert peak.attendance == pytest.approx(
        sum(s.expected_sales for s in solved.plan.days[0].slots), abs=0.1
    )
    assert peak.revenue == pytest.approx(solved.solutions[0].revenue, abs=0.01)
    assert peak.peak_occupancy <= venue.building_capacity
    assert peak.comfort_overflow > 0 and quiet.comfort_overflow == pytest.approx(0, abs=0.01)
    assert 0.6 * 12 <= peak.average_price <= 26


def test_revenue_per_sale_uses_the_segment_mix(venue: Venue) -> None:
    # 0.6 adult x 1.0 + 0.2 senior x 0.8 + 0.1 student x 0.6 + 0.1 child x 0 = 0.82
    assert mean_segment_factor(venue) == pytest.approx(0.82)


def test_parallel_and_sequential_plans_agree(venue: Venue) -> None:
    forecast = parse_forecast(forecast_data(venue, [6000, 1500, 4000, 2500]))
    stamp = dt.datetime(2027, 1, 4, 2, tzinfo=dt.UTC)
    sequential = optimize(venue, forecast, stamp=stamp)
    parallel = optimize(
        venue,
        forecast,
        stamp=stamp,
        settings=OptimizerSettings(workers=2, parallel_min_dates=1),
    )
    assert parallel.plan == sequential.plan


# --- re-optimisation with bookings on hand -------------------------------------------------------


def test_sold_tickets_reduce_capacity_and_demand(venue: Venue, solved: Any) -> None:
    forecast = parse_forecast(forecast_data(venue, [6000, 1500]))
    sold = {(PEAK, "12:00"): 100, (PEAK, "16:30"): 30}
    as_of = PEAK - dt.timedelta(days=3)
    grid = price_grid(venue, forecast, forecast.days[0].date)
    day = build_day_problem(venue, forecast.days[0], grid, sold=sold, as_of=as_of)
    assert day.market_size == pytest.approx(6000 * (1 - math.exp(-4 / 7)))
    assert day.slot_capacity[day.slots.index("12:00")] == 20
    result = optimize(venue, forecast, sold=sold, as_of=as_of)
    assert result.plan is not None
    slots = {s.slot: s for s in result.plan.days[0].slots}
    noon = slots["12:00"]
    assert sum(step.units for step in noon.steps) == 120
    assert noon.steps[0].units >= 100
    assert 100 <= (noon.expected_sales or 0) <= 120
    assert result.kpis[0].revenue < solved.kpis[0].revenue


def test_members_who_have_booked_are_not_reserved_twice(venue: Venue) -> None:
    data = forecast_data(venue, [6000])
    for slot in data["days"][0]["slots"]:
        slot["members"] = 10.0
    day = parse_forecast(data).days[0]
    grid = price_grid(venue, parse_forecast(data), PEAK)
    noon = sorted(s.slot for s in day.slots).index("12:00")

    season = build_day_problem(venue, day, grid)
    assert season.slot_capacity[noon] == 120 - 10

    # Three days out, 1 - exp(-4/7) of the day's members are still to come; the 100 places
    # sold hold the members who have booked already.
    as_of = PEAK - dt.timedelta(days=3)
    later = build_day_problem(venue, day, grid, sold={(PEAK, "12:00"): 100}, as_of=as_of)
    to_come = 10.0 * (1 - math.exp(-4 / 7))
    assert later.slot_capacity[noon] == pytest.approx(120 - 100 - to_come)
    assert later.members is not None
    assert later.members[noon] == pytest.approx(to_come)

    # On the visit day itself, few members are still to come.
    eve = build_day_problem(venue, day, grid, sold={(PEAK, "12:00"): 100}, as_of=PEAK)
    assert eve.slot_capacity[noon] == pytest.approx(20 - 10.0 * (1 - math.exp(-1 / 7)))


def test_booking_curve_default() -> None:
    assert remaining_demand_share(0) == pytest.approx(1 - math.exp(-1 / 7))
    assert remaining_demand_share(6) == pytest.approx(1 - math.exp(-1))
    assert remaining_demand_share(-1) == 0
    assert remaining_demand_share(60) > 0.99


def test_sold_csv_is_read_and_checked() -> None:
    counts = parse_sold_csv("date,slot,sold\n2027-01-05,12:00,100\n2027-01-05,16:30,30\n")
    assert counts == {(PEAK, "12:00"): 100, (PEAK, "16:30"): 30}
    with pytest.raises(InvalidInput, match=r"sold line 2: sold: '-3' is not a whole number"):
        parse_sold_csv("date,slot,sold\n2027-01-05,12:00,-3\n")
    with pytest.raises(InvalidInput, match="missing column"):
        parse_sold_csv("date,slot\n")


def test_a_sold_slot_the_venue_does_not_have_is_refused(venue: Venue) -> None:
    forecast = parse_forecast(forecast_data(venue, [6000]))
    with pytest.raises(InvalidInput, match="09:00 is not an entry slot on 2027-01-05"):
        optimize(venue, forecast, sold={(PEAK, "09:00"): 3})


# --- forecast JSON validation ------------------------------------------------------------------


def broken(venue: Venue, path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(forecast_data(venue, [6000, 1500]))
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "field", "message"),
    [
        (
            ["days", 1, "slots", 2, "weights"],
            [0.1] * 7,
            "days.1.slots.2.weights",
            "7 values for 8 price points",
        ),
        (["days", 0, "arrivals"], KeyError, "days.0.arrivals", "missing"),
        (["days", 0, "arrivals"], -5, "days.0.arrivals", "not a finite number"),
        (
            ["days", 0, "slots", 0, "weights", 3],
            "x",
            "days.0.slots.0.weights.3",
            "expected a number",
        ),
        (["days", 1, "date"], "2027-01-05", "days.1.date", "appears twice"),
        (["days", 0, "slots", 1, "slot"], "10:0", "days.0.slots.1.slot", "not an entry time"),
        (["price_points", 2], 13, "price_points.2", "strictly ascending"),
        (["days"], {}, "days", "expected a list"),
    ],
)
def test_forecast_errors_name_the_field(
    venue: Venue, path: list[Any], value: Any, field: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as raised:
        parse_forecast(broken(venue, path, value))
    assert raised.value.field == field
    assert raised.value.detail.startswith(f"{field}: ")


def test_forecast_must_fit_the_venue(venue: Venue) -> None:
    wrong_slot = parse_forecast(broken(venue, ["days", 0, "slots", 0, "slot"], "09:00"))
    with pytest.raises(InvalidInput) as raised:
        optimize(venue, wrong_slot)
    assert raised.value.field == "days.0.slots.0.slot"
    with pytest.raises(InvalidInput, match="the forecast is for 'zoo'"):
        optimize(venue, parse_forecast(broken(venue, ["venue"], "zoo")))
    with pytest.raises(InvalidInput, match="not valid JSON"):
        load_forecast("{", source="f.json")


def test_closed_days_are_skipped(venue: Venue) -> None:
    monday = dt.date(2027, 1, 4)  # the museum is closed on Mondays
    result = optimize(venue, parse_forecast(forecast_data(venue, [3000, 3000], start=monday)))
    assert result.closed_dates == [monday]
    assert result.plan is not None and [d.date for d in result.plan.days] == [PEAK]


# --- the command line ------------------------------------------------------------------------


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="yieldgate")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


def test_cli_optimize_writes_a_plan_the_venue_accepts(
    tmp_path: Path, venue: Venue, capsys: pytest.CaptureFixture[str]
) -> None:
    forecast = tmp_path / "forecast.json"
    forecast.write_text(json.dumps(forecast_data(venue, [6000, 1500])))
    sold = tmp_path / "sold.csv"
    sold.write_text("date,slot,sold\n2027-01-05,12:00,100\n")
    out = tmp_path / "plan.json"
    code = run_cli(
        [
            "optimize",
            "--venue",
            str(VENUE_FILE),
            "--forecast",
            str(forecast),
            "--sold",
            str(sold),
            "--as-of",
            "2027-01-02",
            "--solver",
            "highs",
            "--time-limit",
            "10",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr()
    assert code == 0, printed.err
    plan = parse_plan(json.loads(out.read_text()))
    validate_plan(plan, venue)
    assert len(plan.days) == 2
    assert "wrote plan" in printed.out and "optimising 2 date(s) with highs" in printed.out

    late = ["optimize", "--venue", str(VENUE_FILE), "--forecast", str(forecast), "--sold"]
    late += [str(sold), "--as-of", "2027-01-06", "--out", str(tmp_path / "late.json")]
    assert run_cli(late) == 2
    assert "--as-of 2027-01-06 is after the forecast's 2027-01-05" in capsys.readouterr().err


def test_cli_bad_input_exits_non_zero_with_one_line(
    tmp_path: Path, venue: Venue, capsys: pytest.CaptureFixture[str]
) -> None:
    forecast = tmp_path / "forecast.json"
    forecast.write_text(json.dumps(broken(venue, ["days", 1, "slots", 2, "weights"], [1.0] * 7)))
    out = tmp_path / "plan.json"
    code = run_cli(
        ["optimize", "--venue", str(VENUE_FILE), "--forecast", str(forecast), "--out", str(out)]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == [
        f"yieldgate: {forecast}: days.1.slots.2.weights: 7 values for 8 price points"
    ]
    assert not out.exists()


def test_cli_infeasible_exits_non_zero_naming_the_constraint(
    tmp_path: Path, venue: Venue, capsys: pytest.CaptureFixture[str]
) -> None:
    strict_venue = tmp_path / "venue.toml"
    strict_venue.write_text(
        VENUE_FILE.read_text().replace(
            'kind = "balanced"', 'kind = "attendance"\nmin_revenue = 10000000'
        )
    )
    forecast = tmp_path / "forecast.json"
    forecast.write_text(json.dumps(forecast_data(venue, [6000])))
    code = run_cli(
        [
            "optimize",
            "--venue",
            str(strict_venue),
            "--forecast",
            str(forecast),
            "--out",
            str(tmp_path / "plan.json"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().splitlines() == [
        "yieldgate: 2027-01-05: infeasible: min_revenue cannot hold"
    ]


def test_cli_registration_loads_no_numerical_stack() -> None:
    code = "import sys, api.cli_optimizer; print(' '.join(sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert not {"numpy", "pulp", "scipy", "optimizer"} & set(loaded)


def test_a_weekday_ladder_is_all_the_optimizer_may_use_that_day(venue: Venue) -> None:
    prices = venue.prices.model_copy(update={"weekday_ladders": {"wed": [22, 24, 26]}})
    wednesday_dear = venue.model_copy(update={"prices": prices})
    forecast = parse_forecast(forecast_data(wednesday_dear, [6000, 1500]))  # Tuesday, Wednesday
    result = optimize(wednesday_dear, forecast)
    assert result.plan is not None
    validate_plan(result.plan, wednesday_dear)
    tuesday, wednesday = result.plan.days
    assert {step.price for s in wednesday.slots for step in s.steps} <= {22, 24, 26}
    assert min(step.price for s in tuesday.slots for step in s.steps) < 22  # quiet slots go low
