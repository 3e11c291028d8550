"""Request bodies. Responses are plain dicts serialised with orjson (see DESIGN.md shapes)."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

Name = Annotated[str, Field(min_length=1, max_length=64)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QuoteRequest(_Body):
    venue: Name
    date: Name
    slot: Name
    tickets: dict[Name, StrictInt]


class SaleRequestBody(_Body):
    order_id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
    venue: Name
    date: Name
    slot: Name
    tickets: dict[Name, StrictInt]
    token: Annotated[str, Field(min_length=1, max_length=4096)]


class InventoryBody(_Body):
    sold: dict[Name, StrictInt]


Body = TypeVar("Body", bound=BaseModel)


def parse_body(model: type[Body], raw: bytes) -> Body:
    """Validate a JSON body straight from bytes (pydantic-core parses and checks in one pass).

    The hot routes read their body this way instead of through FastAPI's body parameters, which
    decode JSON with the standard library and validate it a second time; errors come out the same.
    """
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors: list[Any] = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None
