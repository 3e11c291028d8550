"""A background scenario's beats end when it stops, even if a store call swallows the
cancellation (redis-py can, mid-command): otherwise the service's shutdown waited for ever."""

from __future__ import annotations

import asyncio
import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from api import scenarios
from api.scenarios import ScenarioService

SAVE_SECONDS = 0.2


async def beats_until_stopped() -> tuple[bool, int]:
    saves = 0

    async def swallowing_save(record: dict[str, Any]) -> None:
        nonlocal saves
        saves += 1
        try:
            await asyncio.sleep(SAVE_SECONDS)
        except asyncio.CancelledError:
            await asyncio.sleep(SAVE_SECONDS)  # swallowed: the call carries on and returns

    service = SimpleNamespace(_save=swallowing_save, _clock=lambda: dt.datetime.now(dt.UTC))
    stop = asyncio.Event()
    beats = asyncio.create_task(ScenarioService._heartbeat(service, {"id": "s"}, stop))  # type: ignore[arg-type]
    await asyncio.sleep(SAVE_SECONDS / 2)  # a beat is saving now
    stop.set()
    beats.cancel()
    done, _ = await asyncio.wait({beats}, timeout=10 * SAVE_SECONDS)
    return bool(done), saves


def test_the_beats_end_when_told_even_if_a_save_swallows_the_cancel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scenarios, "HEARTBEAT_SECONDS", 0.001)
    ended, saves = asyncio.run(beats_until_stopped())
    assert ended
    assert saves == 1
