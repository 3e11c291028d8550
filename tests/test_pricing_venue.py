"""The venue file: the example parses, and every broken variant names the field at fault."""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import pytest

from pricing.errors import InvalidInput
from pricing.venue import Venue, parse_venue, parse_venue_toml

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "venues" / "city-museum.toml"
DROP = object()  # an override value that removes the key


def example_data(**changes: Any) -> dict[str, Any]:
    """The example venue as parsed TOML; `table__key=value` sets a nested key, DROP removes it."""
    data = copy.deepcopy(tomllib.loads(EXAMPLE.read_text(encoding="utf-8")))
    for dotted, value in changes.items():
        *tables, key = dotted.split("__")
        target = data
        for table in tables:
            target = target[table]
        if value is DROP:
            del target[key]
        else:
            target[key] = value
    return data


def example_venue(**changes: Any) -> Venue:
    return parse_venue(example_data(**changes), source="city-museum.toml")


def rejected(data: dict[str, Any]) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_venue(data, source="city-museum.toml")
    return caught.value


MINIMAL_TOML = """
id = "tiny-zoo"
timezone = "Europe/Berlin"
currency = "EUR"
slot_minutes = 60
slot_capacity = 50

[hours]
sat = ["10:00", "16:00"]

[prices]
ladder = [8, 10, 12]
base = 10
"""


# --- the example file ----------------------------------------------------------------------------


def test_example_file_parses_with_every_field():
    venue = parse_venue_toml(EXAMPLE.read_text(encoding="utf-8"), source=str(EXAMPLE))

    assert venue.id == "city-museum"
    assert venue.display_name() == "City Museum"
    assert venue.timezone == "Europe/Amsterdam"
    assert venue.zone.key == "Europe/Amsterdam"
    assert venue.currency == "EUR"
    assert venue.vat_rate == 0.09
    assert venue.slot_minutes == 30
    assert venue.dwell_minutes == 120
    assert venue.slot_capacity == 120
    assert venue.building_capacity == 600
    assert venue.comfort_occupancy == 450
    assert venue.hours["tue"] == ("10:00", "18:00")
    assert venue.hours["fri"] == ("10:00", "21:00")
    assert "mon" not in venue.hours
    assert venue.prices.ladder == [12, 14, 16, 18, 20, 22, 24, 26]
    assert venue.prices.base == 20
    assert (venue.prices.floor, venue.prices.ceiling) == (12, 26)
    assert venue.base_cents == 2000
    assert venue.segments == {
        "adult": 1.0,
        "senior": 0.8,
        "student": 0.6,
        "child": 0.0,
        "member": 0.0,
    }
    assert list(venue.segments) == ["adult", "senior", "student", "child", "member"]
    assert venue.demand.price_sensitivity_prior == 0.1
    assert venue.demand.segment_mix == {"adult": 0.6, "senior": 0.2, "student": 0.1, "child": 0.1}
    assert venue.objective.kind == "balanced"
    assert venue.objective.crowding_penalty == 2.0
    assert venue.objective.min_revenue is None


def test_per_slot_capacity_overrides_the_default():
    venue = example_venue()
    assert venue.capacity_of("10:00") == 120
    assert venue.capacity_of("17:00") == 60
    assert venue.capacity_of("17:30") == 40


def test_example_parsed_from_dict_equals_parsed_from_toml():
    from_toml = parse_venue_toml(EXAMPLE.read_text(encoding="utf-8"))
    assert example_venue() == from_toml


# --- defaults ------------------------------------------------------------------------------------


def test_only_the_required_fields_give_documented_defaults():
    venue = parse_venue_toml(MINIMAL_TOML, source="tiny.toml")

    assert venue.name == ""
    assert venue.display_name() == "tiny-zoo"
    assert venue.vat_rate == 0.0
    assert venue.dwell_minutes == 120
    assert venue.slot_capacities == {}
    assert venue.capacity_of("10:00") == 50
    assert venue.building_capacity is None
    assert venue.comfort_occupancy is None
    assert venue.closed_dates == []
    assert venue.segments == {"adult": 1.0}
    assert venue.demand.price_sensitivity_prior == 0.1
    assert venue.demand.segment_mix == {"adult": 1.0}
    assert venue.objective.kind == "revenue"
    assert venue.objective.crowding_penalty == 0.0
    assert venue.objective.min_revenue is None


def test_floor_and_ceiling_default_to_the_ends_of_the_ladder():
    venue = parse_venue_toml(MINIMAL_TOML)
    assert venue.prices.floor is None and venue.prices.ceiling is None
    assert venue.prices.floor_or_lowest == 8
    assert venue.prices.ceiling_or_highest == 12


def test_optional_tables_absent_from_the_example():
    venue = example_venue(segments=DROP, demand=DROP, objective=DROP, slot_capacities=DROP)
    assert venue.segments == {"adult": 1.0}
    assert venue.demand.segment_mix == {"adult": 1.0}
    assert venue.objective.kind == "revenue"
    assert venue.capacity_of("17:30") == 120


def test_closed_dates_are_parsed_as_dates():
    venue = example_venue(closed_dates=[dt.date(2027, 12, 25), "2027-12-26"])
    assert venue.closed_dates == [dt.date(2027, 12, 25), dt.date(2027, 12, 26)]


# --- broken variants: each names its field -------------------------------------------------------


@pytest.mark.parametrize(
    "required", ["id", "timezone", "currency", "slot_minutes", "slot_capacity"]
)
def test_a_missing_required_field_is_named(required):
    error = rejected(example_data(**{required: DROP}))
    assert error.field == required
    assert error.detail == f"city-museum.toml: {required}: Field required"


@pytest.mark.parametrize("table", ["hours", "prices"])
def test_a_missing_required_table_is_named(table):
    error = rejected(example_data(**{table: DROP}))
    assert error.field == table
    assert "Field required" in error.detail


def test_missing_base_price_is_named():
    error = rejected(example_data(prices__base=DROP))
    assert error.field == "prices.base"


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "Europe/Amsterdam/", "../etc/passwd", ""])
def test_an_unknown_time_zone_is_named(timezone):
    error = rejected(example_data(timezone=timezone))
    assert error.field == "timezone"
    assert "unknown time zone" in error.detail
    assert error.detail.startswith("city-museum.toml: timezone: ")


@pytest.mark.parametrize("venue_id", ["City Museum", "-museum", "museum/1", "x" * 65])
def test_a_bad_venue_id_is_named(venue_id):
    assert rejected(example_data(id=venue_id)).field == "id"


@pytest.mark.parametrize("currency", ["eur", "EURO", "€"])
def test_a_bad_currency_is_named(currency):
    assert rejected(example_data(currency=currency)).field == "currency"


def test_floor_above_ceiling_is_named():
    error = rejected(example_data(prices__floor=24, prices__ceiling=14, prices__base=20))
    assert error.field == "prices.floor"
    assert "floor 24.0 is above ceiling 14.0" in error.detail


@pytest.mark.parametrize("base", [10, 27, 26.01])
def test_base_outside_floor_and_ceiling_is_named(base):
    error = rejected(example_data(prices__base=base))
    assert error.field == "prices.base"
    assert "outside floor 12.0 and ceiling 26.0" in error.detail


def test_base_outside_the_default_floor_and_ceiling_is_named():
    error = rejected(
        example_data(prices__floor=DROP, prices__ceiling=DROP, prices__ladder=[14, 16, 18])
    )
    assert error.field == "prices.base"


@pytest.mark.parametrize("ladder", [[12, 16, 14], [12, 14, 14, 16], [20, 12]])
def test_a_ladder_that_does_not_ascend_is_named(ladder):
    error = rejected(example_data(prices__ladder=ladder))
    assert error.field == "prices.ladder"
    assert "strictly ascending" in error.detail


def test_an_empty_ladder_is_named():
    assert rejected(example_data(prices__ladder=[])).field == "prices.ladder"


def test_a_negative_ladder_price_is_named():
    assert rejected(example_data(prices__ladder=[-2, 12, 14])).field == "prices.ladder.0"


def test_a_base_price_off_the_ladder_is_named():
    # Plans only use ladder prices, so the usual price must be one of them.
    error = rejected(
        example_data(prices__ladder=[10, 30], prices__floor=15, prices__ceiling=25, prices__base=20)
    )
    assert error.field == "prices.base"
    assert "not on the ladder" in str(error)


def test_an_unknown_slot_in_slot_capacities_is_named():
    error = rejected(example_data(slot_capacities={"17:00": 60, "12:15": 80}))
    assert error.field == "slot_capacities.12:15"
    assert "12:15 is not an entry slot on any open day" in error.detail


def test_a_slot_capacity_at_closing_time_is_not_an_entry_slot():
    # 18:00 closes Tuesday to Sunday; 20:30 is Friday's last entry, 21:00 is Friday's closing.
    assert example_venue(slot_capacities={"20:30": 10}).capacity_of("20:30") == 10
    assert rejected(example_data(slot_capacities={"21:00": 10})).field == "slot_capacities.21:00"


def test_a_negative_slot_capacity_is_named():
    error = rejected(example_data(slot_capacities={"17:00": -1}))
    assert error.field == "slot_capacities.17:00"


@pytest.mark.parametrize("factor", [0.9, 1.1, 0.0])
def test_an_adult_factor_other_than_one_is_named(factor):
    error = rejected(example_data(segments__adult=factor))
    assert error.field == "segments.adult"
    assert "the adult factor must be 1.0" in error.detail


def test_segments_without_adult_are_named():
    error = rejected(example_data(segments={"senior": 0.8}, demand=DROP))
    assert error.field == "segments.adult"


def test_a_negative_segment_factor_is_named():
    assert rejected(example_data(segments__child=-0.5)).field == "segments.child"


def test_segment_mix_naming_an_unknown_segment_is_named():
    error = rejected(example_data(demand__segment_mix={"adult": 0.9, "tourist": 0.1}))
    assert error.field == "demand.segment_mix.tourist"
    assert "'tourist' is not in [segments]" in error.detail


def test_the_default_segment_mix_needs_no_segments_table():
    venue = example_venue(demand__segment_mix=DROP)
    assert venue.demand.segment_mix == {"adult": 1.0}


@pytest.mark.parametrize(
    ("hours", "field"),
    [
        (["9:00", "18:00"], "hours.tue.0"),
        (["10:00", "24:00"], "hours.tue.1"),
        (["10:60", "18:00"], "hours.tue.0"),
        (["10h00", "18:00"], "hours.tue.0"),
        (["10:00"], "hours.tue.1"),  # the closing time is missing
    ],
)
def test_bad_opening_hours_are_named(hours, field):
    assert rejected(example_data(hours__tue=hours)).field == field


def test_an_unknown_weekday_is_named():
    assert rejected(example_data(hours__tuesday=["10:00", "18:00"])).field == "hours.tuesday"


def test_a_badly_written_slot_capacity_key_is_named():
    error = rejected(example_data(slot_capacities={"9:00": 10}))
    assert error.field == "slot_capacities.9:00"


@pytest.mark.parametrize("hours", [["10:00", "10:29"], ["10:00", "10:00"], ["18:00", "10:00"]])
def test_a_day_shorter_than_one_slot_is_named(hours):
    error = rejected(example_data(hours__wed=hours))
    assert error.field == "hours.wed"
    assert "less than one 30-minute slot" in error.detail


def test_a_day_of_exactly_one_slot_is_fine():
    venue = example_venue(hours__wed=["10:00", "10:30"])
    assert venue.hours["wed"] == ("10:00", "10:30")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"slot_minutes": 0}, "slot_minutes"),
        ({"slot_minutes": 721}, "slot_minutes"),
        ({"slot_capacity": 0}, "slot_capacity"),
        ({"vat_rate": 1.0}, "vat_rate"),
        ({"vat_rate": -0.01}, "vat_rate"),
        ({"dwell_minutes": 0}, "dwell_minutes"),
        ({"building_capacity": 0}, "building_capacity"),
        ({"comfort_occupancy": 601}, "comfort_occupancy"),
        ({"objective__kind": "profit"}, "objective.kind"),
        ({"objective__crowding_penalty": -1}, "objective.crowding_penalty"),
        ({"demand__price_sensitivity_prior": 0}, "demand.price_sensitivity_prior"),
        ({"closed_dates": ["2027-02-30"]}, "closed_dates.0"),
        ({"surprise": 1}, "surprise"),
        ({"prices__discount": 5}, "prices.discount"),
    ],
)
def test_other_bad_values_are_named(changes, field):
    error = rejected(example_data(**changes))
    assert error.field == field
    assert error.detail.startswith(f"city-museum.toml: {field}: ")


def test_toml_that_does_not_parse_says_so():
    with pytest.raises(InvalidInput) as caught:
        parse_venue_toml('id = "city-museum"\nhours = [', source="broken.toml")
    assert caught.value.detail.startswith("broken.toml: not valid TOML")
    assert caught.value.status == 422


def test_errors_from_toml_name_the_field_and_the_source():
    text = EXAMPLE.read_text(encoding="utf-8").replace("base = 20", "base = 30")
    with pytest.raises(InvalidInput) as caught:
        parse_venue_toml(text, source="city-museum.toml")
    assert caught.value.field == "prices.base"
    assert caught.value.detail.startswith("city-museum.toml: prices.base: base 30.0 is outside")


def test_weekday_ladders_must_be_parts_of_the_ladder():
    venue = example_venue(prices__weekday_ladders={"sat": [18, 20, 22, 24, 26]})
    assert venue.prices.ladder_on(dt.date(2027, 1, 9)) == [18, 20, 22, 24, 26]  # a Saturday
    assert venue.prices.ladder_on(dt.date(2027, 1, 5)) == venue.prices.ladder  # a Tuesday
    error = rejected(example_data(prices__weekday_ladders={"sat": [18, 19]}))
    assert error.field == "prices.weekday_ladders.sat" and "19" in str(error)
    error = rejected(example_data(prices__weekday_ladders={"sun": [22, 20]}))
    assert error.field == "prices.weekday_ladders.sun" and "ascending" in str(error)
    error = rejected(example_data(prices__weekday_ladders={"someday": [20]}))
    assert error.field == "prices.weekday_ladders.someday"


# --- the fairness rule ---------------------------------------------------------------------------


def test_a_fairness_rule_is_read_from_the_prices_table():
    text = (
        EXAMPLE.read_text(encoding="utf-8") + "\n[prices.fairness]\nshare = 0.2\nmax_price = 16\n"
    )
    venue = parse_venue_toml(text, source="city-museum.toml")
    assert venue.prices.fairness is not None
    assert (venue.prices.fairness.share, venue.prices.fairness.max_price) == (0.2, 16)
    assert example_venue().prices.fairness is None
    assert parse_venue_toml(MINIMAL_TOML).prices.fairness is None


def test_a_fair_price_between_ladder_prices_is_fine():
    venue = example_venue(prices__fairness={"share": 1, "max_price": 15})
    assert venue.prices.fairness is not None and venue.prices.fairness.max_price == 15


@pytest.mark.parametrize("share", [0, -0.1, 1.01, 20, "a fifth", float("nan")])
def test_a_bad_fair_share_is_named(share):
    error = rejected(example_data(prices__fairness={"share": share, "max_price": 16}))
    assert error.field == "prices.fairness.share"
    assert error.detail.startswith("city-museum.toml: prices.fairness.share: ")


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"max_price": 16}, "prices.fairness.share"),
        ({"share": 0.2}, "prices.fairness.max_price"),
        ({"share": 0.2, "max_price": -1}, "prices.fairness.max_price"),
        ({"share": 0.2, "max_price": 16, "price": 16}, "prices.fairness.price"),
    ],
)
def test_a_fairness_table_missing_or_with_stray_keys_is_named(rule, field):
    assert rejected(example_data(prices__fairness=rule)).field == field


@pytest.mark.parametrize("max_price", [10, 11.99, 27, 100])
def test_a_fair_price_outside_the_ladder_is_named(max_price):
    error = rejected(example_data(prices__fairness={"share": 0.2, "max_price": max_price}))
    assert error.field == "prices.fairness.max_price"
    assert "outside the ladder's range 12.0 to 26.0" in error.detail


def test_a_fair_price_below_what_the_floor_allows_can_never_hold():
    # 13 is on the ladder's range, but the floor of 14 leaves nothing at 13 or below to offer.
    error = rejected(
        example_data(prices__floor=14, prices__fairness={"share": 0.2, "max_price": 13})
    )
    assert error.field == "prices.fairness.max_price"
    assert error.detail.startswith("city-museum.toml: prices.fairness.max_price: max_price 13.0")
    assert "lowest ladder price within floor 14.0 and ceiling 26.0" in error.detail
    # at the floor itself it can
    venue = example_venue(prices__floor=14, prices__fairness={"share": 0.2, "max_price": 14})
    assert venue.prices.fairness is not None


def test_a_fair_price_below_an_open_days_weekday_ladder_is_named():
    rule = {"share": 0.2, "max_price": 16}
    error = rejected(
        example_data(prices__weekday_ladders={"sat": [18, 20, 22]}, prices__fairness=rule)
    )
    assert error.field == "prices.fairness.max_price"
    assert "sat ladder" in error.detail and "never hold on sat" in error.detail
    # a weekday ladder of a closed day (Monday) does not matter
    venue = example_venue(prices__weekday_ladders={"mon": [18, 20, 22]}, prices__fairness=rule)
    assert venue.prices.fairness is not None
