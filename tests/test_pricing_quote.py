"""Quotes: walking the price steps, segment prices, VAT, savings, alternatives, sold out; plans."""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from pricing.bootstrap import bootstrap_plan
from pricing.calendar import entry_slots
from pricing.errors import InvalidInput, NotFound, SoldOut
from pricing.money import scale_cents, to_cents, to_units, vat_included
from pricing.plan import CompiledPlan, SlotPricing, compile_plan, parse_plan, validate_plan
from pricing.quote import (
    Alternative,
    PricedOrder,
    availability,
    check_tickets,
    find_day,
    find_slot,
    list_offers,
    price_tickets,
    quote_order,
)
from pricing.venue import Venue, parse_venue

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "venues" / "city-museum.toml"
TUESDAY = dt.date(2027, 1, 5)
MONDAY = dt.date(2027, 1, 4)  # the example venue is closed on Mondays
FEW_LEFT = 0.1


@cache
def _example_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


def example_venue(**changes: Any) -> Venue:
    """The example venue; `table__key=value` replaces a nested key, a plain key a top-level one."""
    data = copy.deepcopy(tomllib.loads(_example_text()))
    for dotted, value in changes.items():
        *tables, key = dotted.split("__")
        target = data
        for table in tables:
            target = target[table]
        target[key] = value
    return parse_venue(data)


Slots = dict[str, tuple[int, list[tuple[float, int]]]]  # slot -> (capacity, [(price, units)])


def plan_json(slots: Slots, date: str = "2027-01-05", **top: Any) -> dict[str, Any]:
    """Plan JSON for one day, as the optimizer would publish it."""
    return {
        "venue": "city-museum",
        "version": "2027-01-04T02:00:00Z-3f9c",
        "currency": "EUR",
        "days": [
            {
                "date": date,
                "slots": [
                    {
                        "slot": slot,
                        "capacity": capacity,
                        "steps": [{"price": price, "units": units} for price, units in steps],
                    }
                    for slot, (capacity, steps) in slots.items()
                ],
            }
        ],
        **top,
    }


def compiled(slots: Slots, venue: Venue | None = None) -> CompiledPlan:
    venue = venue or example_venue()
    return compile_plan(parse_plan(plan_json(slots)), venue, "v1")


def one_slot(steps: list[tuple[float, int]], capacity: int = 120) -> SlotPricing:
    return compiled({"10:00": (capacity, steps)}).days[TUESDAY]["10:00"]


def quote(
    plan: CompiledPlan,
    slot: str,
    tickets: dict[str, int],
    sold: dict[str, int] | None = None,
    from_minute: int = 0,
) -> PricedOrder:
    day = plan.days[TUESDAY]
    return quote_order(plan, day, day[slot], sold or {}, tickets, 0.09, from_minute)


def sold_out(plan: CompiledPlan, slot: str, tickets: dict[str, int], sold: dict[str, int]):
    with pytest.raises(SoldOut) as caught:
        quote(plan, slot, tickets, sold)
    return caught.value


def units(lines) -> list[tuple[str, tuple[int, ...]]]:
    return [(line.segment, line.unit_prices) for line in lines]


STEPS_14_18_22 = [(14, 40), (18, 50), (22, 30)]  # capacity 120


# --- walking the steps ---------------------------------------------------------------------------


def test_the_first_ticket_is_at_the_first_step():
    lines = price_tickets(one_slot(STEPS_14_18_22), 0, {"adult": 2})
    assert units(lines) == [("adult", (1400, 1400))]
    assert lines[0].quantity == 2
    assert lines[0].amount == 2800


def test_an_order_across_a_step_boundary_pays_each_ticket_at_its_step():
    lines = price_tickets(one_slot(STEPS_14_18_22), 39, {"adult": 3})
    assert units(lines) == [("adult", (1400, 1800, 1800))]
    assert lines[0].amount == 5000


@pytest.mark.parametrize(
    ("sold", "expected"),
    [(0, 1400), (39, 1400), (40, 1800), (89, 1800), (90, 2200), (119, 2200)],
)
def test_the_step_of_each_sales_position(sold, expected):
    (line,) = price_tickets(one_slot(STEPS_14_18_22), sold, {"adult": 1})
    assert line.unit_prices == (expected,)


def test_an_order_across_every_step():
    lines = price_tickets(one_slot(STEPS_14_18_22), 38, {"adult": 55})
    assert lines[0].unit_prices == (1400,) * 2 + (1800,) * 50 + (2200,) * 3
    assert lines[0].amount == 2 * 1400 + 50 * 1800 + 3 * 2200


def test_past_the_last_step_the_slot_sells_at_the_last_price_until_capacity():
    plan = compiled({"10:00": (40, [(14, 10), (18, 10)])})
    lines = price_tickets(plan.days[TUESDAY]["10:00"], 19, {"adult": 3})
    assert units(lines) == [("adult", (1800, 1800, 1800))]

    order = quote(plan, "10:00", {"adult": 5}, {"10:00": 35})
    assert order.lines[0].unit_prices == (1800,) * 5
    assert order.total == 9000
    with pytest.raises(SoldOut):
        quote(plan, "10:00", {"adult": 6}, {"10:00": 35})


def test_steps_with_no_units_are_skipped():
    pricing = one_slot([(12, 0), (14, 2), (16, 0), (18, 3)], capacity=10)
    (line,) = price_tickets(pricing, 0, {"adult": 7})
    assert line.unit_prices == (1400, 1400, 1800, 1800, 1800, 1800, 1800)


def test_a_slot_whose_only_step_has_no_units_sells_at_that_price():
    (line,) = price_tickets(one_slot([(16, 0)], capacity=5), 0, {"adult": 2})
    assert line.unit_prices == (1600, 1600)


def test_segments_take_positions_in_the_venue_order():
    tickets = check_tickets({"senior": 2, "adult": 1}, example_venue().segments, 10)
    assert list(tickets) == ["adult", "senior"]
    lines = price_tickets(one_slot(STEPS_14_18_22), 38, tickets)
    # adult at position 38 (14.00), seniors at 39 (80% of 14.00) and 40 (80% of 18.00)
    assert units(lines) == [("adult", (1400,)), ("senior", (1120, 1440))]
    assert [line.amount for line in lines] == [1400, 2560]


def test_free_segments_still_take_a_position():
    tickets = check_tickets({"member": 1, "child": 1, "adult": 1}, example_venue().segments, 10)
    assert list(tickets) == ["adult", "child", "member"]
    lines = price_tickets(one_slot(STEPS_14_18_22), 38, tickets)
    assert units(lines) == [("adult", (1400,)), ("child", (0,)), ("member", (0,))]
    # the member took position 40: the next adult pays the second step
    (after,) = price_tickets(one_slot(STEPS_14_18_22), 41, {"adult": 1})
    assert after.unit_prices == (1800,)


# --- segment prices and money --------------------------------------------------------------------


def test_segment_prices_round_half_up_to_the_cent():
    venue = example_venue(
        prices={"ladder": [9.99, 19.99, 29.99], "base": 19.99},
        segments={"adult": 1.0, "senior": 0.8, "student": 0.6, "child": 0.5},
        demand={},
    )
    pricing = compiled({"10:00": (120, [(19.99, 120)])}, venue).days[TUESDAY]["10:00"]
    assert pricing.segment_prices == {
        "adult": (1999,),
        "senior": (1599,),  # 15.992
        "student": (1199,),  # 11.994
        "child": (1000,),  # 9.995 rounds up
    }


@pytest.mark.parametrize(
    ("cents", "factor", "expected"),
    [
        (1999, 0.8, 1599),  # 15.992
        (2469, 0.5, 1235),  # 12.345 -> 12.35
        (1005, 0.5, 503),  # 5.025 -> 5.03 (not banker's 5.02)
        (1001, 0.5, 501),  # 5.005 -> 5.01
        (1500, 0.7, 1050),  # 1500 * 0.7 is 1049.999... in binary floats
        (2000, 0.0, 0),
        (1234, 1.0, 1234),
        (999, 0.15, 150),  # 149.85
        (333, 1.5, 500),  # 499.5
    ],
)
def test_scale_cents_rounds_half_up(cents, factor, expected):
    assert scale_cents(cents, factor) == expected


@pytest.mark.parametrize(
    ("amount", "cents"),
    [(12.345, 1235), ("12.345", 1235), (19.99, 1999), (0.005, 1), (0.004, 0), (20, 2000)],
)
def test_to_cents_rounds_half_up(amount, cents):
    assert to_cents(amount) == cents


def test_to_units_gives_currency_units():
    assert to_units(1235) == 12.35
    assert to_units(5) == 0.05
    assert to_units(0) == 0.0


@pytest.mark.parametrize(
    ("gross", "rate", "vat"),
    [(10000, 0.09, 826), (2000, 0.21, 347), (1999, 0.09, 165), (0, 0.09, 0), (2000, 0.0, 0)],
)
def test_vat_is_included_in_the_gross(gross, rate, vat):
    assert vat_included(gross, rate) == vat


def test_a_quote_states_the_vat_inside_its_total():
    order = quote(compiled({"10:00": (120, [(25, 120)])}), "10:00", {"adult": 4})
    assert order.total == 10000
    assert order.vat == 826


# --- savings, off-peak and the explanation -------------------------------------------------------


def test_an_off_peak_quote_shows_the_saving_against_the_usual_prices():
    plan = compiled({"10:00": (120, STEPS_14_18_22)})
    order = quote(plan, "10:00", {"adult": 1, "senior": 1})
    assert order.off_peak is True
    assert order.total == 1400 + 1120
    assert order.saving == (2000 + 1600) - (1400 + 1120)
    assert order.saving == 1080
    assert order.vat == 208  # 25.20 * 9 / 109 = 2.0807
    assert "Off-peak: EUR 6.00 less per adult than usual." in order.explanation


def test_a_peak_quote_saves_nothing_and_is_not_off_peak():
    plan = compiled({"10:00": (120, [(22, 60), (26, 60)])})
    order = quote(plan, "10:00", {"adult": 2})
    assert order.off_peak is False
    assert order.saving == 0
    assert order.total == 4400
    assert "Off-peak" not in order.explanation


def test_a_slot_starting_at_base_is_not_off_peak():
    plan = compiled({"10:00": (120, [(20, 60), (22, 60)])})
    assert plan.days[TUESDAY]["10:00"].off_peak is False
    assert quote(plan, "10:00", {"adult": 1}).saving == 0


def test_the_saving_is_never_negative_when_an_off_peak_slot_has_filled_up():
    plan = compiled({"10:00": (120, STEPS_14_18_22)})
    order = quote(plan, "10:00", {"adult": 2}, {"10:00": 100})
    assert order.off_peak is True
    assert order.total == 4400
    assert order.saving == 0


def test_the_explanation_names_the_step():
    plan = compiled({"10:00": (120, STEPS_14_18_22)})
    first = quote(plan, "10:00", {"adult": 1})
    assert first.explanation.startswith(
        "Usual adult price EUR 20.00; this slot is at step 1 of 3 (EUR 14.00 adult)."
    )
    second = quote(plan, "10:00", {"adult": 1}, {"10:00": 45})
    assert "step 2 of 3 (EUR 18.00 adult)" in second.explanation


def test_the_explanation_of_an_order_across_steps_says_the_slot_is_filling_up():
    plan = compiled({"10:00": (120, STEPS_14_18_22)})
    order = quote(plan, "10:00", {"adult": 3}, {"10:00": 39})
    assert "steps 1-2 of 3 (EUR 14.00, then EUR 18.00 adult; it is filling up)" in order.explanation


def test_the_explanation_gives_the_segment_shares():
    plan = compiled({"10:00": (120, STEPS_14_18_22)})
    order = quote(plan, "10:00", {"adult": 1, "senior": 1, "child": 1})
    assert "Against the adult price, senior pays 80%; child pays 0%." in order.explanation


# --- alternatives --------------------------------------------------------------------------------

# Around 12:00 (next adult ticket 20.00), with the slot's next price in the comment.
DAY: Slots = {
    "10:00": (120, [(14, 120)]),  # 14, 120 minutes away
    "10:30": (120, [(16, 120)]),  # 16, 90 minutes away
    "11:00": (120, [(12, 120)]),  # 12 but full (see SOLD)
    "11:30": (120, [(22, 120)]),  # dearer
    "12:00": (120, [(20, 100), (24, 20)]),
    "12:30": (120, [(16, 120)]),  # 16, 30 minutes away
    "13:00": (120, [(20, 120)]),  # the same price: not cheaper
    "13:30": (120, [(18, 120)]),  # 18, 90 minutes away
    "14:30": (120, [(12, 120)]),  # 12 but 150 minutes away
}
SOLD = {"11:00": 120, "12:00": 10}


def test_a_quote_offers_at_most_three_cheaper_slots_cheapest_then_nearest_first():
    order = quote(compiled(DAY), "12:00", {"adult": 2}, SOLD)
    assert order.alternatives == (
        Alternative("10:00", 1400, 600),
        Alternative("12:30", 1600, 400),
        Alternative("10:30", 1600, 400),
    )


def test_alternatives_are_only_slots_still_bookable_today():
    ten_fifteen = 10 * 60 + 15
    order = quote(compiled(DAY), "12:00", {"adult": 2}, SOLD, from_minute=ten_fifteen)
    assert [a.slot for a in order.alternatives] == ["12:30", "10:30", "13:30"]


def test_alternatives_must_take_the_whole_order():
    sold = {**SOLD, "10:00": 119, "12:30": 118}
    order = quote(compiled(DAY), "12:00", {"adult": 2}, sold)
    # 10:00 has one ticket left, 12:30 exactly two
    assert [a.slot for a in order.alternatives] == ["12:30", "10:30", "13:30"]


def test_alternatives_are_cheaper_than_the_next_ticket_of_the_slot_asked_for():
    # at 110 sold the 12:00 slot is on its 24.00 step: 13:00 (20.00) becomes cheaper too
    order = quote(compiled(DAY), "12:00", {"adult": 1}, {**SOLD, "12:00": 110})
    assert order.total == 2400
    assert order.alternatives[0] == Alternative("10:00", 1400, 1000)


def test_no_cheaper_slot_means_no_alternatives():
    plan = compiled({"10:00": (120, [(12, 120)]), "10:30": (120, [(14, 120)])})
    assert quote(plan, "10:00", {"adult": 1}).alternatives == ()


def test_a_sold_out_slot_raises_with_any_available_nearby_slot():
    error = sold_out(compiled(DAY), "10:00", {"adult": 2}, {**SOLD, "10:00": 120})
    assert error.status == 409
    assert error.field == "slot"
    assert error.detail == "10:00 is sold out"
    assert error.extra["remaining"] == 0
    # 11:00 is full and 12:30 is 150 minutes away; dearer slots are offered, with no saving
    assert error.extra["alternatives"] == (
        Alternative("10:30", 1600, 0),
        Alternative("12:00", 2000, 0),
        Alternative("11:30", 2200, 0),
    )


def test_an_order_larger_than_what_is_left_raises_with_what_is_left():
    error = sold_out(compiled(DAY), "12:00", {"adult": 3}, {**SOLD, "12:00": 118})
    assert error.detail == "12:00 has 2 tickets left, the order needs 3"
    assert error.extra["remaining"] == 2
    # savings are against the slot's next (24.00) ticket; cheapest, then nearest, first
    assert [(a.slot, a.saving) for a in error.extra["alternatives"]] == [
        ("10:00", 1000),
        ("12:30", 800),
        ("10:30", 800),
    ]


def test_an_oversold_slot_reports_nothing_remaining():
    error = sold_out(compiled(DAY), "12:00", {"adult": 1}, {"12:00": 125})
    assert error.extra["remaining"] == 0
    assert error.detail == "12:00 is sold out"


def test_a_slot_with_no_capacity_is_sold_out():
    error = sold_out(compiled({"10:00": (0, [(14, 0)])}), "10:00", {"adult": 1}, {})
    assert error.extra == {"remaining": 0, "alternatives": ()}


# --- checking the tickets of an order ------------------------------------------------------------

FACTORS = {"adult": 1.0, "senior": 0.8, "student": 0.6, "child": 0.0, "member": 0.0}


@pytest.mark.parametrize(
    ("tickets", "field", "words"),
    [
        ({"adult": 1, "tourist": 1}, "tickets.tourist", "unknown segment 'tourist'"),
        ({"adult": 0}, "tickets.adult", "at least 1, got 0"),
        ({"adult": 2, "child": -1}, "tickets.child", "at least 1, got -1"),
        ({}, "tickets", "at least one ticket"),
        ({"adult": 8, "child": 3}, "tickets", "11 tickets is more than the 10 allowed"),
        ({"member": 11}, "tickets", "11 tickets is more than the 10 allowed"),
    ],
)
def test_check_tickets_names_the_bad_part_of_the_order(tickets, field, words):
    with pytest.raises(InvalidInput) as caught:
        check_tickets(tickets, FACTORS, 10)
    assert caught.value.field == field
    assert words in caught.value.detail


def test_check_tickets_lists_the_segments_on_sale_for_an_unknown_one():
    with pytest.raises(InvalidInput) as caught:
        check_tickets({"pensioner": 1}, FACTORS, 10)
    assert "this venue sells adult, senior, student, child, member" in caught.value.detail


def test_check_tickets_accepts_exactly_the_maximum():
    assert check_tickets({"child": 4, "adult": 6}, FACTORS, 10) == {"adult": 6, "child": 4}


# --- the day's offers for the slot picker --------------------------------------------------------


@pytest.mark.parametrize(
    ("sold", "band", "remaining"),
    [
        (0, "available", 120),
        (107, "available", 13),
        (108, "few_left", 12),  # 10% of 120 left
        (119, "few_left", 1),
        (120, "sold_out", 0),
        (125, "sold_out", 0),
    ],
)
def test_offers_show_the_availability_band(sold, band, remaining):
    plan = compiled({"10:00": (120, STEPS_14_18_22)})
    (offer,) = list_offers(plan, plan.days[TUESDAY], {"10:00": sold}, 0, FEW_LEFT)
    assert (offer.availability, offer.remaining, offer.capacity) == (band, remaining, 120)


@pytest.mark.parametrize(
    ("capacity", "sold", "band"),
    [(5, 4, "few_left"), (5, 3, "available"), (25, 22, "few_left"), (25, 21, "available")],
)
def test_few_left_is_at_least_one_ticket_and_rounds_up(capacity, sold, band):
    assert availability(capacity, sold, FEW_LEFT) == band


def test_few_left_share_zero_still_flags_the_last_ticket():
    assert availability(100, 99, 0.0) == "few_left"
    assert availability(100, 98, 0.0) == "available"


def test_offers_give_the_next_ticket_price_per_segment_and_the_saving():
    plan = compiled({"10:00": (120, STEPS_14_18_22), "10:30": (120, [(22, 120)])})
    offers = list_offers(plan, plan.days[TUESDAY], {"10:00": 45}, 0, FEW_LEFT)
    assert [o.slot for o in offers] == ["10:00", "10:30"]
    first, second = offers
    assert first.price == 1800
    assert first.segment_prices == {
        "adult": 1800,
        "senior": 1440,
        "student": 1080,
        "child": 0,
        "member": 0,
    }
    assert (first.off_peak, first.saving) == (True, 200)
    assert (second.price, second.off_peak, second.saving) == (2200, False, 0)


def test_offers_leave_out_slots_that_have_started():
    plan = compiled({"10:00": (120, STEPS_14_18_22), "10:30": (120, [(22, 120)])})
    offers = list_offers(plan, plan.days[TUESDAY], {}, 10 * 60 + 1, FEW_LEFT)
    assert [o.slot for o in offers] == ["10:30"]
    offers = list_offers(plan, plan.days[TUESDAY], {}, 10 * 60 + 30, FEW_LEFT)
    assert [o.slot for o in offers] == ["10:30"]


def test_a_missing_day_or_slot_is_not_found():
    plan = compiled({"10:00": (120, STEPS_14_18_22)})
    with pytest.raises(NotFound) as caught:
        find_day(plan, MONDAY)
    assert caught.value.field == "date"
    with pytest.raises(NotFound) as caught:
        find_slot(plan.days[TUESDAY], TUESDAY, "10:30")
    assert caught.value.field == "slot"
    assert find_slot(find_day(plan, TUESDAY), TUESDAY, "10:00").capacity == 120


# --- compiling a plan ----------------------------------------------------------------------------


def test_compile_plan_precomputes_steps_and_usual_prices():
    plan = compiled({"10:30": (120, [(16, 40)]), "10:00": (120, STEPS_14_18_22)})
    pricing = plan.days[TUESDAY]["10:00"]
    assert list(plan.days[TUESDAY]) == ["10:00", "10:30"]
    assert pricing.step_prices == (1400, 1800, 2200)
    assert pricing.step_ends == (40, 90, 120)
    assert pricing.segment_prices["senior"] == (1120, 1440, 1760)
    assert plan.base == 2000
    assert plan.base_prices == {
        "adult": 2000,
        "senior": 1600,
        "student": 1200,
        "child": 0,
        "member": 0,
    }
    assert (plan.version, plan.venue, plan.currency) == ("v1", "city-museum", "EUR")


# --- validating a plan against the venue ---------------------------------------------------------

VALID: Slots = {
    "10:00": (120, STEPS_14_18_22),
    "10:30": (120, [(16, 40), (20, 40), (24, 40)]),
    "17:00": (60, [(12, 60)]),
}


def plan_error(data: dict[str, Any], venue: Venue | None = None) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        validate_plan(parse_plan(data), venue or example_venue())
    assert caught.value.status == 422
    return caught.value


def test_a_valid_plan_passes():
    validate_plan(parse_plan(plan_json(VALID)), example_venue())


def test_a_plan_for_another_venue_is_refused():
    error = plan_error(plan_json(VALID, venue="city-zoo"))
    assert error.field == "venue"
    assert "'city-zoo'" in error.detail


def test_a_plan_in_another_currency_is_refused():
    error = plan_error(plan_json(VALID, currency="USD"))
    assert error.field == "currency"


def test_a_plan_for_a_closed_weekday_is_refused():
    error = plan_error(plan_json(VALID, date="2027-01-04"))
    assert error.field == "days.0.date"
    assert "closed on 2027-01-04" in error.detail


def test_a_plan_for_a_closed_date_is_refused():
    venue = example_venue(closed_dates=[TUESDAY])
    assert plan_error(plan_json(VALID), venue).field == "days.0.date"


@pytest.mark.parametrize("slot", ["10:15", "09:00", "18:00", "20:30"])
def test_a_slot_not_on_the_day_grid_is_refused(slot):
    data = plan_json({"10:00": VALID["10:00"], slot: (40, [(16, 40)])})
    error = plan_error(data)
    assert error.field == "days.0.slots.1.slot"
    assert f"{slot} is not an entry slot on 2027-01-05" in error.detail


def test_a_duplicate_date_is_refused():
    data = plan_json(VALID)
    data["days"].append(copy.deepcopy(data["days"][0]))
    error = plan_error(data)
    assert error.field == "days.1.date"
    assert "appears twice" in error.detail


def test_a_duplicate_slot_is_refused():
    data = plan_json(VALID)
    slots = data["days"][0]["slots"]
    slots.insert(1, copy.deepcopy(slots[0]))
    error = plan_error(data)
    assert error.field == "days.0.slots.1.slot"
    assert "10:00 appears twice" in error.detail


@pytest.mark.parametrize("steps", [[(16, 40), (20, 40), (18, 40)], [(16, 40), (20, 40), (20, 40)]])
def test_steps_that_do_not_ascend_are_refused(steps):
    error = plan_error(plan_json({**VALID, "10:30": (120, steps)}))
    assert error.field == "days.0.slots.1.steps.2.price"
    assert "ascend" in error.detail


@pytest.mark.parametrize("price", [15, 19.99, 27, 0])
def test_a_price_not_on_the_ladder_is_refused(price):
    error = plan_error(plan_json({**VALID, "10:30": (120, [(14, 40), (price, 80)])}))
    assert error.field == "days.0.slots.1.steps.1.price"
    assert "not on the venue's ladder" in error.detail


def test_a_ladder_price_outside_floor_and_ceiling_is_refused():
    venue = example_venue(prices__floor=14, prices__ceiling=24)
    low = plan_error(plan_json({"10:00": (120, [(12, 60), (16, 60)])}), venue)
    assert low.field == "days.0.slots.0.steps.0.price"
    assert "outside floor and ceiling" in low.detail
    high = plan_error(plan_json({"10:00": (120, [(16, 60), (26, 60)])}), venue)
    assert high.field == "days.0.slots.0.steps.1.price"


def test_a_capacity_above_the_venue_slot_capacity_is_refused():
    error = plan_error(plan_json({**VALID, "17:00": (61, [(12, 61)])}))
    assert error.field == "days.0.slots.2.capacity"
    assert "capacity 61 is above the venue's 60 for 17:00" in error.detail
    assert plan_error(plan_json({"10:00": (121, STEPS_14_18_22)})).field == (
        "days.0.slots.0.capacity"
    )


def test_a_capacity_below_the_venue_slot_capacity_is_fine():
    validate_plan(parse_plan(plan_json({"17:30": (10, [(12, 10)])})), example_venue())


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["days"][0]["slots"][0].pop("steps"), "days.0.slots.0.steps"),
        (lambda d: d["days"][0]["slots"][0].update(steps=[]), "days.0.slots.0.steps"),
        (
            lambda d: d["days"][0]["slots"][0]["steps"][1].update(units=-1),
            "days.0.slots.0.steps.1.units",
        ),
        (
            lambda d: d["days"][0]["slots"][0]["steps"][2].update(price=-1),
            "days.0.slots.0.steps.2.price",
        ),
        (lambda d: d["days"][0]["slots"][1].update(slot="9:30"), "days.0.slots.1.slot"),
        (lambda d: d["days"][0].update(date="2027-02-30"), "days.0.date"),
        (lambda d: d.update(version="has spaces"), "version"),
        (lambda d: d.pop("currency"), "currency"),
    ],
)
def test_parse_plan_names_the_field_of_a_malformed_plan(change, field):
    data = plan_json(VALID)
    change(data)
    with pytest.raises(InvalidInput) as caught:
        parse_plan(data)
    assert caught.value.field == field


# --- the bootstrap plan --------------------------------------------------------------------------


def test_the_bootstrap_plan_sells_at_base_then_one_step_up_at_seventy_percent():
    venue = example_venue()
    plan = bootstrap_plan(venue, MONDAY, 7, "bootstrap-1")
    validate_plan(plan, venue)

    assert [day.date for day in plan.days] == [MONDAY + dt.timedelta(days=i) for i in range(1, 7)]
    tuesday = {slot.slot: slot for slot in plan.days[0].slots}
    assert tuple(tuesday) == entry_slots(venue, TUESDAY)
    assert [(s.price, s.units) for s in tuesday["10:00"].steps] == [(20, 84), (22, 36)]
    assert [(s.price, s.units) for s in tuesday["17:00"].steps] == [(20, 42), (22, 18)]
    assert [(s.price, s.units) for s in tuesday["17:30"].steps] == [(20, 28), (22, 12)]
    assert tuesday["17:30"].capacity == 40
    assert len(plan.days[3].slots) == 22  # Friday
    assert (plan.venue, plan.currency, plan.version) == ("city-museum", "EUR", "bootstrap-1")


def test_the_bootstrap_plan_skips_closed_dates():
    venue = example_venue(closed_dates=[dt.date(2027, 1, 6)])
    plan = bootstrap_plan(venue, TUESDAY, 3, "b")
    validate_plan(plan, venue)
    assert [day.date for day in plan.days] == [TUESDAY, dt.date(2027, 1, 7)]


def test_the_bootstrap_plan_of_a_closed_week_is_empty():
    plan = bootstrap_plan(example_venue(), MONDAY, 1, "b")
    assert plan.days == []


@pytest.mark.parametrize(("capacity", "at_base"), [(90, 63), (170, 119), (180, 126), (10, 7)])
def test_the_bootstrap_step_is_exactly_seventy_percent(capacity, at_base):
    venue = example_venue(slot_capacity=capacity, slot_capacities={})
    plan = bootstrap_plan(venue, TUESDAY, 1, "b")
    steps = plan.days[0].slots[0].steps
    assert [(s.price, s.units) for s in steps] == [(20, at_base), (22, capacity - at_base)]


def test_the_bootstrap_plan_has_one_step_when_base_is_the_ceiling():
    venue = example_venue(prices__base=26)
    plan = bootstrap_plan(venue, TUESDAY, 1, "b")
    validate_plan(plan, venue)
    assert [(s.price, s.units) for s in plan.days[0].slots[0].steps] == [(26, 120)]


def test_a_bootstrap_plan_quotes_base_then_the_step_up():
    venue = example_venue()
    plan = compile_plan(bootstrap_plan(venue, TUESDAY, 1, "b"), venue, "b")
    order = quote(plan, "10:00", {"adult": 2}, {"10:00": 83})
    assert order.lines[0].unit_prices == (2000, 2200)
    assert order.off_peak is False


def test_an_empty_first_step_does_not_make_a_slot_off_peak():
    # 0 tickets at 14 are never sold: the slot opens at 20, the usual price.
    assert not one_slot([(14.0, 0), (20.0, 120)]).off_peak
    assert one_slot([(14.0, 0), (16.0, 10), (20.0, 110)]).off_peak


def test_few_left_uses_the_decimal_share_not_its_float():
    # 100 * 0.07 is 7.000000000000001 in floats, which would round up to 8.
    assert availability(100, 93, 0.07) == "few_left"
    assert availability(100, 92, 0.07) == "available"


def test_a_weekday_ladder_limits_plans_and_the_bootstrap_on_that_weekday():
    venue = example_venue(prices__weekday_ladders={"tue": [22, 24, 26]})
    error = plan_error(plan_json({"10:00": (120, [(20, 120)])}), venue)
    assert error.field == "days.0.slots.0.steps.0.price" and "2027-01-05" in str(error)
    plan = bootstrap_plan(venue, MONDAY, 3, "v1")  # Monday closed, Tuesday, Wednesday
    validate_plan(plan, venue)
    tuesday, wednesday = plan.days
    assert [s.price for s in tuesday.slots[0].steps] == [22, 24]  # base 20 is not sold on Tuesdays
    assert [s.price for s in wednesday.slots[0].steps] == [20, 22]
