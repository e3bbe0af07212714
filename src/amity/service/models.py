"""Tables of the service capability: people and routing, service levels, escalations and approvals.

Conversations themselves belong to ``amity.conversations``; rows here point at them by id and change
them only through that capability's actions (``update_conversation``, ``set_service_levels``,
``add_message``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from amity.db import Base, JSONType, UTCDateTime, utcnow
from amity.privacy.models import BigIntPK

STRATEGIES = ("round_robin", "least_loaded", "skill", "manual")
AVAILABILITY = ("online", "away", "offline")
APPROVAL_KINDS = ("refund", "credit", "goodwill", "shipping", "replacement", "other")
APPROVAL_STATUSES = ("pending", "approved", "denied")
SLA_TARGETS = ("first_response", "next_response", "resolution")


class Tier(Base):
    """A level of authority: what its agents may grant on their own, and whether they approve others."""

    __tablename__ = "service_tiers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    level: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    # {"refund": {"EUR": 10000}}: integer minor units per currency, so no float ever rounds money.
    limits: Mapped[dict[str, dict[str, int]]] = mapped_column(JSONType, nullable=False, default=dict)
    may_approve: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Team(Base):
    __tablename__ = "service_teams"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    # The tier this team serves: escalating "to tier 2" lands in the team whose tier is tier 2.
    tier_id: Mapped[str | None] = mapped_column(ForeignKey("service_tiers.id"), index=True)
    strategy: Mapped[str] = mapped_column(String(20), nullable=False, default="round_robin")
    # Who got the last round-robin assignment: the next one goes to the member after them.
    rr_last_user_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class TeamMember(Base):
    __tablename__ = "service_team_members"

    team_id: Mapped[str] = mapped_column(ForeignKey("service_teams.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class AgentProfile(Base):
    """What routing and approvals need to know about one person who answers customers."""

    __tablename__ = "service_agent_profiles"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    tier_id: Mapped[str | None] = mapped_column(ForeignKey("service_tiers.id"), index=True)
    # {"language": ["en", "pt"], "product": ["router"]}
    skills: Mapped[dict[str, list[str]]] = mapped_column(JSONType, nullable=False, default=dict)
    capacity: Mapped[int | None] = mapped_column(Integer)  # most open conversations at once; None: no cap
    availability: Mapped[str] = mapped_column(String(20), nullable=False, default="offline")
    last_assigned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Brand(Base):
    __tablename__ = "service_brands"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    from_address: Mapped[str | None] = mapped_column(String(320))
    signature: Mapped[str] = mapped_column(Text, nullable=False, default="")
    colours: Mapped[dict[str, str]] = mapped_column(JSONType, nullable=False, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Calendar(Base):
    """Business hours in one time zone, with holidays: SLA clocks only run while it is open."""

    __tablename__ = "service_calendars"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    # {"mon": [["09:00", "17:00"]], ...}: local wall-clock intervals per weekday.
    hours: Mapped[dict[str, list[list[str]]]] = mapped_column(JSONType, nullable=False, default=dict)
    holidays: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)  # ISO dates
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Macro(Base):
    """A saved reply: a sandboxed Jinja template over the customer and the conversation."""

    __tablename__ = "service_macros"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class RoutingRule(Base):
    __tablename__ = "service_routing_rules"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    actions: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    # Keep evaluating later rules after this one matched (earlier rules still win each action kind).
    continue_after: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class SlaPolicy(Base):
    __tablename__ = "service_sla_policies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    calendar_id: Mapped[str | None] = mapped_column(ForeignKey("service_calendars.id"), index=True)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    # {"urgent": {"first_response": 30, "next_response": 60, "resolution": 480}, "*": {...}} in minutes
    targets: Mapped[dict[str, dict[str, int]]] = mapped_column(JSONType, nullable=False, default=dict)
    pause_on_hold: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    warn_before_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=15)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class SlaClock(Base):
    """One running target of one conversation: business time used so far, and whether it was flagged.

    The clock advances by observation (the event that changed the conversation), so a pause is
    accounted exactly once: ``elapsed_us`` holds the business time (in microseconds, so repeated
    re-basing never drifts) used before ``running_since``.
    """

    __tablename__ = "service_sla_clocks"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), nullable=False)
    target: Mapped[str] = mapped_column(String(20), nullable=False)
    policy_id: Mapped[str | None] = mapped_column(String(32))
    # Which wait this clock measures (next response: the customer message that started it).
    cycle: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    elapsed_us: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    running_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    met_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    warned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (UniqueConstraint("conversation_id", "target", name="uq_service_sla_clocks_target"),)


class Escalation(Base):
    __tablename__ = "service_escalations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), nullable=False, index=True)
    from_team_id: Mapped[str | None] = mapped_column(String(32))
    to_team_id: Mapped[str] = mapped_column(ForeignKey("service_teams.id"), nullable=False)
    from_tier_id: Mapped[str | None] = mapped_column(String(32))
    to_tier_id: Mapped[str | None] = mapped_column(String(32))
    from_assignee_id: Mapped[str | None] = mapped_column(String(32))
    to_assignee_id: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Approval(Base):
    """A request for something beyond the requester's authority (a refund over their limit)."""

    __tablename__ = "service_approvals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), nullable=False, index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    auto: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    requested_by: Mapped[str] = mapped_column(String(200), nullable=False)  # actor label
    # The requester's limit for this kind and currency when they asked (None: they had none).
    limit_minor: Mapped[int | None] = mapped_column(BigInteger)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(Text)
    # What the registered executor did: {"status": "executed"|"manual"|"failed", ...}.
    execution: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (Index("ix_service_approvals_status_created", "status", "created_at"),)
