"""The booking curve: the default, one learned from booking dates, and the optimizer using it."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest
from test_optimizer_plan import PEAK, VENUE_FILE, forecast_data

from forecasting.world import write_demo
from optimizer.booking_curve import (
    BookingCurve,
    parse_bookings_csv,
    remaining_demand_share,
)
from optimizer.forecast_io import parse_forecast
from optimizer.run import OptimizerSettings, optimize
from optimizer.simulation.reoptimise import booking_times
from pricing.errors import InvalidInput
from pricing.venue import Venue, parse_venue_toml


@pytest.fixture(scope="module")
def venue() -> Venue:
    return parse_venue_toml(VENUE_FILE.read_text(), source=str(VENUE_FILE))


def test_the_default_is_the_exponential_curve() -> None:
    curve = BookingCurve()
    assert not curve.learned
    for days in (0, 3, 7, 30):
        assert curve(days) == remaining_demand_share(days) == 1 - math.exp(-(days + 1) / 7)
    assert curve(-1) == 0.0
    assert "default" in curve.describe()


def test_a_learned_curve_is_the_share_of_lead_times_at_most_d() -> None:
    curve = BookingCurve.from_lead_times([(0, 10), (1, 20), (3, 10)])
    assert curve.cumulative == (0.25, 0.75, 0.75, 1.0)
    assert [curve(d) for d in (-1, 0, 1, 2, 3, 4, 90)] == [0.0, 0.25, 0.75, 0.75, 1.0, 1.0, 1.0]
    assert curve.mean_lead_days == pytest.approx((0 * 10 + 1 * 20 + 3 * 10) / 40)
    assert curve.bookings == 40
    assert "learned from 40 booked tickets" in curve.describe()


def test_it_recovers_the_curve_the_simulated_customers_book_on() -> None:
    # Booking times as the simulator draws them (exponential leads, mean 7, counted back from
    # the end of the visit day): the learned curve is the default within sampling error.
    rng = np.random.default_rng(5)
    visit_day = 100
    times = booking_times(rng, visit_day, 20_000, 7.0)
    leads = visit_day - np.floor(times).astype(int)
    curve = BookingCurve.from_lead_times((int(lead), 1) for lead in leads)
    for days in (0, 1, 3, 7, 14, 28):
        assert curve(days) == pytest.approx(remaining_demand_share(days), abs=0.01)
    # The mean of whole-day leads is the exponential's mean less about half a day.
    assert curve.mean_lead_days == pytest.approx(1 / (math.exp(1 / 7) - 1), abs=0.15)


def test_the_bookings_csv_is_read_and_checked() -> None:
    rows = "".join(f"2027-01-05,2027-01-0{d},{n}\n" for d, n in ((5, 15), (4, 10), (2, 15)))
    curve = parse_bookings_csv("date,booked_on,tickets\n" + rows, source="b.csv")
    assert curve.cumulative == (15 / 40, 25 / 40, 25 / 40, 1.0)
    one_each = "date,booked_on\n" + "2027-01-05,2027-01-01\n" * 30
    assert parse_bookings_csv(one_each).cumulative == (0, 0, 0, 0, 1.0)
    cases = {
        "date\n2027-01-05\n": "b.csv: missing column(s) booked_on",
        "date,booked_on\n2027-01-05,2027-01-06\n": (
            "b.csv line 2: booked_on: 2027-01-06 is after the visit date 2027-01-05"
        ),
        "date,booked_on\n2027-13-05,2027-01-01\n": "b.csv line 2: date:",
        "date,booked_on,tickets\n2027-01-05,2027-01-01,two\n": (
            "b.csv line 2: tickets: 'two' is not a whole number"
        ),
        "date,booked_on\n2027-01-05,2027-01-01\n": "b.csv: too few bookings: 1 ticket(s)",
    }
    for text, message in cases.items():
        with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
            parse_bookings_csv(text, source="b.csv")


def test_the_optimizer_plans_for_what_the_curve_says_is_still_to_come(venue: Venue) -> None:
    forecast = parse_forecast(forecast_data(venue, [6000]))
    sold = {(PEAK, "12:00"): 100}
    as_of = PEAK - dt.timedelta(days=3)
    on_the_day = BookingCurve.from_lead_times([(0, 100)])  # nobody books ahead
    late = optimize(
        venue,
        forecast,
        sold=sold,
        as_of=as_of,
        settings=OptimizerSettings(booking_curve=on_the_day),
    )
    usual = optimize(venue, forecast, sold=sold, as_of=as_of)
    assert late.plan is not None and usual.plan is not None
    # All of the market is still to come against 1 - exp(-4/7) of it: more to sell, and dearer.
    assert late.kpis[0].revenue > usual.kpis[0].revenue
    assert late.kpis[0].attendance > usual.kpis[0].attendance


def test_the_demo_worlds_bookings_give_back_its_booking_curve(tmp_path: Path) -> None:
    world = write_demo(tmp_path, seed=7)
    assert world.truth["mean_lead_days"] == 7.0
    text = (tmp_path / "bookings.csv").read_text(encoding="utf-8")
    curve = parse_bookings_csv(text, source="bookings.csv")
    last_days = {
        row["date"]
        for row in world.history_rows
        if row["date"] >= str(dt.date.fromisoformat(world.truth["history_end"]) - dt.timedelta(27))
    }
    sold = sum(int(r["sold"]) for r in world.history_rows if r["date"] in last_days)
    assert curve.bookings == sold  # every ticket of those days, once
    for days in (0, 1, 3, 7, 14, 28):
        assert curve(days) == pytest.approx(remaining_demand_share(days, 7.0), abs=0.01)
    # Its own random stream: the history is the one a world without bookings has.
    without = write_demo(tmp_path / "without", seed=7, booking_days=0)
    assert without.bookings_rows == []
    assert without.history_csv() == world.history_csv()


def test_dates_still_on_sale_are_left_out_and_an_excel_export_reads(tmp_path: Path) -> None:
    rows = "".join(f"2027-01-0{d},2027-01-01,10\n" for d in (1, 2, 3, 4, 5))
    curve = parse_bookings_csv("date,booked_on,tickets\n" + rows, visits_before=dt.date(2027, 1, 4))
    assert (curve.bookings, curve.left_out) == (30, 20)
    assert curve.cumulative == (1 / 3, 2 / 3, 1.0)
    assert "(20 of dates still on sale left out)" in curve.describe()
    with pytest.raises(InvalidInput, match=r"tickets: '²' is not a whole number"):
        parse_bookings_csv("date,booked_on,tickets\n2027-01-05,2027-01-01,²\n")
