"""All configuration, from the environment (YIELDGATE_*), reached through `get_settings()`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

EXAMPLE_VENUES = Path(__file__).resolve().parent.parent / "examples" / "venues"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YIELDGATE_", extra="ignore")

    # Unset means the embedded store: the SQLite file at `db_path`, shared by the workers on
    # this machine, kept across restarts.
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("YIELDGATE_REDIS_URL", "REDIS_URL")
    )
    redis_key_prefix: str = "yg"
    # The embedded store's file (relative to the working directory); its directory is made on
    # first use, and also holds the quote-signing key file when `token_keys` is unset.
    db_path: Path = Path(".yieldgate/yieldgate.db")
    store_timeout_seconds: float = Field(default=0.5, gt=0)
    # After the store fails, quotes skip it for this long and answer from cache, marked stale.
    store_retry_seconds: float = Field(default=1.0, ge=0)

    # How long a day's sold counts and live plan version may be reused without asking Redis.
    # Every write also sends a change notice that empties the entry at once; this bounds what a
    # lost notice can cost. 0 turns the cache off (one round trip per quote).
    day_cache_seconds: float = Field(default=1.0, ge=0, le=1.0)

    venues_dir: Path = EXAMPLE_VENUES
    # "checkout:KEY,manager:KEY"; several keys per role are allowed.
    api_keys: str = ""
    # Comma-separated secrets; the first signs quote tokens, all verify (key rotation). Unset:
    # one key kept in `token-key` beside `db_path`, made once and shared by every worker.
    token_keys: str = ""

    quote_ttl_seconds: int = Field(default=900, gt=0)
    max_tickets_per_order: int = Field(default=20, gt=0)
    few_left_share: float = Field(default=0.1, ge=0, le=1)
    prices_max_age_seconds: int = Field(default=5, ge=0)
    # The largest request body taken (413 beyond it); the CSV uploads have their own cap,
    # api/venue_documents.py MAX_UPLOAD_BYTES (64 MB).
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # A Plan JSON (`POST /v1/plans`) may price a year of many slots: it has a cap of its own.
    max_plan_bytes: int = Field(default=16 * 1024 * 1024, gt=0)
    # Plan JSON files made live at start for venues that have no live plan yet (comma-separated);
    # venues still without one then get the bootstrap plan.
    start_plans: str = ""
    bootstrap_days: int = Field(default=60, ge=0)

    # Venue histories for scenarios: `<venue id>.csv` files; one uploaded with
    # `PUT /v1/venues/{venue}/history` takes precedence.
    history_dir: Path | None = None
    # Scenarios of up to this many days are answered at once; longer ones run in the background.
    scenario_sync_days: int = Field(default=31, ge=1)
    # Background scenarios queued or running at once in this process, in all and per venue;
    # beyond either, POST /v1/scenarios answers 429 with Retry-After.
    scenario_queue: int = Field(default=8, ge=1)
    scenario_queue_per_venue: int = Field(default=8, ge=1)
    # Worker processes that fit, forecast and optimise scenarios, off the event loop (each keeps
    # its own fitted models); false runs them in threads of the serving process instead.
    scenario_workers: int = Field(default=1, ge=1, le=32)
    scenario_processes: bool = True


@lru_cache
def get_settings() -> Settings:
    return Settings()
