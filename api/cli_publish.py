"""Making a Plan JSON live from the command line: through a running service or into the store.

Shared by `yieldgate publish` and `yieldgate plan --publish`. The service's modules are
imported inside the functions, so building the parser stays light.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

from api.cli_common import fail
from pricing.errors import YieldgateError


def publish_plan_data(data: object, url: str | None, key: str | None) -> int:
    """Publish decoded Plan JSON to `url` (with a manager `key`), else straight to REDIS_URL."""
    if url:
        return publish_over_http(url, key, data)
    if not store_configured():
        return fail("say where to publish: --url of a running service, or REDIS_URL")
    return asyncio.run(publish_to_store(data))


def store_configured() -> bool:
    from api.settings import get_settings

    return bool(get_settings().redis_url)


def publish_over_http(url: str, key: str | None, data: object) -> int:
    if not key:
        return fail("--key (a manager key) is needed to publish over HTTP")
    request = urllib.request.Request(
        url.rstrip("/") + "/v1/plans",
        data=json.dumps(data).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            print(response.read().decode())
            return 0
    except urllib.error.HTTPError as exc:
        return fail(json.loads(exc.read() or b"{}").get("detail", f"HTTP {exc.code}"))
    except urllib.error.URLError as exc:
        return fail(f"cannot reach {url}: {exc.reason}")


async def publish_to_store(data: object) -> int:
    from api.clock import system_clock
    from api.planning import PlanService
    from api.settings import get_settings
    from api.store.connect import open_store
    from api.venues import VenueRegistry

    settings = get_settings()
    store = open_store(settings)
    try:
        service = PlanService(
            VenueRegistry.from_directory(settings.venues_dir), store, system_clock
        )
        result = await service.publish(data, "cli")
    except YieldgateError as exc:
        return fail(exc.detail)
    finally:
        await store.close()
    print(json.dumps(result))
    return 0
