"""Request bodies of the consent API, validated at the edge (unknown keys and NUL characters refused)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from amity.core.inputs import Input

Status = Literal["granted", "withdrawn", "denied"]
Basis = Literal[
    "consent", "contract", "legal_obligation", "legitimate_interest", "vital_interest", "public_task"
]
Source = Literal["widget", "email_link", "agent", "import", "api", "event", "preference_centre"]
Channel = Literal["email", "chat", "sms", "whatsapp", "telegram", "voice", "api"]
Key = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Version = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ConsentIn(Input):
    purpose: Key = Field(description="A key of the purposes catalogue (GET /api/v1/consent/purposes)")
    channel: Channel | None = Field(default=None, description="A channel type; null or absent: every channel")
    status: Status
    lawful_basis: Basis = Field(description="Must be one of the purpose's lawful bases")
    source: Source
    policy_version: Version | None = Field(default=None, description="The version of the policy text shown")
    text: str | None = Field(
        default=None,
        max_length=100_000,
        description="The words shown to the customer; only their SHA-256 is kept",
    )

    ip: str | None = Field(
        default=None,
        max_length=100,
        description="The customer's IP address as the caller saw it; kept as a keyed hash",
    )
    user_agent: str | None = Field(
        default=None, max_length=1000, description="The customer's user agent; kept as a keyed hash"
    )


class PurposeIn(Input):
    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
    name: Name
    description: str = Field(default="", max_length=2000)
    lawful_bases: list[Basis] = Field(min_length=1, max_length=6)
    default_basis: Basis | None = Field(
        default=None, description="The basis when the customer has no record; empty: consent needed"
    )
