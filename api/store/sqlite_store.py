"""The Store on one SQLite file: the embedded default, durable, shared by workers on one machine.

Every method is one transaction; writes take the write lock up front (`BEGIN IMMEDIATE`), so a
check and the write it decides are atomic across processes too. The journal is a WAL and the
writer commits with `synchronous=FULL`: a sale acknowledged is on disk, power cut or not.

No file access runs on the event loop. One writer thread owns the connection that writes (and
fsyncs on commit), one reader thread the connection that reads. The quote path's day states are
kept in process and served while `PRAGMA data_version` on a third, idle connection says nothing
was committed since they were read, by any connection of any process: that check reads the
WAL's shared-memory index (microseconds, no disk), so most quotes never leave the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal, TypeVar

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
    StoreUnavailable,
)

log = logging.getLogger("yieldgate.store")
T = TypeVar("T")

SCHEMA_VERSION = 1  # PRAGMA user_version; a file from a newer yieldgate is refused, not guessed
AUDIT_MAX_ENTRIES = 10_000  # per venue, like the Redis stream's cap
# A used quote is remembered this long past its expiry, as in Redis (clocks may differ a little).
QUOTE_MEMORY_MARGIN_SECONDS = 60
DAY_CACHE_MAX_ENTRIES = 10_000

_SCHEMA = (
    # One row per venue, written when a store first meets it: gone or replaced means lost data.
    "CREATE TABLE IF NOT EXISTS markers (venue TEXT PRIMARY KEY, marker TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS sold (
        venue TEXT NOT NULL, date TEXT NOT NULL, slot TEXT NOT NULL, sold INTEGER NOT NULL,
        PRIMARY KEY (venue, date, slot)) WITHOUT ROWID""",
    # The first venue to use an order id owns it, even if that sale was refused (fingerprint
    # NULL); a recorded sale fills in the rest.
    """CREATE TABLE IF NOT EXISTS orders (
        order_id TEXT PRIMARY KEY, venue TEXT NOT NULL, fingerprint TEXT, date TEXT,
        slot TEXT, quantity INTEGER, record BLOB, cancelled_at TEXT)""",
    """CREATE TABLE IF NOT EXISTS quotes (
        venue TEXT NOT NULL, quote_id TEXT NOT NULL, order_id TEXT NOT NULL,
        forget_at INTEGER NOT NULL, PRIMARY KEY (venue, quote_id)) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS quotes_by_forget_at ON quotes (forget_at)",
    """CREATE TABLE IF NOT EXISTS plans (
        seq INTEGER PRIMARY KEY, venue TEXT NOT NULL, version TEXT NOT NULL, body BLOB NOT NULL,
        published_at TEXT NOT NULL, published_by TEXT NOT NULL, UNIQUE (venue, version))""",
    """CREATE TABLE IF NOT EXISTS capacities (
        venue TEXT NOT NULL, version TEXT NOT NULL, date TEXT NOT NULL, slot TEXT NOT NULL,
        seats INTEGER NOT NULL, PRIMARY KEY (venue, version, date, slot)) WITHOUT ROWID""",
    "CREATE TABLE IF NOT EXISTS live (venue TEXT PRIMARY KEY, version TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, venue TEXT NOT NULL, action TEXT NOT NULL,
        version TEXT NOT NULL, previous TEXT, actor TEXT NOT NULL, at TEXT NOT NULL,
        details TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS audit_by_venue ON audit (venue, id)",
    """CREATE TABLE IF NOT EXISTS documents (
        venue TEXT NOT NULL, kind TEXT NOT NULL, body BLOB NOT NULL, meta TEXT NOT NULL,
        PRIMARY KEY (venue, kind))""",
    """CREATE TABLE IF NOT EXISTS scenarios (
        seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, venue TEXT NOT NULL,
        record BLOB NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS scenarios_by_venue ON scenarios (venue, seq)",
)


def _new_marker(kind: Literal["created", "recovered"]) -> str:
    return f"{kind}:{secrets.token_hex(8)}"


class SqliteStore:
    """Every venue's sales, plans, audit, documents and scenarios in the SQLite file at `path`.

    The file and its directory are made on first use. `clock` (unix seconds) decides when a used
    quote may be forgotten; `busy_timeout` is how long a write waits for another process's.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        busy_timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
        day_cache: bool = True,
    ) -> None:
        self._path = Path(path)
        self._busy_timeout = busy_timeout
        self._clock = clock
        self._day_cache_on = day_cache
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="yieldgate-sqlite-writer")
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="yieldgate-sqlite-reader")
        self._write_conn: sqlite3.Connection | None = None  # used in the writer thread only
        self._read_conn: sqlite3.Connection | None = None  # used in the reader thread only
        self._version_conn: sqlite3.Connection | None = None  # used on the event loop only
        self._inode: tuple[int, int] | None = None  # (device, inode) of the file as opened
        # Each venue's marker as this store first met it (see `lost_venues`).
        self._markers: dict[str, str] = {}
        self._day_cache: dict[tuple[str, str], tuple[int, DayState]] = {}

    @property
    def path(self) -> Path:
        return self._path

    # --- connections and transactions -----------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path,
            timeout=self._busy_timeout,
            isolation_level=None,  # transactions are begun and ended here, explicitly
            check_same_thread=False,
        )
        return conn

    def _writer_connection(self) -> sqlite3.Connection:
        """The writing connection, opened (and the schema made) on first use; writer thread."""
        if self._write_conn is not None:
            return self._write_conn
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(
                f"the store cannot make {self._path.parent}: {exc.strerror}"
            ) from exc
        conn = self._connect()
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                raise StoreUnavailable(
                    f"the store at {self._path} cannot use a write-ahead log (journal mode "
                    f"{mode!r}); put it on a local disk"
                )
            # Every commit waits for its WAL frames to reach the disk (F_FULLFSYNC on macOS).
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA fullfsync=ON")
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise StoreUnavailable(
                        f"the store at {self._path} has schema {version}, newer than this "
                        f"yieldgate knows ({SCHEMA_VERSION}): upgrade yieldgate"
                    )
                for statement in _SCHEMA:
                    conn.execute(statement)
                if version < SCHEMA_VERSION:
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            stat = os.stat(self._path)
        except BaseException:
            conn.close()
            raise
        self._inode = (stat.st_dev, stat.st_ino)
        self._write_conn = conn
        return conn

    def _reader_connection(self) -> sqlite3.Connection:
        """The reading connection (and the event loop's version probe); reader thread."""
        if self._read_conn is not None:
            return self._read_conn
        # The schema must exist before the first read: the writer makes it (it never waits on
        # the reader, so this cannot deadlock).
        self._writer.submit(self._writer_connection).result()
        conn = self._connect()
        conn.execute("PRAGMA query_only=ON")
        probe = sqlite3.connect(
            self._path, timeout=0, isolation_level=None, check_same_thread=False
        )
        probe.execute("PRAGMA query_only=ON")
        self._read_conn = conn
        self._version_conn = probe
        return conn

    def _write_txn(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in one write transaction (committed unless it raised); writer thread."""
        with self._failures_reported():
            conn = self._writer_connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
                conn.execute("COMMIT")
            finally:
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
            return result

    def _read_txn(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in one read transaction: one consistent snapshot; reader thread."""
        with self._failures_reported():
            conn = self._reader_connection()
            conn.execute("BEGIN")
            try:
                return work(conn)
            finally:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("COMMIT")

    async def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await self._run(self._writer, functools.partial(self._write_txn, work))

    async def _read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await self._run(self._reader, functools.partial(self._read_txn, work))

    async def _run(self, executor: ThreadPoolExecutor, call: Callable[[], T]) -> T:
        try:
            future = asyncio.get_running_loop().run_in_executor(executor, call)
        except RuntimeError as exc:  # the executor was shut down
            raise StoreUnavailable(f"the store at {self._path} is closed") from exc
        return await future

    @contextlib.contextmanager
    def _failures_reported(self) -> Iterator[None]:
        """Callers handle StoreUnavailable only; no sqlite3 exception may reach them."""
        try:
            yield
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from exc
        except OSError as exc:
            raise StoreUnavailable(f"the store at {self._path} failed: {exc}") from exc

    def _unavailable(self, exc: sqlite3.Error) -> StoreUnavailable:
        name = getattr(exc, "sqlite_errorname", "") or ""
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            return StoreUnavailable(
                f"the store at {self._path} is busy: another process held it for more than "
                f"{self._busy_timeout:g} s ({exc})"
            )
        if name.startswith("SQLITE_FULL"):
            return StoreUnavailable(f"the store at {self._path} cannot grow: the disk is full")
        if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
            return StoreUnavailable(
                f"the store at {self._path} is damaged ({exc}): restore it from a backup"
            )
        if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")):
            return StoreUnavailable(f"the store at {self._path} cannot be written: {exc}")
        return StoreUnavailable(f"the store at {self._path} failed: {exc}")

    # --- generation markers ---------------------------------------------------------------------

    def _meet(self, conn: sqlite3.Connection, venue: str) -> None:
        """Write the venue's marker if it has none and this store never saw one; writer side."""
        if venue in self._markers:
            return
        conn.execute(
            "INSERT OR IGNORE INTO markers (venue, marker) VALUES (?, ?)",
            (venue, _new_marker("created")),
        )
        row = conn.execute("SELECT marker FROM markers WHERE venue = ?", (venue,)).fetchone()
        self._markers.setdefault(venue, row[0])

    def _holds(self, venue: str, marker: str | None) -> bool:
        """Whether the venue's data is the one this store knows: not when its marker is gone or
        another was made since. A marker written by `recover` is adopted (an operator accepted
        the data as it is), as in the Redis store."""
        known = self._markers.get(venue)
        if known is None or marker == known:
            return True
        if marker is not None and marker.startswith("recovered:"):
            self._markers[venue] = marker
            return True
        return False

    @staticmethod
    def _marker(conn: sqlite3.Connection, venue: str) -> str | None:
        row = conn.execute("SELECT marker FROM markers WHERE venue = ?", (venue,)).fetchone()
        return None if row is None else str(row[0])

    async def start(self, venues: Sequence[str] = ()) -> None:
        def meet_all(conn: sqlite3.Connection) -> None:
            for venue in venues:
                self._meet(conn, venue)

        try:
            await self._write(meet_all)
            await self._read(lambda conn: None)  # the reader and the day cache's probe, now
        except StoreUnavailable as exc:
            log.warning("the store did not open at start: %s", exc.detail)

    async def lost_venues(self) -> list[str]:
        venues = list(self._markers)
        if not venues:
            return []

        def read(conn: sqlite3.Connection) -> list[str]:
            return [v for v in venues if not self._holds(v, self._marker(conn, v))]

        return await self._read(read)

    async def recover(self, venue: str) -> None:
        marker = _new_marker("recovered")

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO markers (venue, marker) VALUES (?, ?)", (venue, marker)
            )

        await self._write(write)
        self._markers[venue] = marker

    async def ping(self) -> None:
        def read(conn: sqlite3.Connection) -> None:
            conn.execute("SELECT count(*) FROM markers").fetchone()
            try:
                stat = os.stat(self._path)
            except FileNotFoundError:
                stat = None
            if stat is None or (stat.st_dev, stat.st_ino) != self._inode:
                # This process would go on with a file nobody else opens any more.
                raise StoreUnavailable(
                    f"the store at {self._path} was removed or replaced while in use: restart "
                    "the service"
                )

        await self._read(read)

    # --- sold counts and day state --------------------------------------------------------------

    def _data_version(self) -> int | None:
        """Moves whenever any other connection (any process) commits; None if not known."""
        probe = self._version_conn
        if probe is None or not self._day_cache_on:
            return None
        try:
            return int(probe.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            return None

    async def day_state(self, venue: str, date: str) -> DayState:
        key = (venue, date)
        # Taken before the read: an entry is served only while nothing was committed since.
        version = self._data_version()
        if version is not None:
            cached = self._day_cache.get(key)
            if cached is not None and cached[0] == version:
                return cached[1]
        if venue not in self._markers:
            await self._write(lambda conn: self._meet(conn, venue))

        def read(conn: sqlite3.Connection) -> DayState:
            live = conn.execute("SELECT version FROM live WHERE venue = ?", (venue,)).fetchone()
            return DayState(
                sold=_day_sold(conn, venue, date),
                plan_version=None if live is None else live[0],
                lost=not self._holds(venue, self._marker(conn, venue)),
            )

        state = await self._read(read)
        if version is None:  # no probe yet (it opens with the first read), or it failed
            return state
        if len(self._day_cache) >= DAY_CACHE_MAX_ENTRIES:
            self._day_cache.clear()
        self._day_cache[key] = (version, state)
        return state

    async def sold_counts(self, venue: str, date: str) -> dict[str, int]:
        return await self._read(lambda conn: _day_sold(conn, venue, date))

    async def set_sold(self, venue: str, date: str, sold: dict[str, int]) -> None:
        def write(conn: sqlite3.Connection) -> None:
            self._meet(conn, venue)
            conn.execute("DELETE FROM sold WHERE venue = ? AND date = ?", (venue, date))
            conn.executemany(
                "INSERT INTO sold (venue, date, slot, sold) VALUES (?, ?, ?, ?)",
                [(venue, date, slot, count) for slot, count in sold.items()],
            )

        await self._write(write)

    # --- sales ----------------------------------------------------------------------------------

    async def record_sale(self, sale: SaleRequest) -> SaleResult:
        return await self._write(functools.partial(self._sale, sale=sale))

    def _sale(self, conn: sqlite3.Connection, sale: SaleRequest) -> SaleResult:
        """The checks in SaleResult's order; writer thread, inside the write transaction."""
        order = conn.execute(
            "SELECT venue, fingerprint, record FROM orders WHERE order_id = ?", (sale.order_id,)
        ).fetchone()
        if order is None:
            # The first venue to use an order id owns it, even if this sale is refused.
            conn.execute(
                "INSERT INTO orders (order_id, venue) VALUES (?, ?)", (sale.order_id, sale.venue)
            )
        else:
            venue, stored_fingerprint, record = order
            if venue != sale.venue:
                return SaleResult("conflict")
            if stored_fingerprint is not None:
                if stored_fingerprint == sale.fingerprint:
                    return SaleResult("replayed", record=bytes(record))
                return SaleResult("conflict")

        self._meet(conn, sale.venue)
        if not self._holds(sale.venue, self._marker(conn, sale.venue)):
            return SaleResult("store_lost")

        now = int(self._clock())
        used_by = conn.execute(
            "SELECT order_id FROM quotes WHERE venue = ? AND quote_id = ? AND forget_at > ?",
            (sale.venue, sale.quote_id, now),
        ).fetchone()
        if used_by is not None:
            return SaleResult("quote_used", used_by=used_by[0])

        capacity = conn.execute(
            "SELECT c.seats FROM live l JOIN capacities c ON c.venue = l.venue "
            "AND c.version = l.version WHERE l.venue = ? AND c.date = ? AND c.slot = ?",
            (sale.venue, sale.date, sale.slot),
        ).fetchone()
        if capacity is None:
            return SaleResult("not_on_sale")
        seats = int(capacity[0])
        sold = _slot_sold(conn, sale.venue, sale.date, sale.slot)
        if sold + sale.quantity > seats:
            return SaleResult("sold_out", remaining=max(seats - sold, 0))

        conn.execute(
            "INSERT INTO sold (venue, date, slot, sold) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (venue, date, slot) DO UPDATE SET sold = sold + excluded.sold",
            (sale.venue, sale.date, sale.slot, sale.quantity),
        )
        conn.execute(
            "UPDATE orders SET fingerprint = ?, date = ?, slot = ?, quantity = ?, record = ? "
            "WHERE order_id = ?",
            (sale.fingerprint, sale.date, sale.slot, sale.quantity, sale.record, sale.order_id),
        )
        # Forgotten lazily: every recorded sale drops the uses past remembering (an index range).
        conn.execute("DELETE FROM quotes WHERE forget_at <= ?", (now,))
        forget_at = sale.quote_expires_at + QUOTE_MEMORY_MARGIN_SECONDS
        if forget_at > now:
            conn.execute(
                "INSERT OR REPLACE INTO quotes (venue, quote_id, order_id, forget_at) "
                "VALUES (?, ?, ?, ?)",
                (sale.venue, sale.quote_id, sale.order_id, forget_at),
            )
        return SaleResult("recorded", record=sale.record)

    async def replayed_sale(self, venue: str, order_id: str, fingerprint: str) -> bytes | None:
        def read(conn: sqlite3.Connection) -> bytes | None:
            row = conn.execute(
                "SELECT record FROM orders WHERE order_id = ? AND venue = ? AND fingerprint = ?",
                (order_id, venue, fingerprint),
            ).fetchone()
            return None if row is None else bytes(row[0])

        return await self._read(read)

    async def cancel_sale(self, order_id: str, at: str) -> CancelResult:
        def write(conn: sqlite3.Connection) -> CancelResult:
            row = conn.execute(
                "SELECT venue, fingerprint, date, slot, quantity, cancelled_at FROM orders "
                "WHERE order_id = ?",
                (order_id,),
            ).fetchone()
            if row is None or row[1] is None:
                return CancelResult("not_found")
            venue, _, date, slot, quantity, cancelled_at = row
            if cancelled_at is not None:
                return CancelResult(
                    "already_cancelled",
                    venue=venue,
                    date=date,
                    slot=slot,
                    quantity=quantity,
                    cancelled_at=cancelled_at,
                )
            conn.execute(
                "UPDATE sold SET sold = max(sold - ?, 0) "
                "WHERE venue = ? AND date = ? AND slot = ? AND sold > 0",
                (quantity, venue, date, slot),
            )
            conn.execute("UPDATE orders SET cancelled_at = ? WHERE order_id = ?", (at, order_id))
            return CancelResult(
                "cancelled", venue=venue, date=date, slot=slot, quantity=quantity, cancelled_at=at
            )

        return await self._write(write)

    # --- plans ----------------------------------------------------------------------------------

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
        details_json = json.dumps(details)  # before the transaction: bad details write nothing
        seats = [
            (venue, version, date, slot, count)
            for date, slots in capacities.items()
            for slot, count in slots.items()
        ]

        def write(conn: sqlite3.Connection) -> PublishResult:
            existing = conn.execute(
                "SELECT body FROM plans WHERE venue = ? AND version = ?", (venue, version)
            ).fetchone()
            if existing is not None and bytes(existing[0]) != body:
                return PublishResult("version_conflict")
            previous = _live_version(conn, venue)
            if only_if_none and previous is not None:
                return PublishResult("skipped", previous=previous)
            if only_if_current is not None and previous != only_if_current:
                return PublishResult("skipped", previous=previous)
            self._meet(conn, venue)
            if existing is None:
                conn.execute(
                    "INSERT INTO plans (venue, version, body, published_at, published_by) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (venue, version, body, at, actor),
                )
                # The same body is the same plan: a version's capacities are written once.
                conn.executemany(
                    "INSERT OR IGNORE INTO capacities (venue, version, date, slot, seats) "
                    "VALUES (?, ?, ?, ?, ?)",
                    seats,
                )
            _make_live(conn, venue, version)
            _append_audit(conn, venue, "publish", version, previous, actor, at, details_json)
            return PublishResult(
                "published" if existing is None else "unchanged", previous=previous
            )

        return await self._write(write)

    async def current_version(self, venue: str) -> str | None:
        return await self._read(lambda conn: _live_version(conn, venue))

    async def plan_body(self, venue: str, version: str) -> bytes | None:
        def read(conn: sqlite3.Connection) -> bytes | None:
            row = conn.execute(
                "SELECT body FROM plans WHERE venue = ? AND version = ?", (venue, version)
            ).fetchone()
            return None if row is None else bytes(row[0])

        return await self._read(read)

    async def list_plans(self, venue: str) -> list[PlanMeta]:
        def read(conn: sqlite3.Connection) -> list[PlanMeta]:
            rows = conn.execute(
                "SELECT version, published_at, published_by FROM plans WHERE venue = ? "
                "ORDER BY seq DESC",
                (venue,),
            ).fetchall()
            return [PlanMeta(version=v, published_at=at, published_by=by) for v, at, by in rows]

        return await self._read(read)

    async def rollback(self, venue: str, version: str, actor: str, at: str) -> RollbackResult:
        def write(conn: sqlite3.Connection) -> RollbackResult:
            known = conn.execute(
                "SELECT 1 FROM plans WHERE venue = ? AND version = ?", (venue, version)
            ).fetchone()
            if known is None:
                return RollbackResult("not_found")
            previous = _live_version(conn, venue)
            _make_live(conn, venue, version)
            _append_audit(conn, venue, "rollback", version, previous, actor, at, "{}")
            return RollbackResult("rolled_back", previous=previous)

        return await self._write(write)

    async def audit(self, venue: str, limit: int = 100) -> list[AuditEntry]:
        if limit <= 0:
            return []

        def read(conn: sqlite3.Connection) -> list[AuditEntry]:
            rows = conn.execute(
                "SELECT id, action, version, previous, actor, at, details FROM audit "
                "WHERE venue = ? ORDER BY id DESC LIMIT ?",
                (venue, limit),
            ).fetchall()
            return [
                AuditEntry(
                    id=str(entry_id),
                    action=action,
                    version=version,
                    previous=previous,
                    actor=actor,
                    at=at,
                    details=json.loads(details),
                )
                for entry_id, action, version, previous, actor, at, details in rows
            ]

        return await self._read(read)

    # --- documents and scenarios ----------------------------------------------------------------

    async def put_document(
        self, venue: str, kind: DocumentKind, body: bytes, meta: dict[str, object]
    ) -> None:
        meta_json = json.dumps(meta)

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO documents (venue, kind, body, meta) VALUES (?, ?, ?, ?)",
                (venue, kind, bytes(body), meta_json),
            )

        await self._write(write)

    async def document(self, venue: str, kind: DocumentKind) -> StoredDocument | None:
        def read(conn: sqlite3.Connection) -> StoredDocument | None:
            row = conn.execute(
                "SELECT body, meta FROM documents WHERE venue = ? AND kind = ?", (venue, kind)
            ).fetchone()
            return None if row is None else StoredDocument(bytes(row[0]), json.loads(row[1]))

        return await self._read(read)

    async def save_scenario(self, venue: str, scenario_id: str, record: bytes) -> None:
        def write(conn: sqlite3.Connection) -> None:
            # A new id goes first in its venue's list; a saved one keeps its place.
            conn.execute(
                "INSERT INTO scenarios (id, venue, record) VALUES (?, ?, ?) ON CONFLICT (id) "
                "DO UPDATE SET venue = excluded.venue, record = excluded.record",
                (scenario_id, venue, bytes(record)),
            )

        await self._write(write)

    async def scenario(self, scenario_id: str) -> StoredScenario | None:
        def read(conn: sqlite3.Connection) -> StoredScenario | None:
            row = conn.execute(
                "SELECT venue, record FROM scenarios WHERE id = ?", (scenario_id,)
            ).fetchone()
            return None if row is None else StoredScenario(row[0], bytes(row[1]))

        return await self._read(read)

    async def list_scenarios(self, venue: str, limit: int = 100) -> list[bytes]:
        if limit <= 0:
            return []

        def read(conn: sqlite3.Connection) -> list[bytes]:
            rows = conn.execute(
                "SELECT record FROM scenarios WHERE venue = ? ORDER BY seq DESC LIMIT ?",
                (venue, limit),
            ).fetchall()
            return [bytes(row[0]) for row in rows]

        return await self._read(read)

    # --- shutting down --------------------------------------------------------------------------

    async def close(self) -> None:
        probe, self._version_conn = self._version_conn, None  # the loop stops using it first

        def close_writer() -> None:
            if self._write_conn is not None:
                self._write_conn.close()
                self._write_conn = None

        def close_reader() -> None:
            for conn in (self._read_conn, probe):
                if conn is not None:
                    conn.close()
            self._read_conn = None

        loop = asyncio.get_running_loop()
        with contextlib.suppress(RuntimeError):  # closed before
            await loop.run_in_executor(self._reader, close_reader)
            await loop.run_in_executor(self._writer, close_writer)
        self._reader.shutdown(wait=True)
        self._writer.shutdown(wait=True)
        self._day_cache.clear()


def _day_sold(conn: sqlite3.Connection, venue: str, date: str) -> dict[str, int]:
    rows = conn.execute(
        "SELECT slot, sold FROM sold WHERE venue = ? AND date = ?", (venue, date)
    ).fetchall()
    return {slot: int(sold) for slot, sold in rows}


def _slot_sold(conn: sqlite3.Connection, venue: str, date: str, slot: str) -> int:
    row = conn.execute(
        "SELECT sold FROM sold WHERE venue = ? AND date = ? AND slot = ?", (venue, date, slot)
    ).fetchone()
    return 0 if row is None else int(row[0])


def _live_version(conn: sqlite3.Connection, venue: str) -> str | None:
    row = conn.execute("SELECT version FROM live WHERE venue = ?", (venue,)).fetchone()
    return None if row is None else str(row[0])


def _make_live(conn: sqlite3.Connection, venue: str, version: str) -> None:
    conn.execute("INSERT OR REPLACE INTO live (venue, version) VALUES (?, ?)", (venue, version))


def _append_audit(
    conn: sqlite3.Connection,
    venue: str,
    action: str,
    version: str,
    previous: str | None,
    actor: str,
    at: str,
    details_json: str,
) -> None:
    conn.execute(
        "INSERT INTO audit (venue, action, version, previous, actor, at, details) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (venue, action, version, previous, actor, at, details_json),
    )
    conn.execute(
        "DELETE FROM audit WHERE venue = ? AND id <= (SELECT id FROM audit WHERE venue = ? "
        "ORDER BY id DESC LIMIT 1 OFFSET ?)",
        (venue, venue, AUDIT_MAX_ENTRIES),
    )
