from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from starlette.responses import Response

from pricing.money import to_units
from pricing.quote import Alternative


def json_response(
    data: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(data), status_code=status_code, media_type="application/json", headers=headers
    )


def alternatives_json(alternatives: Iterable[Alternative]) -> list[dict[str, Any]]:
    return [
        {"slot": a.slot, "price": to_units(a.price), "saving": to_units(a.saving)}
        for a in alternatives
    ]
