"""Request bodies. Responses are plain dicts serialised with orjson (see DESIGN.md shapes)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

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
