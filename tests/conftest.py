"""Fixtures shared by the whole suite. Async tests are marked `@pytest.mark.anyio`."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
from apitools import CHECKOUT_KEY, MANAGER_KEY, NOW, FakeClock
from fastapi.testclient import TestClient
from redis.exceptions import RedisError

from api.app import create_app
from api.settings import EXAMPLE_VENUES, Settings
from api.store import Store
from api.store.redis_store import RedisStore
from api.store.sqlite_store import SqliteStore

DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def own_database_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's embedded store (and quote-signing key file) in a directory of its own, so no
    test reads another's sales or leaves a file in the working tree; subprocesses inherit it."""
    path = tmp_path / "store" / "yieldgate.db"
    monkeypatch.setenv("YIELDGATE_DB_PATH", str(path))
    return path


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis database the tests own: it is flushed before every test that uses it."""
    return os.environ.get("YIELDGATE_TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL)


@pytest.fixture
def flushed_redis_url(redis_url: str) -> str:
    """The test database, emptied; fails (never skips) without Redis, since CI guarantees one."""
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.flushdb()
    except RedisError as exc:
        pytest.fail(
            f"the test Redis at {redis_url} is unreachable ({exc}); start one "
            "or point YIELDGATE_TEST_REDIS_URL at one",
            pytrace=False,
        )
    finally:
        client.close()
    return redis_url


@pytest.fixture
async def redis_store(flushed_redis_url: str) -> AsyncIterator[RedisStore]:
    store = RedisStore.from_url(flushed_redis_url)
    yield store
    await store.close()


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """A fresh SQLite file of its own."""
    store = SqliteStore(tmp_path / "sqlite-store.db")
    yield store
    await store.close()


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest) -> Store:
    """Each test that uses it runs once per Store implementation."""
    chosen: Store = request.getfixturevalue(f"{request.param}_store")
    return chosen


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def client(
    request: pytest.FixtureRequest, clock: FakeClock, tmp_path: Path
) -> Iterator[TestClient]:
    """The app on each store: a fresh SQLite file, or the test Redis database flushed."""
    redis_url = request.getfixturevalue("flushed_redis_url") if request.param == "redis" else None
    settings = Settings(
        redis_url=redis_url,
        db_path=tmp_path / "client.db",
        api_keys=f"checkout:{CHECKOUT_KEY},manager:{MANAGER_KEY}",
        token_keys="test-signing-key",
        venues_dir=EXAMPLE_VENUES,
        bootstrap_days=60,
    )
    with TestClient(create_app(settings, clock=clock)) as test_client:
        yield test_client
