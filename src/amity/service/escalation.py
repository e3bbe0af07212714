"""Escalating a conversation to a higher tier: its team changes, the history stays, the reason is noted.

The conversation keeps every message; it moves to the team serving the target tier, is unassigned,
and that team's strategy picks the next person (or leaves it in the team's queue). The reason goes
into an internal note so whoever picks it up reads why without asking.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from amity.conversations.actions import add_message
from amity.conversations.changes import get_conversation, update_conversation
from amity.conversations.models import Conversation
from amity.core.actions import ActionContext, Conflict, Invalid, NotFound
from amity.ids import new_id
from amity.service import assignment
from amity.service.facts import customer_traits, display_name
from amity.service.models import AgentProfile, Escalation, Team, Tier


def current_tier(ctx: ActionContext, conv: Conversation) -> Tier | None:
    """The tier the conversation is at: its team's tier, else its assignee's."""
    s = ctx.session
    team = s.get(Team, conv.team_id) if conv.team_id else None
    if team is not None and team.tier_id:
        return s.get(Tier, team.tier_id)
    profile = s.get(AgentProfile, conv.assignee_id) if conv.assignee_id else None
    if profile is not None and profile.tier_id:
        return s.get(Tier, profile.tier_id)
    return None


def _team_of_tier(ctx: ActionContext, tier: Tier) -> Team | None:
    return ctx.session.scalar(select(Team).where(Team.tier_id == tier.id).order_by(Team.name).limit(1))


def _target(
    ctx: ActionContext, here: Tier | None, to_tier: str | None, to_team: str | None
) -> tuple[Team, Tier]:
    s = ctx.session
    if to_team is not None:
        team = s.get(Team, to_team)
        if team is None:
            raise NotFound(f"no team {to_team}", field="to_team")
        tier = s.get(Tier, team.tier_id) if team.tier_id else None
        if tier is None:
            raise Conflict(
                f"team '{team.name}' serves no tier; give it one to escalate to it", field="to_team"
            )
        if to_tier is not None and to_tier != tier.id:
            raise Invalid(f"team '{team.name}' serves tier {tier.id}, not {to_tier}", field="to_tier")
        field = "to_team"
    elif to_tier is not None:
        found = s.get(Tier, to_tier)
        if found is None:
            raise NotFound(f"no tier {to_tier}", field="to_tier")
        tier = found
        serving = _team_of_tier(ctx, tier)
        if serving is None:
            raise Conflict(f"no team serves tier '{tier.name}'", field="to_tier")
        team, field = serving, "to_tier"
    else:
        above = s.scalars(
            select(Tier).where(Tier.level > (here.level if here else -(2**31))).order_by(Tier.level)
        )
        for t in above:
            if (serving := _team_of_tier(ctx, t)) is not None:
                return serving, t
        raise Conflict("there is no higher tier with a team to escalate to", field="to_tier")
    if here is not None and tier.level <= here.level:
        raise Conflict(
            f"tier '{tier.name}' (level {tier.level}) is not above the current tier '{here.name}' "
            f"(level {here.level})",
            field=field,
        )
    return team, tier


def escalate(
    ctx: ActionContext,
    conversation_id: str,
    reason: str,
    now: dt.datetime,
    *,
    to_tier: str | None = None,
    to_team: str | None = None,
) -> Escalation:
    conv = get_conversation(ctx, conversation_id)
    if conv.merged_into_id:
        raise Conflict(
            f"conversation {conv.id} was merged into {conv.merged_into_id}", field="conversation_id"
        )
    if conv.status in ("solved", "closed"):
        raise Conflict(
            f"a {conv.status} conversation cannot be escalated; re-open it first", field="conversation_id"
        )
    why = reason.strip()
    if not why:
        raise Invalid("say why it needs a higher tier", field="reason")
    here = current_tier(ctx, conv)
    team, tier = _target(ctx, here, to_tier, to_team)
    if team.id == conv.team_id:
        raise Conflict(f"the conversation is already with team '{team.name}'", field="to_team")
    from_team, from_assignee = conv.team_id, conv.assignee_id
    update_conversation(ctx, conversation_id, team_id=team.id, assignee_id=None)
    language = customer_traits(ctx.session, conv.customer_id).get("language")
    need = {"language": language} if isinstance(language, str) and language else None
    picked = assignment.assign(ctx, conversation_id, team.id, now, need)
    who = display_name(ctx.session, ctx.actor)
    add_message(
        ctx,
        conversation_id,
        text=f"Escalated to {team.name} ({tier.name}) by {who}.\nReason: {why}",
        note=True,
    )
    row = Escalation(
        id=new_id("esc"),
        conversation_id=conversation_id,
        from_team_id=from_team,
        to_team_id=team.id,
        from_tier_id=here.id if here else None,
        to_tier_id=tier.id,
        from_assignee_id=from_assignee,
        to_assignee_id=picked.user_id,
        reason=why,
        actor=ctx.actor.label,
        created_at=now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    details = {
        "escalation_id": row.id,
        "from_team_id": from_team,
        "to_team_id": team.id,
        "from_tier_id": row.from_tier_id,
        "to_tier_id": tier.id,
        "assignee_id": picked.user_id,
    }
    ctx.audit("conversation.escalated", "conversation", conversation_id, reason=why, **details)
    ctx.publish("escalation.created", conversation_id=conversation_id, **details)
    return row
