"""Sales (honouring a signed quote), cancellations and inventory reconciliation."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from api import metrics
from api.clock import Clock, iso_utc
from api.plan_cache import PlanCache
from api.store import SaleRequest, SaleResult, Store, StoreLost
from api.venues import VenueRegistry
from pricing.calendar import check_slot, entry_slots, parse_date, sale_day
from pricing.errors import Conflict, InvalidInput, NotFound, SoldOut, YieldgateError
from pricing.money import to_units, vat_included
from pricing.token import QuoteSigner, check_fresh, match_order
from pricing.venue import Venue


def fingerprint(body: Mapping[str, Any]) -> str:
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


class SaleService:
    def __init__(
        self,
        venues: VenueRegistry,
        store: Store,
        plans: PlanCache,
        signer: QuoteSigner,
        clock: Clock,
    ) -> None:
        self._venues = venues
        self._store = store
        self._plans = plans
        self._signer = signer
        self._clock = clock

    async def _capacities(self, venue: Venue, date: str, slots: tuple[str, ...]) -> dict[str, int]:
        """Each slot's capacity in the live plan (what sales are held to), else the venue's."""
        version = await self._store.current_version(venue.id)
        plan = await self._plans.plan_for(venue.id, version) if version else None
        day = plan.days.get(parse_date(date), {}) if plan else {}
        return {s: day[s].capacity if s in day else venue.capacity_of(s) for s in slots}

    async def sell(
        self,
        order_id: str,
        venue_id: str,
        date: str,
        slot: str,
        tickets: dict[str, int],
        token: str,
    ) -> tuple[bytes, bool]:
        """The sale's record, and whether it was recorded now (False: a replay)."""
        now = self._clock()
        claims = self._signer.verify_signature(token)
        match_order(claims, venue=venue_id, date=date, slot=slot, tickets=tickets)
        venue = self._venues.get(venue_id)
        digest = fingerprint(
            {
                "venue": venue.id,
                "date": date,
                "slot": slot,
                "tickets": claims.tickets,
                "token": token,
            }
        )
        if now.timestamp() >= claims.expires_at:
            # A retry of a sale that went through still gets its first answer.
            replayed = await self._store.replayed_sale(venue.id, order_id, digest)
            if replayed is not None:
                metrics.SALES.labels("replayed").inc()
                return replayed, False
            check_fresh(claims, now=int(now.timestamp()))
        check_slot(venue, sale_day(venue, date, now), slot)
        record = {
            "order_id": order_id,
            "status": "confirmed",
            "venue": venue.id,
            "date": date,
            "slot": slot,
            "currency": venue.currency,
            "lines": [
                {
                    "segment": segment,
                    "quantity": quantity,
                    "unit_prices": [to_units(p) for p in units],
                    "amount": to_units(sum(units)),
                }
                for segment, quantity, units in claims.lines
            ],
            "total": to_units(claims.total),
            "vat": to_units(vat_included(claims.total, venue.vat_rate)),
            "quote_id": claims.quote_id,
            "plan_version": claims.plan_version,
            "recorded_at": iso_utc(now),
        }
        request = SaleRequest(
            order_id=order_id,
            venue=venue.id,
            date=date,
            slot=slot,
            quantity=sum(claims.tickets.values()),
            fingerprint=digest,
            record=orjson.dumps(record),
            quote_id=claims.quote_id,
            quote_expires_at=claims.expires_at,
        )
        result = await self._store.record_sale(request)
        metrics.SALES.labels(result.outcome).inc()
        if result.outcome in ("recorded", "replayed"):
            assert result.record is not None
            return result.record, result.outcome == "recorded"
        raise _refusal(result, request)

    async def cancel(self, order_id: str) -> dict[str, Any]:
        result = await self._store.cancel_sale(order_id, iso_utc(self._clock()))
        metrics.SALES.labels(f"cancel_{result.outcome}").inc()
        if result.outcome == "not_found":
            lost = await self._store.lost_venues()
            if lost:  # the order may be among what the store lost: no answer is true yet
                raise StoreLost(
                    f"order {order_id!r} is not in the store, which lost the data of "
                    f"{', '.join(sorted(lost))}; cancellations resume once it is recovered"
                )
            raise NotFound(f"no sale with order id {order_id!r}", field="order_id")
        return {
            "order_id": order_id,
            "status": "cancelled",
            "venue": result.venue,
            "date": result.date,
            "slot": result.slot,
            "released": result.quantity if result.outcome == "cancelled" else 0,
            "already_cancelled": result.outcome == "already_cancelled",
            "cancelled_at": result.cancelled_at,
        }

    async def inventory(self, venue_id: str, date: str) -> dict[str, Any]:
        venue = self._venues.get(venue_id)
        slots = self._slots(venue, date)
        sold = await self._store.sold_counts(venue.id, date)
        return {
            "venue": venue.id,
            "date": date,
            "sold": {slot: sold.get(slot, 0) for slot in slots},
            "capacity": await self._capacities(venue, date, slots),
        }

    async def reconcile(self, venue_id: str, date: str, sold: Mapping[str, int]) -> dict[str, Any]:
        """Replace the day's sold counts with the ticketing system's, after checking them all."""
        venue = self._venues.get(venue_id)
        slots = self._slots(venue, date)
        capacities = await self._capacities(venue, date, slots)
        for slot, count in sold.items():
            if slot not in slots:
                raise InvalidInput(f"{slot} is not an entry slot on {date}", field=f"sold.{slot}")
            if count < 0:
                raise InvalidInput(f"sold must be 0 or more, got {count}", field=f"sold.{slot}")
            capacity = capacities[slot]
            if count > capacity:
                raise InvalidInput(
                    f"{count} sold is above the slot's capacity of {capacity}",
                    field=f"sold.{slot}",
                )
        await self._store.set_sold(venue.id, date, {s: c for s, c in sold.items() if c})
        return await self.inventory(venue_id, date)

    def _slots(self, venue: Venue, date: str) -> tuple[str, ...]:
        slots = entry_slots(venue, parse_date(date))
        if not slots:
            raise NotFound(f"{venue.display_name()} is closed on {date}", field="date")
        return slots


def _refusal(result: SaleResult, sale: SaleRequest) -> YieldgateError:
    """Why a sale was not recorded, naming what the caller must change."""
    where = f"{sale.slot} on {sale.date}"
    if result.outcome == "conflict":
        return Conflict(
            f"order {sale.order_id!r} was already used for a different sale", field="order_id"
        )
    if result.outcome == "quote_used":
        return Conflict(
            f"quote {sale.quote_id} was already used by order {result.used_by!r}; a quote pays "
            "for one order: ask for a new quote",
            field="token",
            quote_id=sale.quote_id,
        )
    if result.outcome == "not_on_sale":
        return Conflict(f"{where} is not on sale in the live plan", field="slot")
    if result.outcome == "store_lost":
        return StoreLost(
            f"the store lost {sale.venue}'s sales (it restarted empty?); sales resume once an "
            "operator has recovered it (README: Recovering a store that lost its data)"
        )
    return SoldOut(
        f"{where} has {result.remaining} tickets left, the order needs {sale.quantity}",
        field="slot",
        remaining=result.remaining,
    )
