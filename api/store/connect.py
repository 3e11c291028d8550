"""The store the settings name: Redis when a URL is set, else the embedded SQLite file."""

from __future__ import annotations

from api.settings import Settings
from api.store.base import Store
from api.store.redis_store import RedisStore
from api.store.sqlite_store import SqliteStore


def open_store(settings: Settings) -> Store:
    if settings.redis_url:
        return RedisStore.from_url(
            settings.redis_url,
            key_prefix=settings.redis_key_prefix,
            timeout=settings.store_timeout_seconds,
            day_cache_seconds=settings.day_cache_seconds,
        )
    return SqliteStore(settings.db_path)
