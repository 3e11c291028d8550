"""Faults under load: quotes and sales on Redis with 2 workers while Redis dies, twice.

Runs a Redis of its own (append-only file, fsync on every write) on a free loopback port and
`yieldgate serve --workers 2` on it, then a steady mix of quotes and sales from a few threads
(every sale a new order id, 1-2 tickets, spread over 30 days). The timeline, in seconds of load:

    0   load starts
    10  Redis killed (SIGKILL)                 15  restarted on its append-only file
    22  checkpoint: refused sales retried with their order ids; store counts == acknowledged
    25  Redis killed                           27  restarted empty (its files removed)
    30  the operator reconciles the counts from the acknowledged sales and recovers the venue
    36  load stops; refused sales retried; store counts == acknowledged again

It prints acknowledged sales, 503s (and any without Retry-After), other 5xx, recovery times and
acknowledged sales missing from the store, and exits 1 if a promise broke. `make faults`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from api.devserver import LocalRedis, ServiceDidNotStart, start_service, stop_service  # noqa: E402

VENUE = "city-museum"
CHECKOUT = {"Authorization": "Bearer ck_faults", "Content-Type": "application/json"}
MANAGER = {"Authorization": "Bearer mk_faults", "Content-Type": "application/json"}


@dataclass
class Sale:
    order_id: str
    body: bytes
    date: str
    slot: str
    quantity: int


@dataclass
class Ledger:
    """What the checkout knows: acknowledged sales, refusals to retry, and every status."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged: dict[str, Sale] = field(default_factory=dict)
    refused: dict[str, Sale] = field(default_factory=dict)  # 503 or no answer: retry later
    statuses: Counter[str] = field(default_factory=Counter)
    missing_retry_after: int = 0
    first_sale_at: list[float] = field(default_factory=list)  # monotonic times of every 201

    def note(self, kind: str, status: int, headers: dict[str, str]) -> None:
        with self.lock:
            self.statuses[f"{kind} {status}"] += 1
            if status == 503 and "retry-after" not in headers:
                self.missing_retry_after += 1


class Client:
    """One keep-alive HTTP connection; a dropped connection is opened again."""

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._connection = http.client.HTTPConnection(host, port, timeout=5)

    def call(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        try:
            self._connection.request(method, path, body=body, headers=headers)
            response = self._connection.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        except (OSError, http.client.HTTPException):
            self._connection.close()
            self._connection = http.client.HTTPConnection(self._host, self._port, timeout=5)
            return 0, {}, b""


def open_days(client: Client, days: int) -> dict[str, list[str]]:
    """Each open date's entry slots, from the service's own price lists."""
    today = dt.date.today()
    found = {}
    for offset in range(1, days + 1):
        date = (today + dt.timedelta(offset)).isoformat()
        status, _, data = client.call(
            "GET", f"/v1/venues/{VENUE}/prices?date={date}", None, CHECKOUT
        )
        if status == 200:
            found[date] = [slot["slot"] for slot in json.loads(data)["slots"]]
    return found


def sell(client: Client, ledger: Ledger, sale: Sale) -> int:
    status, headers, _ = client.call("POST", "/v1/sales", sale.body, CHECKOUT)
    ledger.note("sale", status, headers)
    with ledger.lock:
        if status in (200, 201):
            ledger.acknowledged[sale.order_id] = sale
            ledger.refused.pop(sale.order_id, None)
            if status == 201:
                ledger.first_sale_at.append(time.monotonic())
        elif status in (0, 503):
            ledger.refused[sale.order_id] = sale
    return status


def shop(
    base: tuple[str, int], days: dict[str, list[str]], ledger: Ledger, stop: threading.Event, n: int
) -> None:
    client = Client(*base)
    rng = random.Random(n)
    count = 0
    while not stop.is_set():
        date = rng.choice(list(days))
        slot = rng.choice(days[date])
        tickets = {"adult": rng.choice((1, 2))}
        order = {"venue": VENUE, "date": date, "slot": slot, "tickets": tickets}
        status, headers, data = client.call(
            "POST", "/v1/quotes", json.dumps(order).encode(), CHECKOUT
        )
        ledger.note("quote", status, headers)
        if status == 200:
            count += 1
            token = json.loads(data)["token"]
            order_id = f"t{n}-{count}"
            body = json.dumps({**order, "order_id": order_id, "token": token}).encode()
            sell(client, ledger, Sale(order_id, body, date, slot, tickets["adult"]))
        time.sleep(0.002)


def acknowledged_counts(ledger: Ledger) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for sale in ledger.acknowledged.values():
        counts[sale.date][sale.slot] += sale.quantity
    return counts


def missing_from_store(client: Client, ledger: Ledger) -> int:
    """Acknowledged tickets the store does not count (and tickets it counts beyond them)."""
    missing = 0
    for date, slots in acknowledged_counts(ledger).items():
        status, _, data = client.call("GET", f"/v1/venues/{VENUE}/inventory/{date}", None, MANAGER)
        if status != 200:
            return -1
        sold = json.loads(data)["sold"]
        missing += sum(abs(sold.get(slot, 0) - count) for slot, count in slots.items())
    return missing


def retry_refused(client: Client, ledger: Ledger) -> list[tuple[Sale, int]]:
    """Each refused sale again, with its order id and token, and what it answered now."""
    return [(sale, sell(client, ledger, sale)) for sale in list(ledger.refused.values())]


def retried(outcomes: list[tuple[Sale, int]]) -> str:
    counts = Counter(status for _, status in outcomes)
    return f"recorded {counts[201]}, replayed {counts[200]}, sold out {counts[409]}"


def wait_for(predicate: Any, seconds: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def reconcile_and_recover(client: Client, ledger: Ledger) -> dict[str, Any]:
    """The operator's part: the ticketing system's counts back in, then the venue recovered."""
    for date, slots in acknowledged_counts(ledger).items():
        body = json.dumps({"sold": dict(slots)}).encode()
        status, _, data = client.call("PUT", f"/v1/venues/{VENUE}/inventory/{date}", body, MANAGER)
        if status != 200:
            raise SystemExit(f"faults: reconciling {date} answered {status}: {data[:200]!r}")
    status, _, data = client.call("POST", f"/v1/venues/{VENUE}/recover", b"", MANAGER)
    if status != 200:
        raise SystemExit(f"faults: recover answered {status}: {data[:200]!r}")
    answer: dict[str, Any] = json.loads(data)
    return answer


def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="yieldgate-faults-"))
    redis = LocalRedis(workdir / "redis")
    redis.start()
    env = {
        "REDIS_URL": redis.url,
        "YIELDGATE_API_KEYS": "checkout:ck_faults,manager:mk_faults",
        "YIELDGATE_TOKEN_KEYS": "faults-signing-key",
        "YIELDGATE_BOOTSTRAP_DAYS": "60",
        "YIELDGATE_DB_PATH": str(workdir / "unused.db"),
    }
    try:
        service, url = start_service(["--workers", "2"], env, log_file=workdir / "service.log")
    except ServiceDidNotStart as exc:
        redis.stop()
        sys.exit(f"faults: {exc}")
    host, port = url.removeprefix("http://").split(":")
    base = (host, int(port))
    control = Client(*base)
    ledger = Ledger()
    stop = threading.Event()
    figures: dict[str, Any] = {}
    try:
        days = open_days(control, 30)
        threads = [
            threading.Thread(target=shop, args=(base, days, ledger, stop, n), daemon=True)
            for n in range(args.threads)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()

        def at(second: float) -> None:
            time.sleep(max(0.0, started + second * args.scale - time.monotonic()))

        def sold_since(moment: float) -> bool:
            return any(t > moment for t in ledger.first_sale_at[-50:])

        at(10)
        redis.kill()
        at(15)
        redis.start()
        back = time.monotonic()
        figures["recovery_after_restart_s"] = wait_for(lambda: sold_since(back), 10)

        at(22)
        stop.set()
        for thread in threads:
            thread.join()
        figures["checkpoint_retried"] = retried(retry_refused(control, ledger))
        figures["missing_after_restart"] = missing_from_store(control, ledger)
        figures["acknowledged_before_empty_restart"] = len(ledger.acknowledged)
        stop.clear()
        threads = [
            threading.Thread(target=shop, args=(base, days, ledger, stop, n + 100), daemon=True)
            for n in range(args.threads)
        ]
        for thread in threads:
            thread.start()

        at(25)
        redis.kill()
        redis.wipe()
        at(27)
        redis.start()
        emptied = time.monotonic()
        figures["lost_noticed_after_s"] = wait_for(
            lambda: b"lost the data" in control.call("GET", "/readyz", None, {})[2], 10
        )
        at(30)
        recovered = reconcile_and_recover(control, ledger)
        recovered_at = time.monotonic()
        figures["republished"] = recovered["republished"]
        figures["sales_after_recovery_s"] = wait_for(lambda: sold_since(recovered_at), 10)
        figures["ready_after_recovery"] = control.call("GET", "/readyz", None, {})[0] == 200
        figures["empty_restart_to_recovered_s"] = round(recovered_at - emptied, 2)

        at(36)
        stop.set()
        for thread in threads:
            thread.join()
        final = retry_refused(control, ledger)
        figures["final_retried"] = retried(final)
        figures["missing_at_end"] = missing_from_store(control, ledger)
        figures["exactly_once"] = exactly_once(
            control, ledger, [sale for sale, status in final if status == 201]
        )
    finally:
        stop.set()
        stop_service(service)
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return report(ledger, figures)


def exactly_once(client: Client, ledger: Ledger, recorded_on_retry: list[Sale]) -> str:
    """A sale refused during the loss and recorded on its retry, sent once more: replayed,
    counted once."""
    if not recorded_on_retry:
        return "no refused sale was recorded on its retry to show it with  BROKEN"
    sale = recorded_on_retry[0]
    path = f"/v1/venues/{VENUE}/inventory/{sale.date}"
    before = json.loads(client.call("GET", path, None, MANAGER)[2])["sold"].get(sale.slot, 0)
    again = sell(client, ledger, sale)
    after = json.loads(client.call("GET", path, None, MANAGER)[2])["sold"].get(sale.slot, 0)
    ok = again == 200 and after == before
    return f"order {sale.order_id}: retried once more -> {again}, count {before} -> {after}" + (
        "" if ok else "  BROKEN"
    )


def seconds(value: float | None) -> str:
    return "never (10 s)" if value is None else f"{value:.2f} s"


def report(ledger: Ledger, figures: dict[str, Any]) -> int:
    five_xx = {k: v for k, v in ledger.statuses.items() if k.split()[1].startswith("5")}
    other_5xx = sum(v for k, v in five_xx.items() if not k.endswith(" 503"))
    lines = [
        f"acknowledged sales         {len(ledger.acknowledged)}",
        f"answers                    {dict(sorted(ledger.statuses.items()))}",
        f"503s                       {sum(v for k, v in five_xx.items() if k.endswith(' 503'))}"
        f" (without Retry-After: {ledger.missing_retry_after})",
        f"other 5xx                  {other_5xx}",
        f"restart on its AOF: sales again after {seconds(figures['recovery_after_restart_s'])}",
        f"  refused sales retried    {figures['checkpoint_retried']}",
        f"  acknowledged missing     {figures['missing_after_restart']}",
        f"restart empty: noticed after {seconds(figures['lost_noticed_after_s'])} (readyz 503);"
        f" reconciled and recovered {figures['empty_restart_to_recovered_s']} s after the restart",
        f"  republished plan         {figures['republished']}",
        f"  sales again after        {seconds(figures['sales_after_recovery_s'])};"
        f" ready: {figures['ready_after_recovery']}",
        f"  refused sales retried    {figures['final_retried']}",
        f"  acknowledged missing     {figures['missing_at_end']}",
        f"exactly once               {figures['exactly_once']}",
    ]
    print("\n".join(lines))
    broken = (
        other_5xx
        or ledger.missing_retry_after
        or figures["missing_after_restart"] != 0
        or figures["missing_at_end"] != 0
        or "BROKEN" in figures["exactly_once"]
        or not figures["ready_after_recovery"]
        or figures["recovery_after_restart_s"] is None
        or figures["sales_after_recovery_s"] is None
    )
    if broken:
        print("faults: a promise broke (see above)")
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=4, help="shopping threads")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="stretch (>1) or squeeze the timeline"
    )
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        sys.exit("faults: redis-server is not installed (scripts/ensure-redis.sh installs it)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.environ.pop("REDIS_URL", None)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
