"""The Store on Redis: every write is one Lua script or one MULTI/EXEC, so each method is atomic.

Every key of a venue carries the venue as a hash tag (`yg:{city-museum}:...`), so a venue's keys
share one Redis Cluster slot and a script may touch all of them. The only key outside a venue's
slot is the order index (`yg:orders:<order id>` -> venue), which `cancel_sale` needs because it
is given nothing but the order id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal, cast

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from api.store.base import (
    AuditEntry,
    CancelResult,
    Capacities,
    DayState,
    DocumentKind,
    PlanMeta,
    PublishResult,
    RollbackResult,
    SaleRequest,
    SaleResult,
    StoredDocument,
    StoredScenario,
    StoreLost,
    StoreUnavailable,
)
from api.store.day_cache import DayCache
from pricing.plan import parse_plan, plan_capacities

log = logging.getLogger("yieldgate.store")
NOTICE_RETRY_SECONDS = 0.5
NOTICE_READ_SECONDS = 1.0  # each wait for a change notice; also how soon the listener sees close
ORDER_TTL_SECONDS = 400 * 24 * 3600  # long enough to replay or cancel any order of the season
AUDIT_MAX_ENTRIES = 10_000
# A used quote is remembered this long past its expiry, for clocks that differ between workers.
QUOTE_MEMORY_MARGIN_SECONDS = 60

# KEYS: order hash, the day's sold hash, the quote's use, current version, generation marker
# ARGV: fingerprint, date, slot, quantity, record, order ttl seconds, notice channel, notice,
#       order id, quote ttl seconds, expected generation, capacity-key prefix
# The capacity key is built here from the live version read in this same script (it carries the
# venue's hash tag like every key above), so the check uses whatever plan is live at the sale.
_SALE_LUA = """
local order_key, sold_key, quote_key = KEYS[1], KEYS[2], KEYS[3]
local current_key, generation_key = KEYS[4], KEYS[5]
local fingerprint, date, slot = ARGV[1], ARGV[2], ARGV[3]
local quantity, record, ttl = tonumber(ARGV[4]), ARGV[5], ARGV[6]

if redis.call('EXISTS', order_key) == 1 then
  local stored = redis.call('HMGET', order_key, 'fingerprint', 'record')
  if stored[1] == fingerprint then
    return {'replayed', stored[2]}
  end
  return {'conflict'}
end

local generation = redis.call('GET', generation_key)
if generation ~= ARGV[11] then
  if not generation then
    return {'store_lost'}
  end
  return {'generation', generation}
end

local used_by = redis.call('GET', quote_key)
if used_by then
  return {'quote_used', used_by}
end

local version = redis.call('GET', current_key)
if not version then
  return {'not_on_sale'}
end
local capacity_key = ARGV[12] .. version
local capacity = redis.call('HGET', capacity_key, date .. ' ' .. slot)
if not capacity then
  if redis.call('EXISTS', capacity_key) == 0 then
    return {'unindexed', version}
  end
  return {'not_on_sale'}
end
capacity = tonumber(capacity)

local sold = tonumber(redis.call('HGET', sold_key, slot) or '0')
if sold + quantity > capacity then
  return {'sold_out', math.max(capacity - sold, 0)}
end

redis.call('HINCRBY', sold_key, slot, quantity)
redis.call('HSET', order_key, 'fingerprint', fingerprint, 'status', 'recorded', 'date', date,
           'slot', slot, 'quantity', quantity, 'record', record)
redis.call('EXPIRE', order_key, ttl)
redis.call('EXPIRE', sold_key, ttl)
redis.call('SET', quote_key, ARGV[9], 'EX', ARGV[10])
redis.call('PUBLISH', ARGV[7], ARGV[8])
return {'recorded', record}
"""

# KEYS: order hash
# ARGV: the venue's sold-key prefix, cancelled-at instant, notice channel, notice prefix
# The sold key is built here because only the order knows its date; it carries the same hash
# tag as the order key, so it lives in the same cluster slot.
_CANCEL_LUA = """
local order_key = KEYS[1]
local sold_key_prefix, at = ARGV[1], ARGV[2]

local order = redis.call('HMGET', order_key, 'status', 'date', 'slot', 'quantity', 'cancelled_at')
local status, date, slot, quantity = order[1], order[2], order[3], tonumber(order[4])
if not status then
  return {'not_found'}
end
if status == 'cancelled' then
  return {'already_cancelled', date, slot, quantity, order[5]}
end

local sold_key = sold_key_prefix .. date
local sold = tonumber(redis.call('HGET', sold_key, slot) or '0')
if sold > 0 then
  redis.call('HSET', sold_key, slot, math.max(sold - quantity, 0))
end
redis.call('HSET', order_key, 'status', 'cancelled', 'cancelled_at', at)
redis.call('PUBLISH', ARGV[3], ARGV[4] .. date)
return {'cancelled', date, slot, quantity, at}
"""

# KEYS: plan body, plans list, plans meta hash, current version, audit stream, capacities hash
# ARGV: version, body, only if none ('1' or '0'), meta JSON, actor, at, details JSON, audit max,
#       notice channel, notice, only if this version is current ('' for any), capacities JSON
_PUBLISH_LUA = """
local plan_key, plans_key, meta_key = KEYS[1], KEYS[2], KEYS[3]
local current_key, audit_key, capacity_key = KEYS[4], KEYS[5], KEYS[6]
local version, body, only_if_none = ARGV[1], ARGV[2], ARGV[3]

local existing = redis.call('GET', plan_key)
if existing and existing ~= body then
  return {'version_conflict'}
end
local previous = redis.call('GET', current_key)
if only_if_none == '1' and previous then
  return {'skipped', previous}
end
if ARGV[11] ~= '' and previous ~= ARGV[11] then
  return {'skipped', previous or ''}
end

if not existing then
  redis.call('SET', plan_key, body)
  redis.call('LPUSH', plans_key, version)
  redis.call('HSET', meta_key, version, ARGV[4])
end
if redis.call('EXISTS', capacity_key) == 0 then
  -- '_' marks the index as written, also for a plan without slots
  redis.call('HSET', capacity_key, '_', '0')
  for date_slot, seats in pairs(cjson.decode(ARGV[12])) do
    redis.call('HSET', capacity_key, date_slot, seats)
  end
end
redis.call('SET', current_key, version)
redis.call('XADD', audit_key, 'MAXLEN', '~', ARGV[8], '*', 'action', 'publish',
           'version', version, 'previous', previous or '', 'actor', ARGV[5], 'at', ARGV[6],
           'details', ARGV[7])
redis.call('PUBLISH', ARGV[9], ARGV[10])
if existing then
  return {'unchanged', previous}
end
return {'published', previous}
"""

# KEYS: capacities hash
# ARGV: capacities JSON (a version published before capacities were kept with it)
_INDEX_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], '_', '0')
  for date_slot, seats in pairs(cjson.decode(ARGV[1])) do
    redis.call('HSET', KEYS[1], date_slot, seats)
  end
end
return 1
"""

# KEYS: plans meta hash, current version, audit stream
# ARGV: version, actor, at, audit max, notice channel, notice
_ROLLBACK_LUA = """
local meta_key, current_key, audit_key = KEYS[1], KEYS[2], KEYS[3]
local version = ARGV[1]

if redis.call('HEXISTS', meta_key, version) == 0 then
  return {'not_found'}
end
local previous = redis.call('GET', current_key)
redis.call('SET', current_key, version)
redis.call('XADD', audit_key, 'MAXLEN', '~', ARGV[4], '*', 'action', 'rollback',
           'version', version, 'previous', previous or '', 'actor', ARGV[2], 'at', ARGV[3],
           'details', '{}')
redis.call('PUBLISH', ARGV[5], ARGV[6])
return {'rolled_back', previous}
"""

# KEYS: the scenario record, the venue's scenario list
# ARGV: record, scenario id
_SAVE_SCENARIO_LUA = """
local is_new = redis.call('EXISTS', KEYS[1]) == 0
redis.call('SET', KEYS[1], ARGV[1])
if is_new then
  redis.call('LPUSH', KEYS[2], ARGV[2])
end
return is_new and 1 or 0
"""


class _Keys:
    """The key layout; venue ids are slugs, so they never contain the braces of a hash tag."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix

    def _venue(self, venue: str) -> str:
        return f"{self._prefix}:{{{venue}}}"

    def sold_prefix(self, venue: str) -> str:
        return f"{self._venue(venue)}:sold:"

    def sold(self, venue: str, date: str) -> str:
        return self.sold_prefix(venue) + date

    def order(self, venue: str, order_id: str) -> str:
        return f"{self._venue(venue)}:order:{order_id}"

    def order_venue(self, order_id: str) -> str:
        return f"{self._prefix}:orders:{order_id}"

    def quote(self, venue: str, quote_id: str) -> str:
        return f"{self._venue(venue)}:quote:{quote_id}"

    def capacities_prefix(self, venue: str) -> str:
        return f"{self._venue(venue)}:capacity:"

    def capacities(self, venue: str, version: str) -> str:
        return self.capacities_prefix(venue) + version

    def generation(self, venue: str) -> str:
        return f"{self._venue(venue)}:generation"

    def plan(self, venue: str, version: str) -> str:
        return f"{self._venue(venue)}:plan:{version}"

    def plans(self, venue: str) -> str:
        return f"{self._venue(venue)}:plans"

    def plans_meta(self, venue: str) -> str:
        return f"{self._venue(venue)}:plans:meta"

    def current(self, venue: str) -> str:
        return f"{self._venue(venue)}:plan:current"

    def audit(self, venue: str) -> str:
        return f"{self._venue(venue)}:audit"

    def document(self, venue: str, kind: DocumentKind) -> str:
        return f"{self._venue(venue)}:{kind}"

    def scenario(self, venue: str, scenario_id: str) -> str:
        return f"{self._venue(venue)}:scenario:{scenario_id}"

    def scenarios(self, venue: str) -> str:
        return f"{self._venue(venue)}:scenarios"

    def scenario_venue(self, scenario_id: str) -> str:
        """Like the order index: `GET /v1/scenarios/{id}` is given nothing but the id."""
        return f"{self._prefix}:scenarios:{scenario_id}"

    @property
    def notices(self) -> str:
        """The pub/sub channel every write announces itself on (channels are not keys)."""
        return f"{self._prefix}:changes"


NOTICE_SEPARATOR = "\x1f"
WHOLE_VENUE = "*"


def _day_notice(venue: str, date: str) -> str:
    return f"{venue}{NOTICE_SEPARATOR}{date}"


@contextmanager
def _unavailable_on_failure() -> Iterator[None]:
    """Callers handle StoreUnavailable only; no redis exception may reach them."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise StoreUnavailable(f"the store is unreachable: {exc}") from exc
    except RedisError as exc:
        raise StoreUnavailable(f"the store failed: {exc}") from exc


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _counts(raw: dict[bytes, bytes]) -> dict[str, int]:
    return {slot.decode(): int(sold) for slot, sold in raw.items()}


def _capacities_json(capacities: Capacities) -> str:
    return json.dumps(
        {
            f"{date} {slot}": seats
            for date, slots in capacities.items()
            for slot, seats in slots.items()
        }
    )


def _new_marker(kind: Literal["created", "recovered"]) -> bytes:
    return f"{kind}:{secrets.token_hex(8)}".encode()


class RedisStore:
    """The Store on the Redis behind `client`; its key layout is ready for Redis Cluster.

    The client must not decode responses: plan bodies and sale records are bytes.
    Prefer `from_url`, which sets short timeouts so a dead Redis fails fast.
    """

    def __init__(
        self, client: redis.Redis, *, key_prefix: str = "yg", day_cache_seconds: float = 1.0
    ) -> None:
        self._client = client
        self._keys = _Keys(key_prefix)
        self._day_cache_seconds = day_cache_seconds
        self._day_cache = DayCache(day_cache_seconds)
        self._listener: asyncio.Task[None] | None = None
        self._closing = False
        self._sale = client.register_script(_SALE_LUA)
        self._cancel = client.register_script(_CANCEL_LUA)
        self._publish = client.register_script(_PUBLISH_LUA)
        self._rollback = client.register_script(_ROLLBACK_LUA)
        self._save_scenario = client.register_script(_SAVE_SCENARIO_LUA)
        self._index = client.register_script(_INDEX_LUA)
        # Each venue's generation marker as this store first met it (see `lost_venues`).
        self._generations: dict[str, bytes] = {}

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        key_prefix: str = "yg",
        timeout: float = 0.5,
        day_cache_seconds: float = 1.0,
    ) -> RedisStore:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            # One immediate retry covers a pooled connection the server dropped. Timeouts are
            # never retried: the command may have run, and the caller must answer in time.
            retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        )
        return cls(client, key_prefix=key_prefix, day_cache_seconds=day_cache_seconds)

    @property
    def following_notices(self) -> bool:
        """True while the change-notice feed is connected and the day cache is in use."""
        return self._day_cache.live

    async def start(self, venues: Sequence[str] = ()) -> None:
        for venue in venues:
            try:
                await self._generation(venue)
            except StoreUnavailable as exc:
                log.warning("generation marker of %s not read at start: %s", venue, exc.detail)
        if self._listener is None and self._day_cache_seconds > 0:
            self._listener = asyncio.create_task(self._follow_notices(), name="yieldgate-notices")

    async def _generation(self, venue: str) -> bytes:
        """The venue's marker as this store knows it; the first meeting writes one if none is
        there (a fresh store) and adopts whatever is there otherwise."""
        known = self._generations.get(venue)
        if known is not None:
            return known
        key = self._keys.generation(venue)
        with _unavailable_on_failure():
            await self._client.set(key, _new_marker("created"), nx=True)
            marker = cast(bytes | None, await self._client.get(key))
        if marker is None:  # removed between the two calls: the store is being emptied
            raise StoreLost(f"the store lost {venue}'s data while it was being read")
        return self._generations.setdefault(venue, marker)

    def _seen_marker(self, venue: str, marker: bytes | None) -> bool:
        """Whether the venue's data is the one this store knows: False when its marker is gone,
        or when another was created since (the data vanished and a fresh process wrote one).
        A marker written by `recover` is adopted: an operator accepted the data as it is."""
        known = self._generations.get(venue)
        if marker == known:
            return True
        if marker is not None and marker.startswith(b"recovered:"):
            self._generations[venue] = marker
            return True
        return False

    async def lost_venues(self) -> list[str]:
        venues = list(self._generations)
        if not venues:
            return []
        with _unavailable_on_failure():
            # One GET each: under Redis Cluster the markers live in different slots.
            markers = [await self._client.get(self._keys.generation(v)) for v in venues]
        return [
            venue
            for venue, marker in zip(venues, markers, strict=True)
            if not self._seen_marker(venue, cast(bytes | None, marker))
        ]

    async def recover(self, venue: str) -> None:
        marker = _new_marker("recovered")
        with _unavailable_on_failure():
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.set(self._keys.generation(venue), marker)
                pipe.publish(self._keys.notices, _day_notice(venue, WHOLE_VENUE))
                await pipe.execute()
        self._generations[venue] = marker
        self._day_cache.venue_changed(venue)

    async def _follow_notices(self) -> None:
        """Keep the day cache in step with every write, from any worker, while subscribed."""
        while not self._closing:
            try:
                await self._listen_for_notices()
            except (RedisError, OSError) as exc:
                log.warning("change notices interrupted (%s); reading Redis directly", exc)
            finally:
                self._day_cache.notices_stopped()
            await asyncio.sleep(NOTICE_RETRY_SECONDS)

    async def _listen_for_notices(self) -> None:
        async with self._client.pubsub() as pubsub:
            await pubsub.subscribe(self._keys.notices)
            # Live only once Redis has confirmed: from then on no change can go unheard.
            while await pubsub.get_message(timeout=NOTICE_READ_SECONDS) is None:
                if self._closing:
                    return
            self._day_cache.notices_started()
            while not self._closing:
                message = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=NOTICE_READ_SECONDS
                )
                if message is not None and message["type"] == "message":
                    self._apply_notice(message["data"].decode())

    def _apply_notice(self, notice: str) -> None:
        venue, _, date = notice.partition(NOTICE_SEPARATOR)
        if date == WHOLE_VENUE:
            self._day_cache.venue_changed(venue)
        else:
            self._day_cache.day_changed(venue, date)

    async def ping(self) -> None:
        with _unavailable_on_failure():
            await self._client.ping()

    async def day_state(self, venue: str, date: str) -> DayState:
        key = (venue, date)
        cached = self._day_cache.get(key)
        if cached is not None:
            return cached
        ticket = self._day_cache.ticket(key)
        state = await self._read_day_state(venue, date)
        self._day_cache.put(key, state, ticket)
        return state

    async def _read_day_state(self, venue: str, date: str) -> DayState:
        if venue not in self._generations:
            await self._generation(venue)
        with _unavailable_on_failure():
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.hgetall(self._keys.sold(venue, date))
                pipe.get(self._keys.current(venue))
                pipe.get(self._keys.generation(venue))
                sold, current, marker = await pipe.execute()
        return DayState(
            sold=_counts(sold),
            plan_version=_text(current),
            lost=not self._seen_marker(venue, marker),
        )

    async def sold_counts(self, venue: str, date: str) -> dict[str, int]:
        with _unavailable_on_failure():
            sold = await self._client.hgetall(self._keys.sold(venue, date))
        return _counts(cast(dict[bytes, bytes], sold))

    async def set_sold(self, venue: str, date: str, sold: dict[str, int]) -> None:
        key = self._keys.sold(venue, date)
        with _unavailable_on_failure():
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.delete(key)
                if sold:
                    pipe.hset(key, mapping={slot: count for slot, count in sold.items()})
                    pipe.expire(key, ORDER_TTL_SECONDS)
                pipe.publish(self._keys.notices, _day_notice(venue, date))
                await pipe.execute()
        # This worker reads its own writes at once; the others on the notice, a moment later.
        self._day_cache.day_changed(venue, date)

    async def record_sale(self, sale: SaleRequest) -> SaleResult:
        generation = await self._generation(sale.venue)
        with _unavailable_on_failure():
            # The first venue to use an order id owns it, even if that sale was refused.
            claimed_by = await self._client.set(
                self._keys.order_venue(sale.order_id),
                sale.venue,
                nx=True,
                get=True,
                ex=ORDER_TTL_SECONDS,
            )
        if claimed_by is not None and claimed_by != sale.venue.encode():
            return SaleResult("conflict")
        # At most one retry each: a marker another worker's `recover` wrote, and a live version
        # published before capacities were kept with each version.
        for _attempt in range(3):
            reply = await self._run_sale(sale, generation)
            outcome = reply[0].decode()
            if outcome == "generation":
                if not self._seen_marker(sale.venue, reply[1]):
                    return SaleResult("store_lost")
                generation = reply[1]
            elif outcome == "unindexed":
                await self._index_capacities(sale.venue, reply[1].decode())
            else:
                break
        if outcome == "recorded":
            self._day_cache.day_changed(sale.venue, sale.date)
        if outcome in ("recorded", "replayed"):
            return SaleResult(outcome, record=reply[1])
        if outcome == "sold_out":
            return SaleResult("sold_out", remaining=int(reply[1]))
        if outcome == "quote_used":
            return SaleResult("quote_used", used_by=reply[1].decode())
        if outcome in ("conflict", "not_on_sale", "store_lost"):
            return SaleResult(outcome)
        raise StoreUnavailable(f"the store answered a sale with {outcome!r}")

    async def _run_sale(self, sale: SaleRequest, generation: bytes) -> list[Any]:
        quote_ttl = max(sale.quote_expires_at - int(time.time()), 0) + QUOTE_MEMORY_MARGIN_SECONDS
        with _unavailable_on_failure():
            reply: list[Any] = await self._sale(
                keys=[
                    self._keys.order(sale.venue, sale.order_id),
                    self._keys.sold(sale.venue, sale.date),
                    self._keys.quote(sale.venue, sale.quote_id),
                    self._keys.current(sale.venue),
                    self._keys.generation(sale.venue),
                ],
                args=[
                    sale.fingerprint,
                    sale.date,
                    sale.slot,
                    sale.quantity,
                    sale.record,
                    ORDER_TTL_SECONDS,
                    self._keys.notices,
                    _day_notice(sale.venue, sale.date),
                    sale.order_id,
                    quote_ttl,
                    generation,
                    self._keys.capacities_prefix(sale.venue),
                ],
            )
        return reply

    async def _index_capacities(self, venue: str, version: str) -> None:
        body = await self.plan_body(venue, version)
        if body is None:
            raise StoreUnavailable(f"live plan {version!r} of {venue} has no stored body")
        capacities = plan_capacities(parse_plan(json.loads(body)))
        with _unavailable_on_failure():
            await self._index(
                keys=[self._keys.capacities(venue, version)],
                args=[_capacities_json(capacities)],
            )

    async def replayed_sale(self, venue: str, order_id: str, fingerprint: str) -> bytes | None:
        with _unavailable_on_failure():
            stored, record = await self._client.hmget(
                self._keys.order(venue, order_id), ["fingerprint", "record"]
            )
        if stored != fingerprint.encode() or not isinstance(record, bytes):
            return None
        return record

    async def cancel_sale(self, order_id: str, at: str) -> CancelResult:
        with _unavailable_on_failure():
            venue = _text(await self._client.get(self._keys.order_venue(order_id)))
            if venue is None:
                return CancelResult("not_found")
            reply = await self._cancel(
                keys=[self._keys.order(venue, order_id)],
                args=[
                    self._keys.sold_prefix(venue),
                    at,
                    self._keys.notices,
                    _day_notice(venue, ""),
                ],
            )
        outcome: Literal["cancelled", "already_cancelled", "not_found"] = reply[0].decode()
        if outcome == "not_found":
            return CancelResult("not_found")
        date, slot, quantity, cancelled_at = reply[1:]
        if outcome == "cancelled":
            self._day_cache.day_changed(venue, date.decode())
        return CancelResult(
            outcome,
            venue=venue,
            date=date.decode(),
            slot=slot.decode(),
            quantity=int(quantity),
            cancelled_at=cancelled_at.decode(),
        )

    async def publish_plan(
        self,
        venue: str,
        version: str,
        body: bytes,
        actor: str,
        at: str,
        details: dict[str, object],
        *,
        capacities: Capacities,
        only_if_none: bool = False,
        only_if_current: str | None = None,
    ) -> PublishResult:
        meta = json.dumps({"published_at": at, "published_by": actor})
        with _unavailable_on_failure():
            reply = await self._publish(
                keys=[
                    self._keys.plan(venue, version),
                    self._keys.plans(venue),
                    self._keys.plans_meta(venue),
                    self._keys.current(venue),
                    self._keys.audit(venue),
                    self._keys.capacities(venue, version),
                ],
                args=[
                    version,
                    body,
                    "1" if only_if_none else "0",
                    meta,
                    actor,
                    at,
                    json.dumps(details),
                    AUDIT_MAX_ENTRIES,
                    self._keys.notices,
                    _day_notice(venue, WHOLE_VENUE),
                    only_if_current or "",
                    _capacities_json(capacities),
                ],
            )
        outcome: Literal["published", "unchanged", "version_conflict", "skipped"]
        outcome = reply[0].decode()
        if outcome in ("published", "unchanged"):
            self._day_cache.venue_changed(venue)
        previous = reply[1] if len(reply) > 1 else None
        return PublishResult(outcome, previous=_text(previous) or None)

    async def current_version(self, venue: str) -> str | None:
        with _unavailable_on_failure():
            current = await self._client.get(self._keys.current(venue))
        return _text(current)

    async def plan_body(self, venue: str, version: str) -> bytes | None:
        with _unavailable_on_failure():
            body = await self._client.get(self._keys.plan(venue, version))
        return cast(bytes | None, body)

    async def list_plans(self, venue: str) -> list[PlanMeta]:
        with _unavailable_on_failure():
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.lrange(self._keys.plans(venue), 0, -1)
                pipe.hgetall(self._keys.plans_meta(venue))
                versions, metas = await pipe.execute()
        plans = []
        for raw_version in versions:
            meta = json.loads(metas[raw_version])
            plans.append(
                PlanMeta(
                    version=raw_version.decode(),
                    published_at=meta["published_at"],
                    published_by=meta["published_by"],
                )
            )
        return plans

    async def rollback(self, venue: str, version: str, actor: str, at: str) -> RollbackResult:
        with _unavailable_on_failure():
            reply = await self._rollback(
                keys=[
                    self._keys.plans_meta(venue),
                    self._keys.current(venue),
                    self._keys.audit(venue),
                ],
                args=[
                    version,
                    actor,
                    at,
                    AUDIT_MAX_ENTRIES,
                    self._keys.notices,
                    _day_notice(venue, WHOLE_VENUE),
                ],
            )
        if reply[0] == b"not_found":
            return RollbackResult("not_found")
        self._day_cache.venue_changed(venue)
        return RollbackResult("rolled_back", previous=_text(reply[1]))

    async def audit(self, venue: str, limit: int = 100) -> list[AuditEntry]:
        if limit <= 0:
            return []
        with _unavailable_on_failure():
            entries = await self._client.xrevrange(self._keys.audit(venue), count=limit)
        return [
            _audit_entry(entry_id, fields)
            for entry_id, fields in cast(list[tuple[bytes, dict[bytes, bytes]]], entries)
        ]

    async def put_document(
        self, venue: str, kind: DocumentKind, body: bytes, meta: dict[str, object]
    ) -> None:
        with _unavailable_on_failure():
            await self._client.hset(
                self._keys.document(venue, kind), mapping={"body": body, "meta": json.dumps(meta)}
            )

    async def document(self, venue: str, kind: DocumentKind) -> StoredDocument | None:
        with _unavailable_on_failure():
            key = self._keys.document(venue, kind)
            body, meta = await self._client.hmget(key, ["body", "meta"])
        if body is None or meta is None:
            return None
        return StoredDocument(cast(bytes, body), json.loads(meta))

    async def save_scenario(self, venue: str, scenario_id: str, record: bytes) -> None:
        with _unavailable_on_failure():
            # The index first: a record is never stored that its id cannot find.
            await self._client.set(self._keys.scenario_venue(scenario_id), venue)
            await self._save_scenario(
                keys=[self._keys.scenario(venue, scenario_id), self._keys.scenarios(venue)],
                args=[record, scenario_id],
            )

    async def scenario(self, scenario_id: str) -> StoredScenario | None:
        with _unavailable_on_failure():
            venue = _text(await self._client.get(self._keys.scenario_venue(scenario_id)))
            if venue is None:
                return None
            record = await self._client.get(self._keys.scenario(venue, scenario_id))
        return None if record is None else StoredScenario(venue, cast(bytes, record))

    async def list_scenarios(self, venue: str, limit: int = 100) -> list[bytes]:
        if limit <= 0:
            return []
        with _unavailable_on_failure():
            ids = cast(
                list[bytes], await self._client.lrange(self._keys.scenarios(venue), 0, limit - 1)
            )
            if not ids:
                return []
            records = cast(
                list[bytes | None],
                await self._client.mget([self._keys.scenario(venue, raw.decode()) for raw in ids]),
            )
        return [record for record in records if record is not None]

    async def close(self) -> None:
        # The flag ends the listener within a read timeout even if the client swallows the
        # cancellation (redis-py can, mid-read), which left close waiting for ever.
        self._closing = True
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.wait({self._listener}, timeout=2 * NOTICE_READ_SECONDS)
            self._listener = None
        await self._client.aclose()


def _audit_entry(entry_id: bytes, raw: dict[bytes, bytes]) -> AuditEntry:
    fields: dict[str, Any] = {name.decode(): value.decode() for name, value in raw.items()}
    return AuditEntry(
        id=entry_id.decode(),
        action=fields["action"],
        version=fields["version"],
        previous=fields["previous"] or None,
        actor=fields["actor"],
        at=fields["at"],
        details=json.loads(fields["details"]),
    )
