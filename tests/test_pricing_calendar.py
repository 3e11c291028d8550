"""Opening hours to entry slots, and the strict date parser."""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from pricing.calendar import entry_slots, local_now, parse_date, slot_start
from pricing.errors import InvalidInput
from pricing.venue import Venue, parse_venue

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "venues" / "city-museum.toml"

# A week of the example venue (2027-01-04 is a Monday).
MON, TUE, WED, THU, FRI, SAT, SUN = (dt.date(2027, 1, 4) + dt.timedelta(days=i) for i in range(7))


@cache
def _example_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


def example_venue(**changes: Any) -> Venue:
    """The example venue with top-level keys replaced (`hours=...` replaces the whole table)."""
    data = copy.deepcopy(tomllib.loads(_example_text()))
    data.update(changes)
    return parse_venue(data)


def clocks(first: str, last: str, step: int = 30) -> tuple[str, ...]:
    """Every `step` minutes from `first` to `last` inclusive, written out independently."""
    h, m = map(int, first.split(":"))
    out = []
    while f"{h:02d}:{m:02d}" <= last:
        out.append(f"{h:02d}:{m:02d}")
        m += step
        h, m = h + m // 60, m % 60
    return tuple(out)


# --- entry slots of the example venue ------------------------------------------------------------


def test_a_tuesday_has_sixteen_half_hour_slots_from_ten_to_half_past_five():
    slots = entry_slots(example_venue(), TUE)
    assert len(slots) == 16
    assert slots[0] == "10:00"
    assert slots[-1] == "17:30"
    assert slots == clocks("10:00", "17:30")
    assert "18:00" not in slots


def test_wednesday_and_thursday_match_tuesday():
    venue = example_venue()
    assert entry_slots(venue, WED) == entry_slots(venue, THU) == entry_slots(venue, TUE)


def test_friday_runs_late_until_half_past_eight():
    slots = entry_slots(example_venue(), FRI)
    assert len(slots) == 22
    assert (slots[0], slots[-1]) == ("10:00", "20:30")


def test_weekends_open_at_nine():
    venue = example_venue()
    for day in (SAT, SUN):
        slots = entry_slots(venue, day)
        assert len(slots) == 18
        assert (slots[0], slots[-1]) == ("09:00", "17:30")


def test_monday_is_closed():
    assert entry_slots(example_venue(), MON) == ()


def test_the_weekday_rule_holds_in_any_week():
    venue = example_venue()
    assert entry_slots(venue, dt.date(2027, 6, 7)) == ()  # a Monday
    assert len(entry_slots(venue, dt.date(2027, 6, 11))) == 22  # a Friday


def test_closed_dates_have_no_slots_while_other_days_keep_theirs():
    venue = example_venue(closed_dates=[TUE, dt.date(2027, 12, 25)])
    assert entry_slots(venue, TUE) == ()
    assert entry_slots(venue, dt.date(2027, 12, 25)) == ()  # a Saturday
    assert len(entry_slots(venue, WED)) == 16
    assert len(entry_slots(venue, dt.date(2027, 1, 12))) == 16  # the next Tuesday


def test_the_daylight_saving_change_keeps_wall_clock_slots():
    # 2027-03-28 (Sunday) and 2027-10-31 (Sunday) are the Amsterdam clock changes.
    venue = example_venue()
    assert entry_slots(venue, dt.date(2027, 3, 28)) == clocks("09:00", "17:30")
    assert entry_slots(venue, dt.date(2027, 10, 31)) == clocks("09:00", "17:30")


# --- slot lengths that do not divide the day -----------------------------------------------------


@pytest.mark.parametrize(
    ("slot_minutes", "expected_last", "expected_count"),
    [
        (45, "16:45", 10),  # 16:45 + 45 = 17:30; one more slot would end at 18:15
        (50, "16:40", 9),  # 16:40 + 50 = 17:30; one more would end at 18:20
        (70, "15:50", 6),  # 15:50 + 70 = 17:00; one more would end at 18:10
        (90, "16:00", 5),  # 16:00 + 90 = 17:30; one more would end at 19:00
        (25, "17:30", 19),  # 17:30 + 25 = 17:55; one more would end at 18:20
    ],
)
def test_uneven_slots_still_end_by_closing(slot_minutes, expected_last, expected_count):
    venue = example_venue(slot_minutes=slot_minutes, slot_capacities={})
    slots = entry_slots(venue, TUE)
    assert slots == clocks("10:00", expected_last, slot_minutes)
    assert len(slots) == expected_count
    last_start = int(slots[-1][:2]) * 60 + int(slots[-1][3:])
    assert last_start + slot_minutes <= 18 * 60
    assert last_start + 2 * slot_minutes > 18 * 60


def test_seventy_minute_slots_on_a_short_day():
    venue = example_venue(slot_minutes=70, slot_capacities={}, hours={"tue": ["10:00", "13:00"]})
    # 10:00-11:10, 11:10-12:20; a third slot would end at 13:30, after closing.
    assert entry_slots(venue, TUE) == (
        "10:00",
        "11:10",
    )


def test_a_day_of_exactly_one_slot_has_one_entry():
    venue = example_venue(slot_capacities={}, hours={"tue": ["10:00", "10:30"]})
    assert entry_slots(venue, TUE) == ("10:00",)
    assert entry_slots(venue, WED) == ()


def test_slots_up_to_the_last_minute_before_midnight():
    venue = example_venue(slot_capacities={}, hours={"fri": ["22:00", "23:59"]})
    assert entry_slots(venue, FRI) == (
        "22:00",
        "22:30",
        "23:00",
    )


# --- wall clock ----------------------------------------------------------------------------------


def test_slot_start_is_the_wall_clock_time_in_the_venue_zone():
    venue = example_venue()
    winter = slot_start(venue, TUE, "10:00")
    summer = slot_start(venue, dt.date(2027, 7, 6), "10:00")
    assert winter.astimezone(dt.UTC) == dt.datetime(2027, 1, 5, 9, 0, tzinfo=dt.UTC)
    assert summer.astimezone(dt.UTC) == dt.datetime(2027, 7, 6, 8, 0, tzinfo=dt.UTC)


def test_local_now_sees_the_venue_clock():
    venue = example_venue()
    seen = local_now(venue, dt.datetime(2027, 1, 5, 23, 30, tzinfo=dt.UTC))
    assert (seen.date(), seen.hour, seen.minute) == (dt.date(2027, 1, 6), 0, 30)


# --- parse_date ----------------------------------------------------------------------------------


def test_parse_date_reads_an_iso_date():
    assert parse_date("2027-01-05") == dt.date(2027, 1, 5)
    assert parse_date("2028-02-29") == dt.date(2028, 2, 29)


@pytest.mark.parametrize(
    "text",
    [
        "2027-1-5",
        "2027-01-5",
        "2027-02-30",
        "2027-02-29",  # not a leap year
        "2027-13-01",
        "tomorrow",
        "",
        "20270105",
        "2027/01/05",
        "05-01-2027",
        " 2027-01-05",
        "2027-01-05 ",
        "2027-01-05T10:00",
        "2027-W01-2",  # an ISO week date: ten characters, but not YYYY-MM-DD
        "20270105  ",
        "2027-01-0\u0665",  # a non-ASCII digit
    ],
)
def test_parse_date_rejects_anything_but_yyyy_mm_dd(text):
    with pytest.raises(InvalidInput) as caught:
        parse_date(text)
    assert caught.value.field == "date"
    assert caught.value.status == 422
    assert repr(text) in caught.value.detail
    assert "YYYY-MM-DD" in caught.value.detail


def test_parse_date_names_the_field_it_is_given():
    with pytest.raises(InvalidInput) as caught:
        parse_date("2027-1-5", field="days.3.date")
    assert caught.value.field == "days.3.date"
