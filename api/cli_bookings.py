"""Re-optimising with the bookings on hand, from the command line: `--sold`, `--sold-live`,
`--as-of` and `--bookings` of `yieldgate optimize` and `yieldgate plan`.

The places sold so far come from a CSV (`--sold`, date,slot,sold) or, for `plan --sold-live`,
from where the checkout sells: a running service (`GET /v1/venues/{venue}/inventory/{date}`
with a manager key) or straight from REDIS_URL, as `--publish` writes there. `--bookings`
(date,booked_on[,tickets]) teaches the optimizer how much of a date's demand is still to come
(optimizer/booking_curve.py); without it the documented default curve is used. The service's
modules and the optimizer are imported inside the functions, so building the parser stays light.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from api.cli_common import read_text, say
from pricing.errors import InvalidInput, ServiceUnavailable

if TYPE_CHECKING:
    from optimizer.booking_curve import BookingCurve
    from pricing.venue import Venue

SoldCounts = dict[tuple[dt.date, str], int]


def add_bookings_arguments(command: argparse.ArgumentParser, *, live: bool) -> None:
    sources = command.add_mutually_exclusive_group()
    sources.add_argument(
        "--sold",
        metavar="S",
        help="CSV of places already sold (date,slot,sold): re-optimise the demand still to come",
    )
    if live:
        sources.add_argument(
            "--sold-live",
            action="store_true",
            help="read the places sold from the running service (--url, --key) or, without "
            "--url, from the store at REDIS_URL",
        )
    command.add_argument(
        "--as-of",
        metavar="DATE",
        help="the first day whose bookings the places sold do not hold yet (YYYY-MM-DD; "
        "default: tomorrow at the venue, as counts taken today hold today's bookings)",
    )
    command.add_argument(
        "--bookings",
        metavar="B",
        help="CSV of past bookings (date,booked_on[,tickets]) to learn how much of a date's "
        "demand is still to come; visit dates from --as-of on are left out (default: a "
        "documented curve, mean lead 7 days)",
    )


@dataclass(frozen=True)
class BookingsOnHand:
    sold: SoldCounts | None = None  # None: plan the whole season (or, with live, not read yet)
    as_of: dt.date | None = None
    curve: BookingCurve | None = None  # None: the optimizer's default
    live: bool = False  # the places sold are to be read from the service or the store


def check_bookings_arguments(args: argparse.Namespace) -> None:
    """What can be told wrong from the flags alone."""
    re_optimising = bool(args.sold or getattr(args, "sold_live", False))
    if args.as_of and not re_optimising:
        raise InvalidInput("--as-of goes with --sold", field="--as-of")
    if args.bookings and not re_optimising:
        raise InvalidInput(
            "--bookings is for re-optimising with the places sold (--sold)", field="--bookings"
        )


def read_bookings_arguments(args: argparse.Namespace, venue: Venue) -> BookingsOnHand:
    """The flags and files, read and checked before anything is fitted (not the live counts:
    `with_live_counts` reads those once the dates are known)."""
    from optimizer.booking_curve import parse_bookings_csv
    from optimizer.forecast_io import parse_sold_csv
    from pricing.calendar import parse_date

    check_bookings_arguments(args)
    live = bool(getattr(args, "sold_live", False))
    if not (args.sold or live):
        return BookingsOnHand()
    try:
        as_of = parse_date(args.as_of, field="--as-of") if args.as_of else None
    except InvalidInput as exc:
        raise InvalidInput(f"--as-of: {exc.detail}", field="--as-of") from None
    as_of = as_of or dt.datetime.now(venue.zone).date() + dt.timedelta(days=1)
    sold = parse_sold_csv(read_text(args.sold, "--sold"), source=args.sold) if args.sold else None
    curve = None
    if args.bookings:
        text = read_text(args.bookings, "--bookings")
        curve = parse_bookings_csv(text, source=args.bookings, visits_before=as_of)
        say(curve.describe())
    return BookingsOnHand(sold, as_of, curve, live)


def with_live_counts(
    on_hand: BookingsOnHand,
    venue: Venue,
    dates: Sequence[dt.date],
    url: str | None,
    key: str | None,
) -> BookingsOnHand:
    if not on_hand.live:
        return on_hand
    sold = live_sold_counts(venue.id, dates, url, key)
    say(f"read {sum(sold.values()):,} place(s) sold on {len(dates)} date(s)")
    return dataclasses.replace(on_hand, sold=sold)


def live_sold_counts(
    venue: str, dates: Sequence[dt.date], url: str | None, key: str | None
) -> SoldCounts:
    """Places sold per (date, slot) on `dates`; raises YieldgateError with a one-line reason."""
    if url:
        return _over_http(venue, dates, url, key)
    from api.settings import get_settings

    if not get_settings().redis_url:
        raise InvalidInput(
            "say where to read the places sold: --url of a running service, or REDIS_URL",
            field="sold",
        )
    return asyncio.run(_from_store(venue, dates))


def _over_http(venue: str, dates: Sequence[dt.date], url: str, key: str | None) -> SoldCounts:
    if not key:
        raise InvalidInput("--key (a manager key) is needed to read the places sold", field="key")
    counts: SoldCounts = {}
    for date in dates:
        path = f"/v1/venues/{urllib.parse.quote(venue)}/inventory/{date.isoformat()}"
        request = urllib.request.Request(
            url.rstrip("/") + path, headers={"Authorization": f"Bearer {key}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = _json_object(response.read(), url)
        except urllib.error.HTTPError as exc:
            answer = _json_object(exc.read(), url, exc.code)
            detail = answer.get("detail", f"HTTP {exc.code}")
            raise InvalidInput(f"places sold on {date}: {detail}", field="sold") from None
        except urllib.error.URLError as exc:
            raise ServiceUnavailable(f"cannot reach {url}: {exc.reason}") from None
        except (TimeoutError, OSError) as exc:
            raise ServiceUnavailable(f"{url} did not answer: {exc}") from None
        counts.update(_day_counts(date, body.get("sold", {})))
    return counts


def _json_object(raw: bytes, url: str, status: int | None = None) -> dict[str, Any]:
    """A yieldgate answer, or ServiceUnavailable saying what answered instead."""
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        code = f" (HTTP {status})" if status else ""
        raise ServiceUnavailable(f"{url} gave an answer that is not yieldgate's{code}")
    return body


async def _from_store(venue: str, dates: Sequence[dt.date]) -> SoldCounts:
    from api.settings import get_settings
    from api.store.connect import open_store

    store = open_store(get_settings())
    counts: SoldCounts = {}
    try:
        for date in dates:
            counts.update(_day_counts(date, await store.sold_counts(venue, date.isoformat())))
    finally:
        await store.close()
    return counts


def _day_counts(date: dt.date, sold: object) -> SoldCounts:
    if not isinstance(sold, dict) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in sold.values()
    ):
        raise InvalidInput(f"places sold on {date}: not an object of slot counts", field="sold")
    return {(date, str(slot)): n for slot, n in sold.items() if n > 0}
