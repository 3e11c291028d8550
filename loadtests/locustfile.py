"""Checkout traffic across a published plan: 60% price lists, 35% quotes, 5% sales (some cancelled).

Keys come from the environment: YIELDGATE_CHECKOUT_KEY (required). The venue is read from
YIELDGATE_VENUE_FILE (default: the example venue) so only open days and real slots are asked for.
A sold-out answer (409) is a correct answer under load, not a failure.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import uuid
from pathlib import Path

from locust import FastHttpUser, constant_throughput, task

from pricing.calendar import entry_slots
from pricing.venue import parse_venue_toml

ROOT = Path(__file__).resolve().parent.parent
VENUE_FILE = Path(
    os.environ.get("YIELDGATE_VENUE_FILE", ROOT / "examples" / "venues" / "city-museum.toml")
)
VENUE = parse_venue_toml(VENUE_FILE.read_text(encoding="utf-8"), source=str(VENUE_FILE))
PLAN_DAYS = int(os.environ.get("YIELDGATE_PLAN_DAYS", "60"))
# Tomorrow onwards: today's slots run out while the test runs.
DAYS = [
    (str(day), entry_slots(VENUE, day))
    for day in (dt.date.today() + dt.timedelta(days=n) for n in range(1, PLAN_DAYS))
    if entry_slots(VENUE, day)
]
SEGMENTS = [s for s in ("adult", "senior", "student", "child") if s in VENUE.segments]
CANCEL_SHARE = 0.2


def random_tickets() -> dict[str, int]:
    tickets: dict[str, int] = {}
    for _ in range(random.randint(1, 6)):
        segment = random.choices(SEGMENTS, weights=[6, 2, 1, 1][: len(SEGMENTS)])[0]
        tickets[segment] = tickets.get(segment, 0) + 1
    return tickets


class Checkout(FastHttpUser):
    wait_time = constant_throughput(float(os.environ.get("YIELDGATE_USER_RPS", "20")))

    def on_start(self) -> None:
        key = os.environ.get("YIELDGATE_CHECKOUT_KEY")
        if not key:
            raise RuntimeError("set YIELDGATE_CHECKOUT_KEY to a checkout API key")
        self.auth = {"Authorization": f"Bearer {key}"}

    @task(60)
    def slot_picker(self) -> None:
        date, _ = random.choice(DAYS)
        self.client.get(
            f"/v1/venues/{VENUE.id}/prices?date={date}",
            headers=self.auth,
            name="GET /v1/venues/[venue]/prices",
        )

    def _quote(self) -> dict | None:  # type: ignore[type-arg]
        date, slots = random.choice(DAYS)
        body = {
            "venue": VENUE.id,
            "date": date,
            "slot": random.choice(slots),
            "tickets": random_tickets(),
        }
        with self.client.post(
            "/v1/quotes", json=body, headers=self.auth, name="POST /v1/quotes", catch_response=True
        ) as response:
            if response.status_code == 200:
                return response.json()  # type: ignore[no-any-return]
            if response.status_code == 409:
                response.success()
            return None

    @task(35)
    def quote(self) -> None:
        self._quote()

    @task(5)
    def buy(self) -> None:
        quoted = self._quote()
        if quoted is None:
            return
        order_id = f"load-{uuid.uuid4().hex}"
        sale = {
            "order_id": order_id,
            "venue": quoted["venue"],
            "date": quoted["date"],
            "slot": quoted["slot"],
            "tickets": {line["segment"]: line["quantity"] for line in quoted["lines"]},
            "token": quoted["token"],
        }
        with self.client.post(
            "/v1/sales", json=sale, headers=self.auth, name="POST /v1/sales", catch_response=True
        ) as response:
            if response.status_code == 409:  # sold out between quote and sale
                response.success()
                return
        if random.random() < CANCEL_SHARE:
            self.client.post(
                f"/v1/sales/{order_id}/cancel",
                headers=self.auth,
                name="POST /v1/sales/[order]/cancel",
            )
