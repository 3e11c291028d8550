"""The venue file's fairness rule ([prices.fairness]) binds in the plan; CLI flags replace it."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pytest
from test_optimizer_plan import PEAK, VENUE_FILE, forecast_data, run_cli

from api.scenario_checks import scenario_venue
from api.scenario_demand import DemandDay, ScenarioDemand, SlotDemand
from api.scenario_plan import plan_scenario_day
from api.scenario_request import Overrides
from optimizer.forecast_io import parse_forecast
from optimizer.lp import FairnessRule
from optimizer.run import OptimizerSettings, fairness_of, optimize
from pricing.errors import InvalidInput
from pricing.plan import Plan, parse_plan, validate_plan
from pricing.venue import Venue, parse_venue_toml

FAIR_TABLE = "\n[prices.fairness]\nshare = 0.2\nmax_price = 14\n"


def venue_text(table: str = "") -> str:
    return VENUE_FILE.read_text(encoding="utf-8") + table


@pytest.fixture(scope="module")
def plain() -> Venue:
    return parse_venue_toml(venue_text(), source="city-museum.toml")


@pytest.fixture(scope="module")
def fair() -> Venue:
    return parse_venue_toml(venue_text(FAIR_TABLE), source="city-museum.toml")


def tickets_at_or_below(plan: Plan, price: float) -> dict[str, tuple[int, int]]:
    """Per slot of the plan's one date: (units at or below `price`, capacity)."""
    (day,) = plan.days
    return {
        slot.slot: (sum(s.units for s in slot.steps if s.price <= price), slot.capacity)
        for slot in day.slots
    }


def busy_plan(venue: Venue, settings: OptimizerSettings | None = None) -> Plan:
    forecast = parse_forecast(forecast_data(venue, [6000]))
    result = optimize(venue, forecast, settings=settings or OptimizerSettings())
    assert result.plan is not None, [f.reason() for f in result.failures]
    validate_plan(result.plan, venue)
    return result.plan


def test_the_venue_rule_becomes_the_lp_rule(plain: Venue, fair: Venue) -> None:
    assert fairness_of(plain) is None
    assert fairness_of(fair) == FairnessRule(share=0.2, max_price=14)


def test_the_venue_files_rule_binds_in_every_slot(plain: Venue, fair: Venue) -> None:
    # Without the rule, the busy slots of the peak day sell nothing at 14 or below.
    unconstrained = tickets_at_or_below(busy_plan(plain), 14)
    assert sum(1 for low, _ in unconstrained.values() if low == 0) >= 10

    with_rule = tickets_at_or_below(busy_plan(fair), 14)
    for slot, (low, capacity) in with_rule.items():
        assert low >= math.ceil(0.2 * capacity), slot


def test_settings_from_the_command_line_replace_the_venue_rule(fair: Venue) -> None:
    flags = OptimizerSettings(fairness=FairnessRule(share=0.1, max_price=12))
    plan = busy_plan(fair, flags)
    for slot, (low, capacity) in tickets_at_or_below(plan, 12).items():
        assert low >= math.ceil(0.1 * capacity), slot
    # The venue's 20% at 14 or below no longer holds in the busy morning slots.
    assert tickets_at_or_below(plan, 14)["10:00"][0] < math.ceil(0.2 * 120)


@pytest.mark.parametrize(
    ("flags", "price", "share"),
    [([], 14, 0.2), (["--fair-share", "0.1", "--fair-price", "12"], 12, 0.1)],
)
def test_cli_optimize_uses_the_venue_rule_unless_flags_are_given(
    tmp_path: Path,
    fair: Venue,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    price: float,
    share: float,
) -> None:
    venue_file = tmp_path / "venue.toml"
    venue_file.write_text(venue_text(FAIR_TABLE), encoding="utf-8")
    forecast = tmp_path / "forecast.json"
    forecast.write_text(json.dumps(forecast_data(fair, [6000])))
    out = tmp_path / "plan.json"
    argv = ["optimize", "--venue", str(venue_file), "--forecast", str(forecast), "--out", str(out)]
    code = run_cli([*argv, *flags])
    assert code == 0, capsys.readouterr().err
    plan = parse_plan(json.loads(out.read_text()))
    assert plan.days[0].date == PEAK
    for slot, (low, capacity) in tickets_at_or_below(plan, price).items():
        assert low >= math.ceil(share * capacity), slot


def test_a_scenario_plan_keeps_the_venue_rule(fair: Venue) -> None:
    # The what-if path plans a day through its own call of the LP: the rule binds there too.
    (day,) = parse_forecast(forecast_data(fair, [6000])).days
    base = fair.prices.ladder.index(fair.prices.base)
    demand_day = DemandDay(
        day.date, day.arrivals, tuple(SlotDemand(s.slot, s.weights[base], 0.0) for s in day.slots)
    )
    demand = ScenarioDemand(
        {day.date: demand_day}, price_sensitivity=0.1, reference_price=fair.prices.base, model="t"
    )
    planned = plan_scenario_day(
        fair, demand, demand_day, Overrides(), {}, day.date - dt.timedelta(days=30)
    )
    assert planned is not None
    for slot in planned[0].slots:
        low = sum(step.units for step in slot.steps if step.price <= 14)
        assert low >= math.ceil(0.2 * slot.capacity), slot.slot


def test_a_scenario_floor_above_the_fair_price_names_the_floor(fair: Venue) -> None:
    overrides = Overrides.model_validate({"prices": {"floor": 18}})
    with pytest.raises(InvalidInput) as refused:
        scenario_venue(fair, overrides)
    assert refused.value.field == "overrides.prices.floor"
    assert "max_price 14" in refused.value.detail


def test_a_scenario_ladder_that_leaves_out_the_fair_price_names_the_ladder(fair: Venue) -> None:
    overrides = Overrides.model_validate(
        {"prices": {"ceiling": 26, "ladder": [16, 18, 20, 22, 24, 26]}}
    )
    with pytest.raises(InvalidInput) as refused:
        scenario_venue(fair, overrides)
    assert refused.value.field == "overrides.prices.ladder"
