"""Request bodies of the privacy API, validated at the edge (docs/privacy.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from amity.core.inputs import Input

ID_PATTERN = r"^[A-Za-z0-9_\-]+$"


class RequestIn(Input):
    type: Literal["access", "erasure", "rectification", "restriction"]
    customer_id: str = Field(min_length=1, max_length=32, pattern=ID_PATTERN)
    verified_by: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Who checked it is the customer (default: you).",
    )
    verification_method: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="How (e.g. 'replied from their email address', 'ID shown in store'). Without it the "
        "request waits in 'received' until POST …/verify.",
    )
    note: str | None = Field(default=None, max_length=2000)
    changes: dict[str, Any] = Field(
        default_factory=dict,
        description='Rectification only: trait values to set, e.g. {"name": "Ana Lima"}.',
    )


class VerifyIn(Input):
    verified_by: str | None = Field(default=None, min_length=1, max_length=200)
    verification_method: str = Field(min_length=1, max_length=200)


class ExtendIn(Input):
    reason: str = Field(min_length=1, max_length=2000)
    months: int = Field(default=2, ge=1, le=2, description="Further months (at most two in all).")


class DenyIn(Input):
    reason: str = Field(min_length=1, max_length=2000)


class RetentionRuleIn(Input):
    kind: Literal["event", "message"]
    target: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^(\*|[a-z][a-z0-9_]*(\.[a-z0-9_]+)*)$",
        description="event: an event type or '*'; message: a channel type (email, chat…) or '*'.",
    )
    days: int = Field(ge=1, le=36500)


class RetentionIn(Input):
    rules: list[RetentionRuleIn] = Field(max_length=500)
