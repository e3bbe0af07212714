"""Request bodies of the service API, validated at the edge (unknown keys and NUL characters refused)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from pydantic import Field, StringConstraints, field_validator

from amity.channels.models import CHANNEL_TYPES
from amity.core.inputs import Input

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=32)]
Tag = Annotated[str, StringConstraints(pattern=r"^\S{1,50}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Money = Annotated[int, Field(ge=0, le=10**15)]
SkillKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
SkillValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Hex = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
Priority = Literal["low", "normal", "high", "urgent"]
Kind = Literal["refund", "credit", "goodwill", "shipping", "replacement", "other"]
Strategy = Literal["round_robin", "least_loaded", "skill", "manual"]
Availability = Literal["online", "away", "offline"]
Minutes = Annotated[int, Field(ge=1, le=525_600)]  # up to a year
Position = Annotated[int, Field(ge=0, le=1_000_000)]
Limits = dict[Kind, dict[Currency, Money]]


def json_size(value: Any) -> int:
    """Bytes of ``value`` as stored; refuses what the database's JSON cannot hold (integers past 64 bits)."""
    try:
        return len(orjson.dumps(value))
    except TypeError:
        raise ValueError("holds a value JSON storage cannot keep (an integer beyond 64 bits?)") from None


# ---- people --------------------------------------------------------------------------------------
class TierIn(Input):
    name: Name
    level: int = Field(ge=0, le=1000, description="Higher is more senior; escalation goes up")
    limits: Limits = Field(default_factory=dict, description='{"refund": {"EUR": 10000}} in minor units')
    may_approve: bool = False


class TierPatch(Input):
    name: Name | None = None
    level: int | None = Field(default=None, ge=0, le=1000)
    limits: Limits | None = None
    may_approve: bool | None = None


class TeamIn(Input):
    name: Name
    tier_id: Id | None = None
    strategy: Strategy = "round_robin"
    members: list[Id] = Field(default_factory=list, max_length=500, description="user ids")


class TeamPatch(Input):
    name: Name | None = None
    tier_id: Id | None = None
    strategy: Strategy | None = None


class AgentPatch(Input):
    tier_id: Id | None = None
    skills: dict[SkillKey, list[SkillValue]] | None = Field(default=None, max_length=20)
    capacity: int | None = Field(
        default=None, ge=0, le=1000, description="Most open conversations; null: no cap"
    )
    availability: Availability | None = None


class AvailabilityIn(Input):
    availability: Availability


# ---- brands, calendars, macros -------------------------------------------------------------------
class BrandIn(Input):
    name: Name
    from_address: str | None = Field(default=None, max_length=320)
    signature: str = Field(default="", max_length=5000)
    colours: dict[Literal["primary", "accent", "background", "text"], Hex] = Field(default_factory=dict)


class BrandPatch(Input):
    name: Name | None = None
    from_address: str | None = Field(default=None, max_length=320)
    signature: str | None = Field(default=None, max_length=5000)
    colours: dict[Literal["primary", "accent", "background", "text"], Hex] | None = None


Span = Annotated[list[Annotated[str, StringConstraints(max_length=5)]], Field(min_length=2, max_length=2)]


class CalendarIn(Input):
    name: Name
    timezone: str = Field(min_length=1, max_length=64, description="IANA name, e.g. Europe/Lisbon")
    hours: dict[str, list[Span]] = Field(description='{"mon": [["09:00", "17:00"]], …} local time')
    holidays: list[Annotated[str, StringConstraints(max_length=10)]] = Field(
        default_factory=list, max_length=1000
    )


class CalendarPatch(Input):
    name: Name | None = None
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    hours: dict[str, list[Span]] | None = None
    holidays: list[Annotated[str, StringConstraints(max_length=10)]] | None = Field(
        default=None, max_length=1000
    )


class MacroIn(Input):
    name: Name
    body: str = Field(min_length=1, max_length=20_000, description="Jinja, rendered in a sandbox")


class MacroPatch(Input):
    name: Name | None = None
    body: str | None = Field(default=None, min_length=1, max_length=20_000)


class RenderIn(Input):
    conversation_id: Id


# ---- routing and SLA -----------------------------------------------------------------------------
class BusinessHoursCondition(Input):
    calendar_id: Id
    open: bool = Field(default=True, description="true: while open; false: while closed")


class ConditionsIn(Input):
    channel_types: list[str] = Field(default_factory=list, max_length=10)
    priorities: list[Priority] = Field(default_factory=list, max_length=4)
    customer_traits: dict[Annotated[str, StringConstraints(max_length=64)], Any] = Field(
        default_factory=dict, max_length=20, description='{"vip": true, "tier": ["gold", "platinum"]}'
    )
    keywords: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]] = (
        Field(default_factory=list, max_length=50)
    )
    business_hours: BusinessHoursCondition | None = None

    @field_validator("customer_traits")
    @classmethod
    def _storable(cls, v: dict[str, Any]) -> dict[str, Any]:
        if json_size(v) > 8192:
            raise ValueError("at most 8 KB of JSON")
        return v

    @field_validator("channel_types")
    @classmethod
    def _known_channels(cls, v: list[str]) -> list[str]:
        for t in v:
            if t not in CHANNEL_TYPES:
                raise ValueError(f"'{t}' is not a channel type; one of {', '.join(CHANNEL_TYPES)}")
        return v


class RuleActionsIn(Input):
    team_id: Id | None = None
    priority: Priority | None = None
    tags: list[Tag] | None = Field(default=None, max_length=20)
    assignee_id: Id | None = None
    macro_id: Id | None = Field(default=None, description="Auto-reply with this macro")
    skills: dict[SkillKey, SkillValue] | None = Field(
        default=None, max_length=10, description="For skill routing"
    )


class RoutingRuleIn(Input):
    name: Name
    position: Position | None = Field(default=None, description="Default: after the last rule")
    enabled: bool = True
    conditions: ConditionsIn = Field(default_factory=ConditionsIn)
    actions: RuleActionsIn
    continue_: bool = Field(default=False, alias="continue", description="Keep evaluating later rules")


class RoutingRulePatch(Input):
    name: Name | None = None
    position: Position | None = None
    enabled: bool | None = None
    conditions: ConditionsIn | None = None
    actions: RuleActionsIn | None = None
    continue_: bool | None = Field(default=None, alias="continue")


class TargetsIn(Input):
    first_response: Minutes | None = None
    next_response: Minutes | None = None
    resolution: Minutes | None = None


Targets = dict[Literal["low", "normal", "high", "urgent", "*"], TargetsIn]


class SlaPolicyIn(Input):
    name: Name
    position: Position | None = None
    enabled: bool = True
    calendar_id: Id | None = Field(default=None, description="Business hours; null: around the clock")
    conditions: ConditionsIn = Field(default_factory=ConditionsIn)
    targets: Targets = Field(min_length=1, description='Minutes per priority; "*" for any other')
    pause_on_hold: bool = False
    warn_before_minutes: int = Field(default=15, ge=0, le=10_080)


class SlaPolicyPatch(Input):
    name: Name | None = None
    position: Position | None = None
    enabled: bool | None = None
    calendar_id: Id | None = None
    conditions: ConditionsIn | None = None
    targets: Targets | None = Field(default=None, min_length=1)
    pause_on_hold: bool | None = None
    warn_before_minutes: int | None = Field(default=None, ge=0, le=10_080)


# ---- escalation and approvals --------------------------------------------------------------------
class EscalateIn(Input):
    reason: str = Field(min_length=1, max_length=2000)
    to_tier: Id | None = None
    to_team: Id | None = None


class ApprovalIn(Input):
    conversation_id: Id
    kind: Kind
    amount_minor: Money = Field(description="In the currency's minor units (cents)")
    currency: Currency
    reason: str = Field(min_length=1, max_length=2000)
    payload: dict[str, Any] = Field(default_factory=dict, description="For the executor (order id, …)")

    @field_validator("payload")
    @classmethod
    def _small(cls, v: dict[str, Any]) -> dict[str, Any]:
        if json_size(v) > 16_384:
            raise ValueError("at most 16 KB of JSON")
        return v


class DecideIn(Input):
    decision: Literal["approved", "denied"]
    comment: str | None = Field(default=None, max_length=2000)
