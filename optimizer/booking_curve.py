"""How much of a day's demand is still to come, some days before the visit.

A lead time is the whole days between the booking date and the visit date (0: booked for
today). Re-optimising as of the start of a day `d` days before the visit, the buyers still to
come are those whose lead time is at most `d`, so the share still to come is P(lead <= d).

- Learned: `BookingCurve.from_bookings(...)` counts the lead times of past bookings (the
  bookings CSV: `date,booked_on[,tickets]`, one row per sale or per day and booking date). It
  is the empirical distribution, with no shape assumed: a venue where half the visitors book
  on the day gets that curve. Only visit dates whose sale is over count: a date still on sale
  lacks its late (short-lead) bookings and would make the curve look earlier than it is, so
  `visits_before` leaves those out.
- Default (the history carries no lead times): exponential with a mean of
  DEFAULT_MEAN_LEAD_DAYS, P(lead <= d) = 1 - exp(-(d + 1) / mean): about 13% on the day, 68% a
  week ahead, 99% a month ahead. The booking-season simulator draws its customers' booking
  times from the same curve (optimizer/simulation/reoptimise.py).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass

from pricing.calendar import parse_date
from pricing.errors import InvalidInput

DEFAULT_MEAN_LEAD_DAYS = 7.0
MIN_BOOKINGS = 30  # fewer lead times than this say too little about the curve's shape


def remaining_demand_share(
    days_before: int, mean_lead_days: float = DEFAULT_MEAN_LEAD_DAYS
) -> float:
    """Share of the day's buyers who have not booked yet, `days_before` days before the visit,
    on the default (exponential) curve."""
    if days_before < 0:
        return 0.0  # the day is over: nobody is still to come
    return 1.0 - math.exp(-(days_before + 1) / mean_lead_days)


@dataclass(frozen=True)
class BookingCurve:
    """The share of a day's buyers still to come `days_before` days ahead (callable).

    `cumulative[d]` is P(lead <= d) for d = 0 .. len - 1; beyond the last, everyone is still to
    come. Without a table, the default exponential curve with `mean_lead_days`."""

    cumulative: tuple[float, ...] = ()
    mean_lead_days: float = DEFAULT_MEAN_LEAD_DAYS
    bookings: int = 0  # tickets it was learned from (0: the default)
    left_out: int = 0  # tickets of visit dates still on sale, not learned from

    def __call__(self, days_before: int) -> float:
        if days_before < 0:
            return 0.0
        if not self.cumulative:
            return remaining_demand_share(days_before, self.mean_lead_days)
        if days_before >= len(self.cumulative):
            return 1.0
        return self.cumulative[days_before]

    @property
    def learned(self) -> bool:
        return bool(self.cumulative)

    def describe(self) -> str:
        if not self.learned:
            mean = self.mean_lead_days
            return f"booking curve: the default (lead times exponential, mean {mean:g} days)"
        left_out = f" ({self.left_out:,} of dates still on sale left out)" if self.left_out else ""
        return (
            f"booking curve learned from {self.bookings:,} booked tickets{left_out}: "
            f"{1 - self(0):.0%} booked before the day, {1 - self(6):.0%} a week or more ahead, "
            f"{self.mean_lead_days:.1f} whole days ahead on average"
        )

    @classmethod
    def from_lead_times(cls, leads: Iterable[tuple[int, int]]) -> BookingCurve:
        """From (lead days, tickets) pairs. Raises InvalidInput when there are too few."""
        counts: dict[int, int] = {}
        for lead, tickets in leads:
            if lead < 0:
                raise InvalidInput("a lead time is negative (booked after the visit)", field="lead")
            counts[lead] = counts.get(lead, 0) + tickets
        total = sum(counts.values())
        if total < MIN_BOOKINGS:
            raise InvalidInput(
                f"too few bookings: {total} ticket(s) with a booking date; at least {MIN_BOOKINGS} "
                "are needed to learn a booking curve",
                field="bookings",
            )
        running, cumulative = 0, []
        for lead in range(max(counts) + 1):
            running += counts.get(lead, 0)
            cumulative.append(running / total)
        mean = sum(lead * n for lead, n in counts.items()) / total
        return cls(tuple(cumulative), mean_lead_days=mean, bookings=total)


def parse_bookings_csv(
    text: str, *, source: str = "bookings", visits_before: dt.date | None = None
) -> BookingCurve:
    """`date,booked_on[,tickets]` rows (visit date, booking date, tickets; 1 when absent) to a
    learned booking curve; visit dates from `visits_before` on (still on sale) are left out.
    Errors name the line and column."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"date", "booked_on"} - set(reader.fieldnames or ())
    if missing:
        raise InvalidInput(f"{source}: missing column(s) {', '.join(sorted(missing))}")
    has_tickets = "tickets" in (reader.fieldnames or ())
    leads: list[tuple[int, int]] = []
    left_out = 0
    for line, row in enumerate(reader, start=2):
        where = f"{source} line {line}"
        visit = _date(row["date"], where, "date")
        booked = _date(row["booked_on"], where, "booked_on")
        if booked > visit:
            raise InvalidInput(
                f"{where}: booked_on: {booked} is after the visit date {visit}", field="booked_on"
            )
        tickets = 1
        if has_tickets:
            text_tickets = (row["tickets"] or "").strip()
            if not (text_tickets.isascii() and text_tickets.isdigit()):
                raise InvalidInput(
                    f"{where}: tickets: {text_tickets!r} is not a whole number >= 0",
                    field="tickets",
                )
            tickets = int(text_tickets)
        if visits_before is not None and visit >= visits_before:
            left_out += tickets
            continue
        leads.append(((visit - booked).days, tickets))
    try:
        curve = BookingCurve.from_lead_times(leads)
    except InvalidInput as exc:
        raise InvalidInput(f"{source}: {exc.detail}", field="bookings") from None
    return dataclasses.replace(curve, left_out=left_out)


def _date(value: str | None, where: str, column: str) -> dt.date:
    try:
        return parse_date((value or "").strip(), field=column)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {column}: {exc.detail}", field=column) from None
