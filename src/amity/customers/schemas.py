"""What the outside world sends us, validated at the edge (Pydantic), and the shapes we answer with."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from amity.core.inputs import Input

EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$"


class IdentityIn(BaseModel):
    # NULs in events are found by prepare_item (one C-speed scan, exact paths), not per field.
    model_config = ConfigDict(extra="forbid")

    type: str = Field(
        min_length=1,
        max_length=80,
        description="email, phone, loyalty, device, social:<network>, external:<system>",
    )
    value: str = Field(max_length=1000)


class EventIn(BaseModel):
    # NULs in events are found by prepare_item (one C-speed scan, exact paths), not per field.
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        pattern=r"^[\x21-\x7e]+$",
        description="Client-supplied id; sending the same id again is reported as a duplicate and stored once.",
    )
    type: str = Field(max_length=100, pattern=EVENT_TYPE_PATTERN, description="e.g. order.placed, call.ended")
    timestamp: dt.datetime | None = Field(
        default=None, description="When it happened (ISO 8601); default now."
    )
    source: str | None = Field(
        default=None, max_length=100, description="The system that saw it (shop, pos…)"
    )
    customer_id: str | None = Field(
        default=None, max_length=32, description="Amity id, when the sender knows it."
    )
    identities: list[IdentityIn] = Field(default_factory=list, max_length=50)
    traits: dict[str, Any] = Field(default_factory=dict)
    properties: dict[str, Any] = Field(default_factory=dict)


class FieldError(BaseModel):
    field: str
    message: str


class Flag(BaseModel):
    code: str
    message: str
    identity: str | None = None


class ItemResult(BaseModel):
    index: int
    id: str | None
    status: str  # accepted | duplicate | rejected
    customer_id: str | None = None
    errors: list[FieldError] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)


class IngestResponse(BaseModel):
    accepted: int
    duplicate: int
    rejected: int
    results: list[ItemResult]


class MergeIn(Input):
    other_id: str = Field(min_length=1, max_length=32, description="The customer to fold into this one.")
    note: str | None = Field(default=None, max_length=1000)


class UndoIn(Input):
    reason: str | None = Field(default=None, max_length=1000)


class TraitIn(Input):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="lower_snake_case")
    type: str = Field(pattern=r"^(string|number|boolean|date|enum|list)$")
    pii: bool = False
    purpose: str = Field(min_length=1, max_length=200, description="Why we keep it; no purpose, no data.")
    retention_days: int | None = Field(default=None, ge=1, le=36500)
    description: str = Field(default="", max_length=2000)
    enum_values: list[str] | None = Field(default=None, max_length=200)


class TraitPatch(Input):
    pii: bool | None = None
    purpose: str | None = Field(default=None, min_length=1, max_length=200)
    retention_days: int | None = Field(default=None, ge=1, le=36500)
    description: str | None = Field(default=None, max_length=2000)
    enum_values: list[str] | None = Field(default=None, max_length=200)


class TraitOut(BaseModel):
    name: str
    type: str
    pii: bool
    purpose: str
    retention_days: int | None
    description: str
    enum_values: list[str] | None
    builtin: bool
