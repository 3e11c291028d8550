"""History and Calendar CSV: every malformed case names the file, the line and the column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from forecasting.design import recent_members
from forecasting.history import load_calendar, load_history, parse_calendar, parse_history
from forecasting.world import venue_toml
from pricing.errors import InvalidInput
from pricing.venue import Venue, parse_venue_toml

HEADER = "date,slot,capacity,price,sold,members,holiday,event,temp_c,precip_mm"
# 2027-01-05 is a Tuesday; the example hours open it 10:00-18:00 (last entry 17:30).
GOOD = [
    "2027-01-05,10:00,120,20,57,3,0,0,4.5,0.0",
    "2027-01-05,10:30,120,22,120,0,0,0,4.5,0.0",
    "2027-01-06,10:00,120,20,41,2,0,1,3.0,2.5",
]


def venue() -> Venue:
    return parse_venue_toml(venue_toml(None), source="venue.toml")


def history_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def error_of(*rows: str, header: str = HEADER) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_history(history_text(*rows, header=header), venue(), source="history.csv")
    return caught.value


def test_a_good_history_loads_with_gaps_left_as_gaps() -> None:
    history = parse_history(history_text(*GOOD), venue(), source="history.csv")
    assert list(history.days) == [dt.date(2027, 1, 5), dt.date(2027, 1, 6)]
    tuesday = history.days[dt.date(2027, 1, 5)]
    assert set(tuesday.slots) == {"10:00", "10:30"}  # 11:00 onwards: no rows, no zeros
    assert tuesday.slots["10:30"].sold_out
    assert not tuesday.slots["10:00"].sold_out
    assert tuesday.covariates == {"holiday": 0.0, "event": 0.0, "temp_c": 4.5, "precip_mm": 0.0}
    assert history.warnings == []


@pytest.mark.parametrize(
    ("bad_row", "where", "problem"),
    [
        ("2027-13-05,10:00,120,20,57,3,0,0,4.5,0.0", "column date", "not a date"),
        ("05/01/2027,10:00,120,20,57,3,0,0,4.5,0.0", "column date", "not a date"),
        ("2027-01-05,10:15,120,20,57,3,0,0,4.5,0.0", "column slot", "not an entry slot"),
        ("2027-01-05,09:00,120,20,57,3,0,0,4.5,0.0", "column slot", "not an entry slot"),
        ("2027-01-05,11:00,120,20,-3,3,0,0,4.5,0.0", "column sold", "-3 is negative"),
        ("2027-01-05,11:00,120,20,121,0,0,0,4.5,0.0", "column sold", "above the capacity 120"),
        ("2027-01-05,11:00,120,20,110,20,0,0,4.5,0.0", "column members", "above the capacity"),
        ("2027-01-05,10:00,120,20,50,3,0,0,4.5,0.0", "column slot", "appears twice"),
        ("2027-01-05,11:00,120.5,20,57,3,0,0,4.5,0.0", "column capacity", "not a whole number"),
        ("2027-01-05,11:00,0,20,0,0,0,0,4.5,0.0", "column capacity", "must be above 0"),
        ("2027-01-05,11:00,120,cheap,57,3,0,0,4.5,0.0", "column price", "not a number"),
        ("2027-01-05,11:00,120,-1,57,3,0,0,4.5,0.0", "column price", "negative"),
        ("2027-01-05,11:00,120,20,,3,0,0,4.5,0.0", "column sold", "is empty"),
        ("2027-01-05,11:00,120,20,57,3,2,0,4.5,0.0", "column holiday", "not 0 or 1"),
        ("2027-01-05,11:00,120,20,57,3,1,0,4.5,0.0", "column holiday", "differs from 0"),
        ("2027-01-05,11:00,120,20,57,3,0,0,4.5,-1", "column precip_mm", "negative"),
        ("2027-01-05,11:00,120,20,57,3,0,0,hot,0.0", "column temp_c", "not a number"),
    ],
)
def test_a_bad_cell_names_file_line_and_column(bad_row: str, where: str, problem: str) -> None:
    error = error_of(*GOOD, bad_row)
    assert f"history.csv line 5, {where}: " in error.detail
    assert problem in error.detail
    assert error.field == where.removeprefix("column ")


def test_a_missing_required_column_is_named() -> None:
    error = error_of("2027-01-05,10:00,20,57", header="date,slot,price,sold")
    assert error.detail == "history.csv line 1, column capacity: required column is missing"


def test_a_row_with_too_many_cells_names_its_line() -> None:
    error = error_of(GOOD[0], GOOD[1] + ",surplus")
    assert "history.csv line 3" in error.detail


def test_unknown_columns_are_reported_and_ignored() -> None:
    rows = [row + ",blue" for row in GOOD]
    history = parse_history(
        history_text(*rows, header=HEADER + ",colour"), venue(), source="history.csv"
    )
    assert history.warnings == ["history.csv: ignored unknown column(s) colour"]
    assert history.row_count == 3


def test_rows_on_days_the_venue_is_closed_are_skipped_with_a_warning() -> None:
    monday = "2027-01-04,10:00,120,20,57,3,0,0,4.5,0.0"
    history = parse_history(history_text(monday, *GOOD), venue(), source="history.csv")
    assert dt.date(2027, 1, 4) not in history.days
    assert "skipped 1 row(s) on 1 date(s)" in history.warnings[0]


def test_an_empty_optional_cell_is_unknown_not_an_error() -> None:
    history = parse_history(
        history_text("2027-01-05,10:00,120,20,57,,,,,"), venue(), source="history.csv"
    )
    day = history.days[dt.date(2027, 1, 5)]
    assert day.slots["10:00"].members == 0
    assert day.covariates["temp_c"] is None


def test_files_are_named_by_their_path(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text(history_text(*GOOD, "2027-01-05,11:00,120,20,-3,0,0,0,4,0"), encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"history\.csv line 5, column sold: -3 is negative"):
        load_history(path, venue())
    with pytest.raises(InvalidInput, match="No such file"):
        load_history(tmp_path / "absent.csv", venue())


def test_rows_after_today_are_refused_naming_the_line_and_today_is_taken() -> None:
    text = history_text(*GOOD)
    history = parse_history(text, venue(), source="history.csv", today=dt.date(2027, 1, 6))
    assert history.last_date == dt.date(2027, 1, 6)  # today's rows, though partial
    with pytest.raises(InvalidInput) as caught:
        parse_history(text, venue(), source="history.csv", today=dt.date(2027, 1, 5))
    assert caught.value.detail == (
        "history.csv line 4, column date: 2027-01-06 is after today (2027-01-05); a history "
        "holds days that have begun"
    )
    assert caught.value.field == "date"
    # A future date the venue is shut on is refused too, not skipped as a closed day.
    with pytest.raises(InvalidInput, match="line 2, column date: 2031-01-06 is after today"):
        parse_history(
            history_text("2031-01-06,10:00,120,20,5,0,0,0,4,0"), venue(), today=dt.date(2027, 1, 5)
        )


def test_calendar_checks_and_closed_days(tmp_path: Path) -> None:
    text = "date,holiday,closed,weather\n2027-01-05,1,0,sunny\n2027-01-06,0,1,rain\n"
    calendar = parse_calendar(text, source="calendar.csv")
    assert calendar.days == {dt.date(2027, 1, 5): {"holiday": 1.0}}
    assert calendar.closed == {dt.date(2027, 1, 6)}
    assert calendar.warnings == ["calendar.csv: ignored unknown column(s) weather"]
    for bad, where in [
        ("2027-01-05,1,0,x\n2027-01-05,0,0,x\n", "line 3, column date: 2027-01-05 appears twice"),
        ("2027-02-30,1,0,x\n", "line 2, column date"),
        ("2027-01-05,yes,0,x\n", "line 2, column holiday: 'yes' is not 0 or 1"),
    ]:
        path = tmp_path / "calendar.csv"
        path.write_text("date,holiday,closed,weather\n" + bad, encoding="utf-8")
        with pytest.raises(InvalidInput, match=where):
            load_calendar(path)


D_HEADER = HEADER + ",disrupted"


@pytest.mark.parametrize(
    ("rows", "line", "problem"),
    [
        (["2027-01-05,10:00,120,20,57,3,0,0,4.5,0.0,2"], 2, "'2' is not 0 or 1"),
        (["2027-01-05,10:00,120,20,57,3,0,0,4.5,0.0,yes"], 2, "'yes' is not 0 or 1"),
        (
            [
                "2027-01-05,10:00,120,20,57,3,0,0,4.5,0.0,1",
                "2027-01-05,10:30,120,20,9,0,0,0,4.5,0.0,0",
            ],
            3,
            "0 differs from 1 on an earlier row of 2027-01-05; a day has one value",
        ),
        (
            [
                "2027-01-05,10:00,120,20,57,3,0,0,4.5,0.0,1",
                "2027-01-05,10:30,120,20,9,0,0,0,4.5,0.0,",
            ],
            3,
            "empty differs from 1",
        ),
        # A disrupted row is checked like any other.
        (["2027-01-05,10:00,120,20,121,0,0,0,4.5,0.0,1"], 2, "above the capacity"),
    ],
)
def test_a_bad_disrupted_cell_names_file_line_and_column(
    rows: list[str], line: int, problem: str
) -> None:
    error = error_of(*rows, header=D_HEADER)
    column = "sold" if "capacity" in problem else "disrupted"
    assert f"history.csv line {line}, column {column}: " in error.detail
    assert problem in error.detail
    assert error.field == column


def test_disrupted_days_are_kept_apart_from_the_days_fits_read() -> None:
    rows = [
        "2027-01-05,10:00,120,20,57,3,0,0,4.5,0.0,0",
        "2027-01-06,10:00,120,20,4,90,0,0,3.0,2.5,1",  # a strike: 4 sold, members anyway
        "2027-01-07,10:00,120,20,41,2,0,0,3.0,2.5,",  # empty: not disrupted
    ]
    history = parse_history(history_text(*rows, header=D_HEADER), venue(), source="history.csv")
    assert list(history.days) == [dt.date(2027, 1, 5), dt.date(2027, 1, 7)]
    assert list(history.disrupted) == [dt.date(2027, 1, 6)]
    assert history.disrupted[dt.date(2027, 1, 6)].slots["10:00"].sold == 4
    assert history.covariate_columns == ("holiday", "event", "temp_c", "precip_mm")
    assert history.warnings == [
        "history.csv: 1 disrupted day(s) (2027-01-06) left out of the fit: their sales are not "
        "demand"
    ]
    kept = history.select(lambda date: date >= dt.date(2027, 1, 6))
    assert list(kept.days) == [dt.date(2027, 1, 7)]
    assert list(kept.disrupted) == [dt.date(2027, 1, 6)]
    # Members averages read the days that are demand only.
    assert recent_members(history) == {(1, "10:00"): 3.0, (3, "10:00"): 2.0}


def test_a_history_of_disrupted_days_only_is_refused() -> None:
    error = error_of("2027-01-05,10:00,120,20,5,0,0,0,4.5,0.0,1", header=D_HEADER)
    assert error.detail == "history.csv: no rows on open days that are not disrupted"
