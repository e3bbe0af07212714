"""Reading the service configuration, escalations and approvals, as the API shows them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from amity.core.actions import Invalid, NotFound
from amity.service.models import (
    APPROVAL_STATUSES,
    AgentProfile,
    Approval,
    Brand,
    Calendar,
    Escalation,
    Macro,
    RoutingRule,
    SlaClock,
    SlaPolicy,
    Team,
    TeamMember,
    Tier,
)


def _iso(t: dt.datetime | None) -> str | None:
    return t.isoformat() if t else None


def page(session: Session, query: Select[Any], limit: int, offset: int, out: Any) -> dict[str, Any]:
    """Simple offset paging: configuration lists are short, and approvals are read newest first."""
    rows = list(session.scalars(query.limit(limit + 1).offset(offset)))
    return {
        "items": [out(session, r) for r in rows[:limit]],
        "next_offset": offset + limit if len(rows) > limit else None,
    }


def tier_out(_: Session, t: Tier) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "level": t.level,
        "limits": t.limits,
        "may_approve": t.may_approve,
        "created_at": _iso(t.created_at),
        "updated_at": _iso(t.updated_at),
    }


def team_out(session: Session, t: Team) -> dict[str, Any]:
    members = session.scalars(
        select(TeamMember.user_id).where(TeamMember.team_id == t.id).order_by(TeamMember.user_id)
    )
    return {
        "id": t.id,
        "name": t.name,
        "tier_id": t.tier_id,
        "strategy": t.strategy,
        "members": list(members),
        "created_at": _iso(t.created_at),
        "updated_at": _iso(t.updated_at),
    }


def agent_out(session: Session, p: AgentProfile) -> dict[str, Any]:
    teams = session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == p.user_id))
    return {
        "user_id": p.user_id,
        "tier_id": p.tier_id,
        "skills": p.skills,
        "capacity": p.capacity,
        "availability": p.availability,
        "teams": sorted(teams),
        "last_assigned_at": _iso(p.last_assigned_at),
        "updated_at": _iso(p.updated_at),
    }


def brand_out(_: Session, b: Brand) -> dict[str, Any]:
    return {
        "id": b.id,
        "name": b.name,
        "from_address": b.from_address,
        "signature": b.signature,
        "colours": b.colours,
        "created_at": _iso(b.created_at),
        "updated_at": _iso(b.updated_at),
    }


def calendar_out(_: Session, c: Calendar) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "timezone": c.timezone,
        "hours": c.hours,
        "holidays": c.holidays,
        "created_at": _iso(c.created_at),
        "updated_at": _iso(c.updated_at),
    }


def macro_out(_: Session, m: Macro) -> dict[str, Any]:
    return {
        "id": m.id,
        "name": m.name,
        "body": m.body,
        "created_at": _iso(m.created_at),
        "updated_at": _iso(m.updated_at),
    }


def rule_out(_: Session, r: RoutingRule) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "position": r.position,
        "enabled": r.enabled,
        "conditions": r.conditions,
        "actions": r.actions,
        "continue": r.continue_after,
        "created_at": _iso(r.created_at),
        "updated_at": _iso(r.updated_at),
    }


def policy_out(_: Session, p: SlaPolicy) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "position": p.position,
        "enabled": p.enabled,
        "calendar_id": p.calendar_id,
        "conditions": p.conditions,
        "targets": p.targets,
        "pause_on_hold": p.pause_on_hold,
        "warn_before_minutes": p.warn_before_minutes,
        "created_at": _iso(p.created_at),
        "updated_at": _iso(p.updated_at),
    }


def escalation_out(_: Session, e: Escalation) -> dict[str, Any]:
    return {
        "id": e.id,
        "conversation_id": e.conversation_id,
        "from_team_id": e.from_team_id,
        "to_team_id": e.to_team_id,
        "from_tier_id": e.from_tier_id,
        "to_tier_id": e.to_tier_id,
        "from_assignee_id": e.from_assignee_id,
        "to_assignee_id": e.to_assignee_id,
        "reason": e.reason,
        "actor": e.actor,
        "created_at": _iso(e.created_at),
    }


def approval_out(_: Session, a: Approval) -> dict[str, Any]:
    return {
        "id": a.id,
        "conversation_id": a.conversation_id,
        "customer_id": a.customer_id,
        "kind": a.kind,
        "amount_minor": a.amount_minor,
        "currency": a.currency,
        "reason": a.reason,
        "payload": a.payload,
        "status": a.status,
        "auto": a.auto,
        "requested_by": a.requested_by,
        "limit_minor": a.limit_minor,
        "decided_by": a.decided_by,
        "decided_at": _iso(a.decided_at),
        "comment": a.comment,
        "execution": a.execution,
        "created_at": _iso(a.created_at),
        "updated_at": _iso(a.updated_at),
    }


def clock_out(c: SlaClock) -> dict[str, Any]:
    return {
        "target": c.target,
        "policy_id": c.policy_id,
        "running": c.running_since is not None,
        "elapsed_seconds": c.elapsed_us / 1_000_000,
        "due_at": _iso(c.due_at),
        "met_at": _iso(c.met_at),
        "warned_at": _iso(c.warned_at),
        "breached_at": _iso(c.breached_at),
    }


# model -> (serialiser, default order, what, path parameter)
KINDS: dict[type[Any], tuple[Any, Any, str, str]] = {
    Tier: (tier_out, (Tier.level, Tier.id), "tier", "tier_id"),
    Team: (team_out, (Team.name, Team.id), "team", "team_id"),
    AgentProfile: (agent_out, (AgentProfile.user_id,), "agent profile", "user_id"),
    Brand: (brand_out, (Brand.name, Brand.id), "brand", "brand_id"),
    Calendar: (calendar_out, (Calendar.name, Calendar.id), "calendar", "calendar_id"),
    Macro: (macro_out, (Macro.name, Macro.id), "macro", "macro_id"),
    RoutingRule: (
        rule_out,
        (RoutingRule.position, RoutingRule.created_at, RoutingRule.id),
        "routing rule",
        "rule_id",
    ),
    SlaPolicy: (
        policy_out,
        (SlaPolicy.position, SlaPolicy.created_at, SlaPolicy.id),
        "SLA policy",
        "policy_id",
    ),
}


def list_of(session: Session, model: type[Any], limit: int, offset: int) -> dict[str, Any]:
    out, order, _, _ = KINDS[model]
    return page(session, select(model).order_by(*order), limit, offset, out)


def one(session: Session, model: type[Any], key: str) -> dict[str, Any]:
    out, _, what, field = KINDS[model]
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"no {what} {key}", field=field)
    result: dict[str, Any] = out(session, row)
    return result


def list_approvals(
    session: Session,
    *,
    status: str | None,
    conversation_id: str | None,
    requested_by: str | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    q = select(Approval)
    if status is not None:
        if status not in APPROVAL_STATUSES:
            raise Invalid(f"one of {', '.join(APPROVAL_STATUSES)}", field="status")
        q = q.where(Approval.status == status)
    if conversation_id is not None:
        q = q.where(Approval.conversation_id == conversation_id)
    if requested_by is not None:
        q = q.where(Approval.requested_by == requested_by)
    return page(
        session, q.order_by(Approval.created_at.desc(), Approval.id.desc()), limit, offset, approval_out
    )


def get_approval(session: Session, approval_id: str) -> dict[str, Any]:
    a = session.get(Approval, approval_id)
    if a is None:
        raise NotFound(f"no approval {approval_id}", field="approval_id")
    return approval_out(session, a)


def escalations_of(session: Session, conversation_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Escalation)
        .where(Escalation.conversation_id == conversation_id)
        .order_by(Escalation.created_at)
    )
    return [escalation_out(session, e) for e in rows]


def clocks_of(session: Session, conversation_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(SlaClock).where(SlaClock.conversation_id == conversation_id).order_by(SlaClock.target)
    )
    return [clock_out(c) for c in rows]
