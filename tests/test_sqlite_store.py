"""The embedded store on SQLite: what it keeps across restarts and kills, what several processes
sharing one file see, and how it fails. The behaviour every store shares is in test_store.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sqlite3
import stat
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import pytest
from apitools import next_wednesday
from test_store import AT, DATE, SLOT, VENUE, on_sale, publish, sale

from api.app import TOKEN_KEY_FILE, signing_keys, token_key_file
from api.devserver import ServiceDidNotStart, start_service, stop_service
from api.settings import Settings
from api.store import StoreUnavailable
from api.store.sqlite_store import QUOTE_MEMORY_MARGIN_SECONDS, SCHEMA_VERSION, SqliteStore
from forecasting.world import WorldSpec, simulate_world
from pricing.errors import InvalidInput

CHECKOUT = {"Authorization": "Bearer ck_sqlite"}
MANAGER = {"Authorization": "Bearer mk_sqlite"}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "yieldgate.db"


def raw(path: Path) -> sqlite3.Connection:
    """Another connection to the file, as another process (or an operator's sqlite3) has."""
    return sqlite3.connect(path, isolation_level=None, timeout=5)


# --- in one process ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_file_is_made_with_its_directory_a_wal_and_a_schema_number(db: Path) -> None:
    store = SqliteStore(db)
    try:
        await store.ping()
    finally:
        await store.close()

    conn = raw(db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()


@pytest.mark.anyio
async def test_everything_is_still_there_when_the_file_is_opened_again(db: Path) -> None:
    first = SqliteStore(db)
    try:
        await first.start([VENUE])
        await on_sale(first, 10)
        recorded = await first.record_sale(sale("kept", quantity=3, quote_id="q-kept"))
        await first.record_sale(sale("dropped", quantity=1))
        await first.cancel_sale("dropped", AT)
        await publish(first, "v2", b"two", actor="ana", details={"n": 2})
        await first.rollback(VENUE, "cap-10", "ben", AT)
        await first.put_document(VENUE, "history", b"date,slot\n", {"version": "h1"})
        await first.save_scenario(VENUE, "sc_1", b'{"n": 1}')
    finally:
        await first.close()

    again = SqliteStore(db)
    try:
        await again.start([VENUE])
        assert await again.lost_venues() == []
        assert await again.sold_counts(VENUE, DATE) == {SLOT: 3}
        replay = await again.record_sale(sale("kept", quantity=3, quote_id="q-kept"))
        assert (replay.outcome, replay.record) == ("replayed", recorded.record)
        assert (await again.record_sale(sale("other", quote_id="q-kept"))).used_by == "kept"
        assert (await again.cancel_sale("dropped", AT)).outcome == "already_cancelled"
        assert await again.current_version(VENUE) == "cap-10"
        assert [p.version for p in await again.list_plans(VENUE)] == ["v2", "cap-10"]
        assert await again.plan_body(VENUE, "v2") == b"two"
        assert [(e.action, e.version) for e in await again.audit(VENUE)] == [
            ("rollback", "cap-10"),
            ("publish", "v2"),
            ("publish", "cap-10"),
        ]
        document = await again.document(VENUE, "history")
        assert document is not None and document.meta == {"version": "h1"}
        assert await again.list_scenarios(VENUE) == [b'{"n": 1}']
        # The older version's capacities govern after the rollback, also after reopening.
        refused = await again.record_sale(sale("big", quantity=8))
        assert (refused.outcome, refused.remaining) == ("sold_out", 7)
    finally:
        await again.close()


@pytest.mark.anyio
async def test_two_stores_on_one_file_see_each_others_writes_at_once(db: Path) -> None:
    # As two workers: each keeps day states in process, and neither may serve a stale one.
    one, two = SqliteStore(db), SqliteStore(db)
    try:
        await one.start([VENUE])
        await two.start([VENUE])
        await on_sale(one, 10)
        first = await one.day_state(VENUE, DATE)
        assert (first.sold, first.plan_version) == ({}, "cap-10")
        assert await one.day_state(VENUE, DATE) is first  # nothing changed: served from memory
        assert await two.day_state(VENUE, DATE) == first

        await two.record_sale(sale("a", quantity=4))
        assert (await one.day_state(VENUE, DATE)).sold == {SLOT: 4}
        await publish(two, "v2", b"two")
        assert (await one.day_state(VENUE, DATE)).plan_version == "v2"
        await two.set_sold(VENUE, DATE, {SLOT: 9})
        assert (await one.day_state(VENUE, DATE)).sold == {SLOT: 9}
        await two.cancel_sale("a", AT)
        assert (await one.day_state(VENUE, DATE)).sold == {SLOT: 5}
        await two.rollback(VENUE, "cap-10", "ana", AT)
        assert (await one.day_state(VENUE, DATE)).plan_version == "cap-10"

        # And a write of its own, through its own writer connection.
        await one.record_sale(sale("b", quantity=1))
        assert (await one.day_state(VENUE, DATE)).sold == {SLOT: 6}
        assert (await two.day_state(VENUE, DATE)).sold == {SLOT: 6}
    finally:
        await one.close()
        await two.close()


@pytest.mark.anyio
async def test_two_stores_on_one_file_never_oversell_a_slot(db: Path) -> None:
    one, two = SqliteStore(db), SqliteStore(db)
    try:
        await on_sale(one, 20)
        results = await asyncio.gather(
            *((one, two)[n % 2].record_sale(sale(f"order-{n}", quantity=3)) for n in range(40))
        )
        outcomes = [result.outcome for result in results]
        assert outcomes.count("recorded") == 6
        assert outcomes.count("sold_out") == 34
        assert await two.sold_counts(VENUE, DATE) == {SLOT: 18}

        shared = await asyncio.gather(
            *(
                (one, two)[n % 2].record_sale(sale(f"q-{n}", slot="11:00", quote_id="q"))
                for n in range(20)
            )
        )
        assert [r.outcome for r in shared].count("recorded") == 1
    finally:
        await one.close()
        await two.close()


@pytest.mark.anyio
async def test_a_quotes_use_is_forgotten_a_minute_after_it_expires(db: Path) -> None:
    now = [1_900_000_000.0]
    store = SqliteStore(db, clock=lambda: now[0])
    expires = int(now[0]) + 900
    try:
        await on_sale(store)
        first = await store.record_sale(sale("a", quote_id="q", quote_expires_at=expires))
        assert first.outcome == "recorded"

        now[0] = expires + QUOTE_MEMORY_MARGIN_SECONDS - 1  # clocks may differ: still held
        assert (
            await store.record_sale(sale("b", quote_id="q", quote_expires_at=expires))
        ).outcome == ("quote_used")
        now[0] = expires + QUOTE_MEMORY_MARGIN_SECONDS
        assert (
            await store.record_sale(sale("c", quote_id="q", quote_expires_at=expires))
        ).outcome == ("recorded")
        # Forgotten for good: the next recorded sale dropped the rows past remembering.
        later = int(now[0]) + 900
        await store.record_sale(sale("d", quote_id="other", quote_expires_at=later))
    finally:
        await store.close()

    conn = raw(db)
    try:
        assert conn.execute("SELECT quote_id FROM quotes").fetchall() == [("other",)]
    finally:
        conn.close()


def wipe(path: Path) -> None:
    """Every row gone, as if the file had been swapped for an empty one."""
    conn = raw(path)
    try:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        conn.execute("BEGIN IMMEDIATE")
        for table in tables:
            conn.execute(f"DELETE FROM {table}")
        conn.execute("COMMIT")
    finally:
        conn.close()


@pytest.mark.anyio
async def test_a_venue_whose_rows_vanished_is_lost_until_recovered(db: Path) -> None:
    store = SqliteStore(db)
    try:
        await store.start([VENUE])
        await on_sale(store)
        await store.record_sale(sale("before"))
        assert (await store.day_state(VENUE, DATE)).lost is False  # cached, then invalidated

        wipe(db)

        state = await store.day_state(VENUE, DATE)
        assert (state.lost, state.sold, state.plan_version) == (True, {}, None)
        assert (await store.record_sale(sale("after"))).outcome == "store_lost"
        assert await store.lost_venues() == [VENUE]
        await on_sale(store)  # republished and reconciled while lost: still lost
        await store.set_sold(VENUE, DATE, {SLOT: 2})
        assert await store.lost_venues() == [VENUE]

        await store.recover(VENUE)

        assert await store.lost_venues() == []
        assert (await store.day_state(VENUE, DATE)).lost is False
        assert (await store.record_sale(sale("after"))).outcome == "recorded"
        assert await store.sold_counts(VENUE, DATE) == {SLOT: 4}
    finally:
        await store.close()


@pytest.mark.anyio
async def test_a_marker_written_over_vanished_rows_still_means_lost(db: Path) -> None:
    old = SqliteStore(db)
    fresh = SqliteStore(db)
    try:
        await old.start([VENUE])
        wipe(db)
        await fresh.start([VENUE])  # a worker started after the loss marks what it finds

        assert await old.lost_venues() == [VENUE]
        assert await fresh.lost_venues() == []

        await old.recover(VENUE)

        assert await old.lost_venues() == []
        assert await fresh.lost_venues() == []
    finally:
        await old.close()
        await fresh.close()


# --- failures ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_write_lock_held_past_the_busy_timeout_is_unavailable_and_reads_go_on(
    db: Path,
) -> None:
    store = SqliteStore(db, busy_timeout=0.05)
    await on_sale(store)
    holder = raw(db)
    try:
        holder.execute("BEGIN IMMEDIATE")

        with pytest.raises(StoreUnavailable, match="is busy: another process held it"):
            await store.record_sale(sale())
        state = await store.day_state(VENUE, DATE)  # a WAL reader never waits for a writer
        assert state.plan_version == "cap-10"

        holder.execute("ROLLBACK")
        assert (await store.record_sale(sale())).outcome == "recorded"
    finally:
        holder.close()
        await store.close()


@pytest.mark.anyio
async def test_waiting_for_the_write_lock_never_blocks_the_event_loop(db: Path) -> None:
    store = SqliteStore(db)
    await on_sale(store)
    holder = raw(db)
    ticked = asyncio.Event()

    async def ticker() -> None:
        for _ in range(5):
            await asyncio.sleep(0.005)
        ticked.set()

    try:
        holder.execute("BEGIN IMMEDIATE")
        counting = asyncio.create_task(ticker())
        selling = asyncio.create_task(store.record_sale(sale()))
        await ticked.wait()  # the loop runs on while the sale waits in the writer thread
        assert not selling.done()
        holder.execute("ROLLBACK")
        assert (await selling).outcome == "recorded"
        counting.cancel()
    finally:
        holder.close()
        await store.close()


def write_garbage(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b"these are not the pages you are looking for" * 200)


@pytest.mark.anyio
async def test_a_file_that_is_not_a_database_is_reported_as_damaged(db: Path) -> None:
    write_garbage(db)
    store = SqliteStore(db)
    try:
        await store.start([VENUE])  # logged, not raised: readiness reports it
        for call in (store.ping(), store.day_state(VENUE, DATE), store.record_sale(sale())):
            with pytest.raises(StoreUnavailable, match=r"is damaged .* restore it from a backup"):
                await call
    finally:
        await store.close()


@pytest.mark.anyio
async def test_a_file_from_a_newer_yieldgate_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "yieldgate.db"
    conn = raw(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    store = SqliteStore(db)
    try:
        with pytest.raises(StoreUnavailable, match="newer than this yieldgate knows"):
            await store.ping()
    finally:
        await store.close()


@pytest.mark.anyio
async def test_a_directory_that_cannot_be_made_is_unavailable(tmp_path: Path) -> None:
    store = SqliteStore(Path(__file__) / "yieldgate.db")  # under a file: no such directory
    try:
        with pytest.raises(StoreUnavailable, match="cannot make"):
            await store.record_sale(sale())
    finally:
        await store.close()


@pytest.mark.anyio
async def test_a_full_disk_is_unavailable_and_writes_nothing(db: Path) -> None:
    store = SqliteStore(db)
    try:
        await on_sale(store)
        # A full disk, as SQLite meets it: no page may be added (the writer's own connection).
        await asyncio.get_running_loop().run_in_executor(
            store._writer,
            lambda: store._writer_connection().execute("PRAGMA max_page_count = 1"),
        )
        with pytest.raises(StoreUnavailable, match="the disk is full"):
            await store.put_document(VENUE, "history", b"x" * 100_000, {"version": "big"})
        assert await store.document(VENUE, "history") is None
    finally:
        await store.close()


def move_aside(path: Path) -> None:
    path.rename(path.with_name("moved.db"))


@pytest.mark.anyio
async def test_a_file_moved_away_under_a_running_store_makes_it_unready(db: Path) -> None:
    store = SqliteStore(db)
    try:
        await store.ping()
        move_aside(db)  # a new process would open a new, empty file at the path

        with pytest.raises(StoreUnavailable, match="removed or replaced while in use"):
            await store.ping()
    finally:
        await store.close()


@pytest.mark.anyio
async def test_a_closed_store_is_unavailable(db: Path) -> None:
    store = SqliteStore(db)
    await store.ping()
    await store.close()

    with pytest.raises(StoreUnavailable, match="is closed"):
        await store.day_state(VENUE, DATE)
    await store.close()  # twice is fine


# --- the quote-signing key file ------------------------------------------------------------------


def test_the_key_file_is_made_once_private_and_kept(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "state" / "yieldgate.db", token_keys="")
    first = signing_keys(settings)
    path = tmp_path / "state" / TOKEN_KEY_FILE

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signing_keys(settings) == first
    assert len(first) == 1 and len(first[0]) >= 32
    assert [p.name for p in path.parent.iterdir()] == [TOKEN_KEY_FILE]  # no drafts left
    assert signing_keys(settings.model_copy(update={"token_keys": "a,b"})) == [b"a", b"b"]


def test_workers_starting_together_end_up_with_one_key(tmp_path: Path) -> None:
    path = tmp_path / "state" / TOKEN_KEY_FILE
    barrier = threading.Barrier(16)

    def make() -> bytes:
        barrier.wait()
        return token_key_file(path)

    with ThreadPoolExecutor(16) as pool:
        keys = set(pool.map(lambda _: make(), range(16)))

    assert keys == {path.read_text().strip().encode()}


def test_an_empty_key_file_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / TOKEN_KEY_FILE
    path.write_text("\n")

    with pytest.raises(InvalidInput, match="is empty") as caught:
        token_key_file(path)
    assert caught.value.field == "token_keys"


# --- a real service: killed, restarted, two workers ----------------------------------------------


def serve(db: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    """`yieldgate serve` on the file, in a process group of its own (so it can be killed whole)."""
    env = {
        "YIELDGATE_API_KEYS": "checkout:ck_sqlite,manager:mk_sqlite",
        "YIELDGATE_DB_PATH": str(db),
        "YIELDGATE_TOKEN_KEYS": "",  # the key file beside the database
        "REDIS_URL": "",
        "YIELDGATE_REDIS_URL": "",
    }
    try:
        return start_service(args, env, capture_output=True, launcher=("setsid",))
    except ServiceDidNotStart as exc:
        pytest.fail(str(exc))


@pytest.fixture
def services() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        stop_service(process)  # also reaps a killed one and closes its output pipe


def plan(version: str, date: str, slots: dict[str, tuple[int, float]]) -> dict[str, Any]:
    """A Plan JSON for one day: slot -> (capacity, price)."""
    return {
        "venue": VENUE,
        "currency": "EUR",
        "version": version,
        "days": [
            {
                "date": date,
                "slots": [
                    {"slot": slot, "capacity": seats, "steps": [{"price": price, "units": seats}]}
                    for slot, (seats, price) in slots.items()
                ],
            }
        ],
    }


def history_csv() -> bytes:
    last = dt.date.today() - dt.timedelta(days=1)
    world = simulate_world(WorldSpec(start=last - dt.timedelta(days=119), days=120, seed=5))
    return world.history_csv().encode()


def test_a_killed_service_loses_nothing(db: Path, services: list[subprocess.Popen[str]]) -> None:
    date = next_wednesday()
    body = {"venue": VENUE, "date": date, "slot": "11:00", "tickets": {"adult": 2}}
    process, base = serve(db)
    services.append(process)
    with httpx2.Client(base_url=base) as http:
        published = http.post(
            "/v1/plans", json=plan("v-kept", date, {"11:00": (30, 16.0)}), headers=MANAGER
        )
        assert published.status_code == 201, published.text
        uploaded = http.put(
            f"/v1/venues/{VENUE}/history",
            content=history_csv(),
            headers={**MANAGER, "Content-Type": "text/csv"},
        )
        assert uploaded.status_code == 200, uploaded.text
        bought = http.post("/v1/quotes", json=body, headers=CHECKOUT).json()
        kept = http.post("/v1/quotes", json=body, headers=CHECKOUT).json()
        sale_body = {**body, "order_id": "o-before", "token": bought["token"]}
        first = http.post("/v1/sales", json=sale_body, headers=CHECKOUT)
        assert first.status_code == 201, first.text
        plans_before = http.get(f"/v1/plans?venue={VENUE}", headers=MANAGER).json()
        audit_before = http.get(f"/v1/plans/audit?venue={VENUE}", headers=MANAGER).json()

    os.killpg(process.pid, signal.SIGKILL)  # the server and its workers: no shutdown of any kind
    process.wait(timeout=10)
    process, base = serve(db)
    services.append(process)

    with httpx2.Client(base_url=base) as http:
        replay = http.post("/v1/sales", json=sale_body, headers=CHECKOUT)
        assert replay.status_code == 200, replay.text
        assert replay.headers["idempotent-replayed"] == "true"
        assert replay.json() == first.json()
        inventory = http.get(f"/v1/venues/{VENUE}/inventory/{date}", headers=MANAGER).json()
        assert (inventory["sold"]["11:00"], inventory["capacity"]["11:00"]) == (2, 30)
        assert http.get(f"/v1/plans?venue={VENUE}", headers=MANAGER).json() == plans_before
        assert http.get(f"/v1/plans/audit?venue={VENUE}", headers=MANAGER).json() == audit_before
        history = http.get(f"/v1/venues/{VENUE}/history", headers=MANAGER).json()
        assert (history["source"], history["version"]) == ("uploaded", uploaded.json()["version"])
        # Signed before the kill with the key kept beside the database: still good to buy.
        later = {**body, "order_id": "o-after", "token": kept["token"]}
        assert http.post("/v1/sales", json=later, headers=CHECKOUT).status_code == 201
        # And the quote already paid for stays paid for.
        again = {**body, "order_id": "o-again", "token": bought["token"]}
        assert http.post("/v1/sales", json=again, headers=CHECKOUT).status_code == 409
        assert (
            http.get(f"/v1/venues/{VENUE}/inventory/{date}", headers=MANAGER).json()["sold"][
                "11:00"
            ]
            == 4
        )
    assert plans_before["current"] == "v-kept"
    assert stat.S_IMODE((db.parent / TOKEN_KEY_FILE).stat().st_mode) == 0o600


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_two_workers_share_one_file_without_redis(
    server: str, db: Path, services: list[subprocess.Popen[str]]
) -> None:
    date = next_wednesday()
    process, base = serve(db, "--workers", "2", "--server", server)
    services.append(process)
    body = {"venue": VENUE, "date": date, "slot": "11:00", "tickets": {"adult": 3}}
    with httpx2.Client(base_url=base) as http:
        published = http.post(
            "/v1/plans", json=plan("v-20", date, {"11:00": (20, 16.0)}), headers=MANAGER
        )
        assert published.status_code == 201, published.text
        tokens = [
            http.post("/v1/quotes", json=body, headers=CHECKOUT).json()["token"] for _ in range(40)
        ]

    start = threading.Barrier(len(tokens))

    def buy(n: int) -> int:
        with httpx2.Client(base_url=base, timeout=30) as fresh:  # a new connection: any worker
            start.wait()
            sale_body = {**body, "order_id": f"race-{n}", "token": tokens[n]}
            return fresh.post("/v1/sales", json=sale_body, headers=CHECKOUT).status_code

    with ThreadPoolExecutor(len(tokens)) as pool:
        statuses = list(pool.map(buy, range(len(tokens))))

    assert statuses.count(201) == 6
    assert statuses.count(409) == 34
    with httpx2.Client(base_url=base) as http:
        inventory = http.get(f"/v1/venues/{VENUE}/inventory/{date}", headers=MANAGER).json()
        assert inventory["sold"]["11:00"] == 18
        moved = http.post(
            "/v1/plans", json=plan("v-next", date, {"12:00": (50, 14.0)}), headers=MANAGER
        )
        assert moved.status_code == 201, moved.text

    one = {**body, "slot": "12:00", "tickets": {"adult": 1}}

    def quote(_: int) -> tuple[str, float]:
        with httpx2.Client(base_url=base) as fresh:
            answer = fresh.post("/v1/quotes", json=one, headers=CHECKOUT).json()
        return answer["plan_version"], answer["total"]

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(quote, range(40))) == {("v-next", 14.0)}
    assert os.path.exists(db)
