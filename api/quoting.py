"""Quotes and the day's price list: the checkout's hot path.

One store round trip (sold counts and live plan version together), the compiled plan from the
in-process cache, the pure computation in `pricing.quote`, and a signed token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson

from api import metrics
from api.clock import Clock, iso_utc
from api.day_state import DayStateReader, PricingState
from api.responses import alternatives_json
from api.venues import VenueRegistry
from pricing.calendar import check_slot, sale_day
from pricing.errors import SoldOut
from pricing.money import to_units
from pricing.quote import (
    PricedOrder,
    check_tickets,
    find_day,
    find_slot,
    list_offers,
    quote_order,
)
from pricing.token import QuoteSigner, TokenClaims

Result = TypeVar("Result")


class StateMemo(Generic[Result]):
    """Results worked out from one day state, reused while the day cache returns that state.

    The day cache hands back the very same sold-counts object until the day changes, so its
    identity (and the plan version) tells that nothing a result depends on has moved.
    """

    def __init__(self, max_entries: int = 4096) -> None:
        self._max_entries = max_entries
        self._entries: dict[Hashable, tuple[object, str, Result]] = {}

    def get(self, key: Hashable, state: PricingState) -> Result | None:
        hit = self._entries.get(key)
        if hit is not None and hit[0] is state.sold and hit[1] == state.plan.version:
            return hit[2]
        return None

    def put(self, key: Hashable, state: PricingState, result: Result) -> Result:
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[key] = (state.sold, state.plan.version, result)
        return result


@dataclass(frozen=True, slots=True)
class PricedQuote:
    """What a quote says that does not change from one request to the next."""

    lines: tuple[tuple[str, int, tuple[int, ...]], ...]
    total: int
    body: dict[str, Any]  # the answer's fields from venue to plan_version


@dataclass(frozen=True, slots=True)
class PriceList:
    body: bytes  # JSON
    etag: str


class QuoteService:
    def __init__(
        self,
        venues: VenueRegistry,
        day_states: DayStateReader,
        signer: QuoteSigner,
        clock: Clock,
        *,
        ttl_seconds: int,
        max_tickets: int,
        few_left_share: float,
    ) -> None:
        self._venues = venues
        self._day_states = day_states
        self._signer = signer
        self._clock = clock
        self._ttl = dt.timedelta(seconds=ttl_seconds)
        self._max_tickets = max_tickets
        self._few_left_share = few_left_share
        self._price_lists: StateMemo[PriceList] = StateMemo()
        self._priced_quotes: StateMemo[PricedQuote] = StateMemo()

    async def quote(
        self, venue_id: str, date_text: str, slot: str, tickets: Mapping[str, int]
    ) -> dict[str, Any]:
        venue = self._venues.get(venue_id)
        ordered = check_tickets(tickets, venue.segments, self._max_tickets)
        now = self._clock()
        day = sale_day(venue, date_text, now)
        check_slot(venue, day, slot)
        state = await self._day_states.read(venue.id, date_text)
        key = (venue.id, date_text, slot, tuple(ordered.items()), day.from_minute, state.stale)
        priced = self._priced_quotes.get(key, state)
        if priced is None:
            plan_day = find_day(state.plan, day.date)
            pricing = find_slot(plan_day, day.date, slot)
            try:
                order = quote_order(
                    state.plan,
                    plan_day,
                    pricing,
                    state.sold,
                    ordered,
                    venue.vat_rate,
                    day.from_minute,
                )
            except SoldOut:
                QUOTES_SOLD_OUT.inc()
                raise
            priced = self._priced_quotes.put(
                key, state, priced_quote(venue.id, date_text, slot, state, order)
            )
        claims = TokenClaims(
            quote_id=f"q_{secrets.token_hex(8)}",
            venue=venue.id,
            date=date_text,
            slot=slot,
            lines=priced.lines,
            total=priced.total,
            plan_version=state.plan.version,
            expires_at=int((now + self._ttl).timestamp()),
        )
        (QUOTES_STALE if state.stale else QUOTES_QUOTED).inc()
        return {
            "quote_id": claims.quote_id,
            **priced.body,
            "expires_at": iso_utc(dt.datetime.fromtimestamp(claims.expires_at, dt.UTC)),
            "stale": state.stale,
            "token": self._signer.sign(claims),
        }

    async def prices(self, venue_id: str, date_text: str) -> PriceList:
        """The day's price list, serialised once per change of the day's state.

        The day cache hands back the same sold-counts object until something changes, so a
        list built from it can be served again as it is: the slot picker is most of the traffic.
        """
        venue = self._venues.get(venue_id)
        day = sale_day(venue, date_text, self._clock())
        state = await self._day_states.read(venue.id, date_text)
        key = (venue.id, date_text, day.from_minute, state.stale)
        cached = self._price_lists.get(key, state)
        if cached is not None:
            return cached
        plan_day = find_day(state.plan, day.date)
        offers = list_offers(
            state.plan, plan_day, state.sold, day.from_minute, self._few_left_share
        )
        body = orjson.dumps(
            {
                "venue": venue.id,
                "date": date_text,
                "currency": state.plan.currency,
                "plan_version": state.plan.version,
                "stale": state.stale,
                "slots": [
                    {
                        "slot": offer.slot,
                        "capacity": offer.capacity,
                        "remaining": offer.remaining,
                        "availability": offer.availability,
                        "price": to_units(offer.price),
                        "segment_prices": {s: to_units(p) for s, p in offer.segment_prices.items()},
                        "off_peak": offer.off_peak,
                        "saving": to_units(offer.saving),
                    }
                    for offer in offers
                ],
            }
        )
        etag = f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
        return self._price_lists.put(key, state, PriceList(body, etag))


QUOTES_QUOTED = metrics.QUOTES.labels("quoted")
QUOTES_STALE = metrics.QUOTES.labels("stale")
QUOTES_SOLD_OUT = metrics.QUOTES.labels("sold_out")


def priced_quote(
    venue: str, date: str, slot: str, state: PricingState, order: PricedOrder
) -> PricedQuote:
    return PricedQuote(
        lines=tuple((line.segment, line.quantity, line.unit_prices) for line in order.lines),
        total=order.total,
        body={
            "venue": venue,
            "date": date,
            "slot": slot,
            "currency": state.plan.currency,
            "lines": [
                {
                    "segment": line.segment,
                    "quantity": line.quantity,
                    "unit_prices": [to_units(p) for p in line.unit_prices],
                    "amount": to_units(line.amount),
                }
                for line in order.lines
            ],
            "total": to_units(order.total),
            "vat": to_units(order.vat),
            "off_peak": order.off_peak,
            "saving": to_units(order.saving),
            "explanation": order.explanation,
            "alternatives": alternatives_json(order.alternatives),
            "plan_version": state.plan.version,
        },
    )
