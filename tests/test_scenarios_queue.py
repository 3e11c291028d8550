"""Bounded background work (issue 10, item 8): at most so many background scenarios queued or
running, per venue and in all (429 with Retry-After beyond), a Location on every 202, and a
short scenario that does not wait behind the queue.

Background scenarios are held at their first step (`_prepare`, the fit) by a gate the test
opens, so they stay queued; the work runs in threads (`scenario_processes=False`), where the
gate can reach it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from apitools import CHECKOUT_KEY, MANAGER, MANAGER_KEY, NOW, FakeClock, problem
from fastapi.testclient import TestClient
from httpx2 import Response
from scenariotools import VENUE, history_csv, scenario_body, wait_until_done

from api import scenarios
from api.app import create_app
from api.settings import EXAMPLE_VENUES, Settings

OTHER = "other-museum"  # the example venue under another id: the same history fits it
LONG = 2  # days: past scenario_sync_days=1, so in the background


class Gate:
    """Stands in for the scenarios' `_prepare`: notes who came, and holds them until open."""

    def __init__(self, prepare: Callable[[Any], Any]) -> None:
        self._prepare = prepare
        self._open = threading.Event()
        self._closing = False
        self.entered: list[str] = []

    def __call__(self, job: Any) -> Any:
        self.entered.append(job.venue.id)
        self._open.wait(timeout=120)
        if self._closing:
            raise RuntimeError("the test is over")
        return self._prepare(job)

    def open(self) -> None:
        self._open.set()

    def hold(self) -> None:
        self._open.clear()

    def close(self) -> None:
        self._closing = True
        self._open.set()


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Gate:
    gate = Gate(scenarios._prepare)
    monkeypatch.setattr(scenarios, "_prepare", gate)
    return gate


@pytest.fixture
def make_client(tmp_path: Path, gate: Gate) -> Iterator[Callable[..., TestClient]]:
    venues = tmp_path / "venues"
    venues.mkdir()
    toml = (EXAMPLE_VENUES / f"{VENUE}.toml").read_text(encoding="utf-8")
    (venues / f"{VENUE}.toml").write_text(toml, encoding="utf-8")
    other = toml.replace(f'id = "{VENUE}"', f'id = "{OTHER}"')
    (venues / f"{OTHER}.toml").write_text(other, encoding="utf-8")
    clients: list[TestClient] = []

    def make(**settings: Any) -> TestClient:
        client = TestClient(
            create_app(
                Settings(
                    api_keys=f"checkout:{CHECKOUT_KEY},manager:{MANAGER_KEY}",
                    token_keys="test-signing-key",
                    venues_dir=venues,
                    scenario_processes=False,
                    scenario_sync_days=1,
                    **settings,
                ),
                clock=FakeClock(NOW),
            )
        )
        client.__enter__()
        clients.append(client)
        for venue in (VENUE, OTHER):
            response = client.put(
                f"/v1/venues/{venue}/history",
                content=history_csv().encode(),
                headers={**MANAGER, "Content-Type": "text/csv"},
            )
            assert response.status_code == 200, response.text
        return client

    yield make
    gate.close()  # before the service stops, so no worker thread is left waiting
    for client in clients:
        client.__exit__(None, None, None)


def post(client: TestClient, venue: str = VENUE, days: int = LONG) -> Response:
    return client.post(
        "/v1/scenarios", json={**scenario_body(days), "venue": venue}, headers=MANAGER
    )


def accepted(response: Response) -> str:
    assert response.status_code == 202, response.text
    scenario_id: str = response.json()["id"]
    assert response.headers["location"] == f"/v1/scenarios/{scenario_id}"
    return scenario_id


def refused(response: Response) -> str:
    body = problem(response, 429)
    assert body["type"] == "https://yieldgate.dev/problems/too-many-requests"
    assert response.headers["retry-after"] == str(scenarios.QUEUE_RETRY_AFTER_SECONDS)
    detail: str = body["detail"]
    return detail


def test_a_full_queue_is_429_with_retry_after_until_a_scenario_ends(
    make_client: Callable[..., TestClient], gate: Gate
) -> None:
    client = make_client(scenario_queue=2, scenario_queue_per_venue=2)
    first, second = accepted(post(client)), accepted(post(client))

    detail = refused(post(client))
    assert detail.startswith("2 background scenarios are queued or running, the most allowed")
    assert "at most 1 days" in detail
    refused(post(client, OTHER))  # the limit in all holds for every venue

    gate.open()
    assert wait_until_done(client, first)["status"] == "done"
    assert wait_until_done(client, second)["status"] == "done"
    gate.hold()
    third = accepted(retry_until_taken(client))  # the ended ones' places are free again
    response = client.post(f"/v1/scenarios/{first}/rerun", headers=MANAGER)
    rerun = accepted(response)  # a rerun queues like any other: the second place
    refused(post(client))
    gate.open()
    assert wait_until_done(client, third)["status"] == "done"
    assert wait_until_done(client, rerun)["status"] == "done"


def test_each_venue_has_its_share_of_the_queue(
    make_client: Callable[..., TestClient], gate: Gate
) -> None:
    client = make_client(scenario_queue=3, scenario_queue_per_venue=2)
    accepted(post(client, VENUE))
    accepted(post(client, VENUE))
    detail = refused(post(client, VENUE))
    assert detail.startswith(f"venue '{VENUE}' has 2 background scenarios queued or running")
    accepted(post(client, OTHER))  # its own share: the third place in all
    detail = refused(post(client, OTHER))
    assert detail.startswith("3 background scenarios are queued or running")


def test_background_scenarios_take_the_workers_one_at_a_time(
    make_client: Callable[..., TestClient], gate: Gate
) -> None:
    # Two workers: the first background scenario holds one (at the gate). The second waits
    # for its turn rather than take the other worker, so a short scenario gets it at once.
    client = make_client(scenario_workers=2)
    first, second = accepted(post(client)), accepted(post(client, OTHER))
    response = post(client, days=1)
    assert response.status_code == 201, response.text
    assert gate.entered == [VENUE]  # the second has not started
    gate.open()
    assert wait_until_done(client, first)["status"] == "done"
    assert wait_until_done(client, second)["status"] == "done"
    assert gate.entered == [VENUE, OTHER]


def retry_until_taken(client: TestClient) -> Response:
    """POST until the queue has a place: a scenario's place frees just after its last save,
    which `wait_until_done` may see first."""
    for _ in range(1000):
        response = post(client)
        if response.status_code != 429:
            return response
        threading.Event().wait(0.01)
    raise AssertionError("no place freed in the queue")
