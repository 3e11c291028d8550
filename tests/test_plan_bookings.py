"""`yieldgate plan` re-optimising with the bookings on hand: the places sold read from a running
service or the store (`--sold-live`) or a CSV (`--sold`), and a booking curve learned from past
bookings (`--bookings`)."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from test_optimizer_simulate import plan_args, run

from api.cli import main
from api.cli_bookings import live_sold_counts
from api.devserver import ServiceDidNotStart, start_service, stop_service
from api.settings import get_settings
from forecasting.world import DemoWorld, write_demo
from pricing.calendar import entry_slots
from pricing.errors import ServiceUnavailable
from pricing.plan import Plan, parse_plan
from pricing.venue import Venue

MANAGER_KEY = "mk_bookings"


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("world")


@pytest.fixture(scope="module")
def world(world_dir: Path) -> DemoWorld:
    return write_demo(world_dir, seed=3, days=240, slots_per_day=4, calendar_days=21)


def first_day(world: DemoWorld) -> dt.date:
    return dt.date.fromisoformat(world.truth["history_end"]) + dt.timedelta(1)


def open_date(world: DemoWorld) -> dt.date:
    """The first date of the plan with entry slots."""
    start = first_day(world)
    return next(
        start + dt.timedelta(n)
        for n in range(7)
        if entry_slots(world.venue, start + dt.timedelta(n))
    )


def slots_on(world: DemoWorld, date: dt.date) -> list[str]:
    return sorted(entry_slots(world.venue, date))


def on_the_day_bookings(path: Path, date: dt.date, tickets: int = 40) -> Path:
    """Bookings of a past date, all made on the visit day: nothing of a date sells ahead. (A
    row of a date still on sale, to be left out, comes with it.)"""
    past = date - dt.timedelta(days=30)
    path.write_text(
        f"date,booked_on,tickets\n{past},{past},{tickets}\n{date},{date - dt.timedelta(3)},9\n",
        encoding="utf-8",
    )
    return path


def slot_of(plan: Plan, date: dt.date, slot: str) -> tuple[int, int, float]:
    """(units of the first step, capacity, expected sales) of one slot of the plan."""
    day = next(d for d in plan.days if d.date == date)
    planned = next(s for s in day.slots if s.slot == slot)
    return planned.steps[0].units, planned.capacity, planned.expected_sales or 0.0


@pytest.fixture
def service(world_dir: Path) -> Iterator[str]:
    try:
        process, base = start_service(
            (),
            {
                "YIELDGATE_API_KEYS": f"manager:{MANAGER_KEY},checkout:ck_x",
                "YIELDGATE_VENUES_DIR": str(world_dir),
                "REDIS_URL": "",
                "YIELDGATE_REDIS_URL": "",
                "YIELDGATE_BOOTSTRAP_DAYS": "0",
            },
            capture_output=True,
        )
    except ServiceDidNotStart as exc:
        pytest.fail(str(exc))
    yield base
    stop_service(process)


def test_plan_reads_the_places_sold_from_the_service_and_plans_around_them(
    world: DemoWorld,
    world_dir: Path,
    tmp_path: Path,
    service: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    date = open_date(world)
    venue: Venue = world.venue
    slot = slots_on(world, date)[0]
    capacity = venue.capacity_of(slot)
    sold = capacity - 10
    response = httpx2.put(
        f"{service}/v1/venues/{venue.id}/inventory/{date}",
        json={"sold": {slot: sold}},
        headers={"Authorization": f"Bearer {MANAGER_KEY}"},
    )
    assert response.status_code == 200, response.text

    counts = live_sold_counts(venue.id, [date, date + dt.timedelta(1)], service, MANAGER_KEY)
    assert counts == {(date, slot): sold}

    out = tmp_path / "plan.json"
    bookings = on_the_day_bookings(tmp_path / "bookings.csv", date)
    as_of = date - dt.timedelta(days=2)
    code, printed, err = run(
        capsys,
        *plan_args(world, world_dir, out, "--sold-live", "--as-of", str(as_of)),
        "--bookings",
        str(bookings),
        "--url",
        service,
        "--key",
        MANAGER_KEY,
    )
    assert code == 0, err
    assert f"read {sold} place(s) sold on 6 date(s)" in err + printed  # Monday is closed
    assert "booking curve learned from 40 booked tickets (9 of dates still on sale" in err + printed
    first_units, planned_capacity, expected = slot_of(
        parse_plan(json.loads(out.read_text())), date, slot
    )
    # The places sold sit in the first step; at most the 10 left are still expected to sell.
    assert planned_capacity == capacity
    assert first_units >= sold
    assert sold <= expected <= capacity


def test_the_learned_curve_changes_what_is_planned_for(
    world: DemoWorld,
    world_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The same places sold, two days out: with the default curve 65% of the demand has booked
    # already (1 - exp(-3/7) is still to come); with everyone booking on the day, all of it is
    # still to come, so the plan expects more sales (the CSV --sold path, like the live one).
    date = open_date(world)
    slot = slots_on(world, date)[-1]
    sold_csv = tmp_path / "sold.csv"
    sold_csv.write_text(f"date,slot,sold\n{date},{slot},3\n", encoding="utf-8")
    as_of = str(date - dt.timedelta(days=2))
    default_out, learned_out = tmp_path / "default.json", tmp_path / "learned.json"
    common = ("--sold", str(sold_csv), "--as-of", as_of)
    code, _, err = run(capsys, *plan_args(world, world_dir, default_out, *common))
    assert code == 0, err
    bookings = on_the_day_bookings(tmp_path / "bookings.csv", date)
    code, _, err = run(
        capsys, *plan_args(world, world_dir, learned_out, *common, "--bookings", str(bookings))
    )
    assert code == 0, err

    def expected_total(path: Path) -> float:
        plan = parse_plan(json.loads(path.read_text()))
        day = next(d for d in plan.days if d.date == date)
        return sum(s.expected_sales or 0.0 for s in day.slots)

    assert expected_total(learned_out) > expected_total(default_out)


def test_bad_bookings_arguments_exit_with_one_line_before_fitting(
    world: DemoWorld,
    world_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "plan.json"
    sold = tmp_path / "sold.csv"
    sold.write_text("date,slot,sold\n", encoding="utf-8")
    future = tmp_path / "future.csv"
    future.write_text("date,booked_on\n" + "2099-01-02,2099-01-01\n" * 40, encoding="utf-8")
    cases = {
        ("--as-of", "2027-01-01"): "--as-of goes with --sold",
        ("--bookings", "b.csv"): "--bookings is for re-optimising",
        ("--sold-live", "--url", "http://127.0.0.1:9"): "--key (a manager key) is needed",
        ("--sold", str(sold), "--as-of", "2027-02-30"): "--as-of:",
        ("--sold", str(tmp_path / "none.csv")): "none.csv: No such file",
        ("--sold", str(sold), "--bookings", str(tmp_path / "none.csv")): "none.csv: No such",
        ("--sold", str(sold), "--bookings", str(future)): "too few bookings: 0 ticket(s)",
        ("--sold", str(sold), "--as-of", str(first_day(world) + dt.timedelta(3))): (
            "is before --as-of"
        ),
    }
    for more, message in cases.items():
        code, printed, err = run(capsys, *plan_args(world, world_dir, out, *more))
        assert code != 0 and message in err, err
        assert "fitting" not in printed + err  # told before the model is fitted
    for name in ("REDIS_URL", "YIELDGATE_REDIS_URL", "YIELDGATE_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    try:
        code, _, err = run(capsys, *plan_args(world, world_dir, out, "--sold-live"))
    finally:
        get_settings.cache_clear()
    assert "say where to read the places sold" in err
    with pytest.raises(SystemExit):
        main(plan_args(world, world_dir, out, "--sold", "s.csv", "--sold-live"))
    assert not out.exists()


@pytest.mark.redis
def test_live_counts_come_straight_from_the_store(
    world: DemoWorld,
    flushed_redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    from api.store.connect import open_store

    monkeypatch.setenv("REDIS_URL", flushed_redis_url)
    monkeypatch.delenv("YIELDGATE_REDIS_URL", raising=False)
    get_settings.cache_clear()
    date = open_date(world)
    slots = slots_on(world, date)

    async def put() -> None:
        store = open_store(get_settings())
        try:
            await store.set_sold(world.venue.id, str(date), {slots[0]: 7, slots[1]: 0})
        finally:
            await store.close()

    try:
        asyncio.run(put())
        counts = live_sold_counts(world.venue.id, [date], None, None)
    finally:
        get_settings.cache_clear()
    assert counts == {(date, slots[0]): 7}


def test_an_unreachable_service_is_one_line(
    world: DemoWorld, world_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan.json"
    as_of = str(first_day(world))
    more = ("--sold-live", "--as-of", as_of, "--url", "http://127.0.0.1:9", "--key", "k")
    code, _, err = run(capsys, *plan_args(world, world_dir, out, *more))
    assert code != 0
    assert "cannot reach http://127.0.0.1:9" in err
    assert "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("status", [200, 502])
def test_an_answer_that_is_not_yieldgates_is_one_line(status: int) -> None:
    class Proxy(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>Bad gateway</html>")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(ServiceUnavailable, match="an answer that is not yieldgate's"):
            live_sold_counts("demo-museum", [dt.date(2027, 3, 3)], url, "k")
    finally:
        server.shutdown()
        server.server_close()


def test_a_bookings_file_with_a_byte_order_mark_reads(
    world: DemoWorld, world_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bookings = on_the_day_bookings(tmp_path / "bookings.csv", open_date(world))
    bookings.write_bytes(b"\xef\xbb\xbf" + bookings.read_bytes())  # as Excel saves CSV
    sold = tmp_path / "sold.csv"
    sold.write_bytes(b"\xef\xbb\xbfdate,slot,sold\n")
    out = tmp_path / "plan.json"
    as_of = str(open_date(world) - dt.timedelta(days=2))
    more = ("--sold", str(sold), "--as-of", as_of, "--bookings", str(bookings))
    code, printed, err = run(capsys, *plan_args(world, world_dir, out, *more))
    assert code == 0, err
    assert "booking curve learned from 40 booked tickets" in printed + err
