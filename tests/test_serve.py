"""`yieldgate serve` as an operator runs it: real processes, real TCP, one and two workers."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import httpx2
import pytest
from apitools import next_wednesday

from api.devserver import ServiceDidNotStart, start_service, stop_service

CHECKOUT = {"Authorization": "Bearer ck_serve"}
MANAGER = {"Authorization": "Bearer mk_serve"}


def serve(*args: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    try:
        return start_service(
            args,
            {"YIELDGATE_API_KEYS": "checkout:ck_serve,manager:mk_serve", **env},
            capture_output=True,
        )
    except ServiceDidNotStart as exc:
        pytest.fail(str(exc))


@pytest.fixture
def stop_afterwards() -> Iterator[list[subprocess.Popen[str]]]:
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        stop_service(process)


def test_serve_with_no_setup_quotes_at_once(stop_afterwards: list) -> None:  # type: ignore[type-arg]
    env = {"REDIS_URL": "", "YIELDGATE_REDIS_URL": ""}
    process, base = serve(env=env)
    stop_afterwards.append(process)
    body = {
        "venue": "city-museum",
        "date": next_wednesday(),
        "slot": "11:00",
        "tickets": {"adult": 1},
    }
    response = httpx2.post(f"{base}/v1/quotes", json=body, headers=CHECKOUT)
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 20.0


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_two_workers_share_keys_plans_and_counts(
    server: str,
    stop_afterwards: list,  # type: ignore[type-arg]
    flushed_redis_url: str,
) -> None:
    process, base = serve(
        "--workers", "2", "--server", server, env={"REDIS_URL": flushed_redis_url}
    )
    stop_afterwards.append(process)
    date = next_wednesday()
    body = {"venue": "city-museum", "date": date, "slot": "11:00", "tickets": {"adult": 1}}
    with httpx2.Client(base_url=base) as http:
        # Every quote signed by either worker is honoured by whichever worker takes the sale.
        for n in range(20):
            with httpx2.Client(base_url=base) as fresh:  # a new connection may land anywhere
                token = fresh.post("/v1/quotes", json=body, headers=CHECKOUT).json()["token"]
            sale = {**body, "order_id": f"o-{n}", "token": token}
            assert http.post("/v1/sales", json=sale, headers=CHECKOUT).status_code == 201
        plan = {
            "venue": "city-museum",
            "currency": "EUR",
            "version": "v-two-workers",
            "days": [
                {
                    "date": date,
                    "slots": [
                        {"slot": "11:00", "capacity": 120, "steps": [{"price": 14, "units": 120}]}
                    ],
                }
            ],
        }
        assert http.post("/v1/plans", json=plan, headers=MANAGER).status_code == 201
        for _ in range(20):
            with httpx2.Client(base_url=base) as fresh:
                answer = fresh.post("/v1/quotes", json=body, headers=CHECKOUT).json()
            assert answer["plan_version"] == "v-two-workers" and answer["total"] == 14.0
        inventory = http.get(f"/v1/venues/city-museum/inventory/{date}", headers=MANAGER).json()
        assert inventory["sold"]["11:00"] == 20
        # Whichever worker answers the scrape reports both workers' counts.
        metrics = http.get("/metrics").text
        assert 'yieldgate_sales_total{outcome="recorded"} 20.0' in metrics
