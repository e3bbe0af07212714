"""Changing tiers, teams, their members and agent profiles (each an action: audited, one transaction)."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from sqlalchemy import delete, func, or_, select

from amity.accounts.models import User
from amity.accounts.queries import assignable_user
from amity.conversations.models import Conversation
from amity.core.actions import ActionContext, Conflict, Invalid, NotFound
from amity.db import Base
from amity.ids import new_id
from amity.service.models import AgentProfile, RoutingRule, Team, TeamMember, Tier

M = TypeVar("M", bound=Base)


def fetch(ctx: ActionContext, model: type[M], key: str, what: str, field: str) -> M:
    row = ctx.session.get(model, key)
    if row is None:
        raise NotFound(f"no {what} {key}", field=field)
    return row


def unique_name(ctx: ActionContext, model: Any, name: str, own_id: str | None = None) -> None:
    # SQLite's lower() folds ASCII only, so the exact name is compared too: "Ärger" must find "Ärger".
    q = select(model.id).where(or_(model.name == name, func.lower(model.name) == name.lower()))
    if own_id is not None:
        q = q.where(model.id != own_id)
    if ctx.session.scalar(q) is not None:
        raise Conflict(f"'{name}' is taken", field="name")


def _changed(row: Any, changes: dict[str, Any]) -> dict[str, Any]:
    done = {}
    for key, value in changes.items():
        if getattr(row, key) != value:
            done[key] = value
            setattr(row, key, value)
    return done


# ---- tiers ---------------------------------------------------------------------------------------
def _free_level(ctx: ActionContext, level: int, own_id: str | None = None) -> None:
    q = select(Tier.name).where(Tier.level == level)
    if own_id is not None:
        q = q.where(Tier.id != own_id)
    if (other := ctx.session.scalar(q)) is not None:
        raise Conflict(f"tier '{other}' already has level {level}", field="level")


def create_tier(ctx: ActionContext, data: dict[str, Any], now: dt.datetime) -> Tier:
    unique_name(ctx, Tier, data["name"])
    _free_level(ctx, data["level"])
    row = Tier(id=new_id("tir"), created_at=now, updated_at=now, **data)
    ctx.session.add(row)
    ctx.session.flush()
    ctx.audit("tier.created", "tier", row.id, **data)
    return row


def update_tier(ctx: ActionContext, tier_id: str, changes: dict[str, Any], now: dt.datetime) -> Tier:
    row = fetch(ctx, Tier, tier_id, "tier", "tier_id")
    if changes.get("name") is not None:
        unique_name(ctx, Tier, changes["name"], row.id)
    if changes.get("level") is not None:
        _free_level(ctx, changes["level"], row.id)
    done = _changed(row, {k: v for k, v in changes.items() if v is not None})
    if done:
        row.updated_at = now
        ctx.audit("tier.updated", "tier", row.id, **done)
    return row


def delete_tier(ctx: ActionContext, tier_id: str) -> None:
    row = fetch(ctx, Tier, tier_id, "tier", "tier_id")
    s = ctx.session
    if s.scalar(select(Team.name).where(Team.tier_id == row.id).limit(1)) is not None:
        raise Conflict(f"tier '{row.name}' is served by a team; move the team first", field="tier_id")
    if s.scalar(select(AgentProfile.user_id).where(AgentProfile.tier_id == row.id).limit(1)) is not None:
        raise Conflict(f"agents are in tier '{row.name}'; move them first", field="tier_id")
    s.delete(row)
    ctx.audit("tier.deleted", "tier", row.id, name=row.name)


# ---- teams and members ---------------------------------------------------------------------------
def _check_tier(ctx: ActionContext, tier_id: str | None) -> None:
    if tier_id is not None:
        fetch(ctx, Tier, tier_id, "tier", "tier_id")


def _check_member(ctx: ActionContext, user_id: str, field: str) -> None:
    if not assignable_user(ctx.session, user_id):
        raise NotFound(f"no active agent, supervisor or admin {user_id}", field=field)


def create_team(ctx: ActionContext, data: dict[str, Any], now: dt.datetime) -> Team:
    members = list(dict.fromkeys(data.pop("members", [])))
    unique_name(ctx, Team, data["name"])
    _check_tier(ctx, data.get("tier_id"))
    for i, user_id in enumerate(members):
        _check_member(ctx, user_id, f"members[{i}]")
    row = Team(id=new_id("tea"), created_at=now, updated_at=now, **data)
    ctx.session.add(row)
    ctx.session.flush()
    for user_id in members:
        ctx.session.add(TeamMember(team_id=row.id, user_id=user_id, created_at=now))
    ctx.audit("team.created", "team", row.id, **data, members=members)
    return row


def update_team(ctx: ActionContext, team_id: str, changes: dict[str, Any], now: dt.datetime) -> Team:
    row = fetch(ctx, Team, team_id, "team", "team_id")
    if changes.get("name") is not None:
        unique_name(ctx, Team, changes["name"], row.id)
    if "tier_id" in changes:
        _check_tier(ctx, changes["tier_id"])
    keep = {k: v for k, v in changes.items() if v is not None or k == "tier_id"}
    done = _changed(row, keep)
    if done:
        row.updated_at = now
        ctx.audit("team.updated", "team", row.id, **done)
    return row


def delete_team(ctx: ActionContext, team_id: str) -> None:
    s = ctx.session
    row = fetch(ctx, Team, team_id, "team", "team_id")
    live = s.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.team_id == row.id, Conversation.status != "closed")
    )
    if live:
        raise Conflict(
            f"team '{row.name}' has {live} conversations not closed; move them first", field="team_id"
        )
    for rule in s.scalars(select(RoutingRule)):
        if rule.actions.get("team_id") == row.id:
            raise Conflict(f"routing rule '{rule.name}' sends work to this team", field="team_id")
    s.execute(delete(TeamMember).where(TeamMember.team_id == row.id))
    s.delete(row)
    ctx.audit("team.deleted", "team", row.id, name=row.name)


def add_member(ctx: ActionContext, team_id: str, user_id: str, now: dt.datetime) -> bool:
    fetch(ctx, Team, team_id, "team", "team_id")
    _check_member(ctx, user_id, "user_id")
    if ctx.session.get(TeamMember, (team_id, user_id)) is not None:
        return False
    ctx.session.add(TeamMember(team_id=team_id, user_id=user_id, created_at=now))
    ctx.audit("team.member_added", "team", team_id, user_id=user_id)
    return True


def remove_member(ctx: ActionContext, team_id: str, user_id: str) -> None:
    fetch(ctx, Team, team_id, "team", "team_id")
    member = ctx.session.get(TeamMember, (team_id, user_id))
    if member is None:
        raise NotFound(f"{user_id} is not in team {team_id}", field="user_id")
    ctx.session.delete(member)
    ctx.audit("team.member_removed", "team", team_id, user_id=user_id)


# ---- agent profiles ------------------------------------------------------------------------------
def _profile(ctx: ActionContext, user_id: str, now: dt.datetime) -> AgentProfile:
    user = ctx.session.get(User, user_id)
    if user is None or user.disabled_at is not None:
        raise NotFound(f"no active user {user_id}", field="user_id")
    if user.role not in ("admin", "supervisor", "agent"):
        raise Invalid(f"a {user.role} account does not answer customers", field="user_id")
    profile = ctx.session.get(AgentProfile, user_id)
    if profile is None:
        profile = AgentProfile(user_id=user_id, skills={}, availability="offline", updated_at=now)
        ctx.session.add(profile)
        ctx.session.flush()
    return profile


def update_agent(ctx: ActionContext, user_id: str, changes: dict[str, Any], now: dt.datetime) -> AgentProfile:
    """Creates the profile on first use: every person who answers customers may have one."""
    profile = _profile(ctx, user_id, now)
    if "tier_id" in changes:
        _check_tier(ctx, changes["tier_id"])
    if changes.get("availability") is None:
        changes.pop("availability", None)
    if changes.get("skills") is not None:
        changes["skills"] = {k: list(dict.fromkeys(v)) for k, v in changes["skills"].items()}
    elif "skills" in changes:
        changes["skills"] = {}
    done = _changed(profile, changes)
    if done:
        profile.updated_at = now
        ctx.audit("agent.updated", "user", user_id, **done)
        if "availability" in done:
            ctx.publish("agent.availability_changed", user_id=user_id, availability=done["availability"])
    return profile


def set_availability(ctx: ActionContext, user_id: str, availability: str, now: dt.datetime) -> AgentProfile:
    return update_agent(ctx, user_id, {"availability": availability}, now)
