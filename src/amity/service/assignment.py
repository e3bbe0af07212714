"""Choosing who in a team answers a conversation: round-robin, least-loaded or by skill.

Only members who are ``online`` and below their capacity (open, pending and on-hold conversations
assigned to them) are candidates; a team whose strategy is ``manual`` leaves the conversation in the
team's queue. The choice itself (:func:`pick`) is a pure function over candidates, so each strategy
is tested without a database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amity.accounts.models import User
from amity.conversations.changes import update_conversation
from amity.conversations.models import Conversation
from amity.core.actions import ActionContext
from amity.service.models import AgentProfile, Team, TeamMember

LIVE_STATUSES = ("open", "pending", "on_hold")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Candidate:
    user_id: str
    load: int
    capacity: int | None
    skills: Mapping[str, Sequence[str]] = field(default_factory=dict)
    last_assigned_at: dt.datetime | None = None

    @property
    def has_room(self) -> bool:
        return self.capacity is None or self.load < self.capacity


@dataclass(frozen=True)
class Pick:
    user_id: str | None
    strategy: str
    skill_match: bool | None = None


def _skill_ok(key: str, want: str, have: Sequence[str]) -> bool:
    w = want.casefold()
    for h in have:
        v = str(h).casefold()
        # "pt-BR" is served by someone who speaks "pt", and "pt" by someone listed for "pt-BR".
        if v == w or (key == "language" and v.split("-")[0] == w.split("-")[0]):
            return True
    return False


def has_skills(c: Candidate, required: Mapping[str, str]) -> bool:
    return all(_skill_ok(k, v, c.skills.get(k, ())) for k, v in required.items())


def _least_loaded(cands: Sequence[Candidate]) -> str | None:
    if not cands:
        return None
    # Ties go to whoever has waited longest since their last assignment, then a stable order.
    best = min(cands, key=lambda c: (c.load, c.last_assigned_at or EPOCH, c.user_id))
    return best.user_id


def _round_robin(cands: Sequence[Candidate], last: str | None) -> str | None:
    ordered = sorted(cands, key=lambda c: c.user_id)
    if not ordered:
        return None
    after = [c for c in ordered if last is not None and c.user_id > last]
    return (after or ordered)[0].user_id


def pick(
    strategy: str,
    candidates: Sequence[Candidate],
    *,
    last_user_id: str | None = None,
    required: Mapping[str, str] | None = None,
) -> Pick:
    room = [c for c in candidates if c.has_room]
    if strategy == "round_robin":
        return Pick(_round_robin(room, last_user_id), strategy)
    if strategy == "least_loaded":
        return Pick(_least_loaded(room), strategy)
    if strategy == "skill":
        need = dict(required or {})
        skilled = [c for c in room if has_skills(c, need)]
        if skilled:
            return Pick(_least_loaded(skilled), strategy, skill_match=True)
        # Nobody has every skill: an answer from someone is better than none (docs: "skill").
        return Pick(_least_loaded(room), strategy, skill_match=False)
    return Pick(None, strategy)


def candidates(session: Session, team_id: str) -> list[Candidate]:
    rows = session.execute(
        select(AgentProfile)
        .join(TeamMember, TeamMember.user_id == AgentProfile.user_id)
        .join(User, User.id == AgentProfile.user_id)
        .where(
            TeamMember.team_id == team_id,
            AgentProfile.availability == "online",
            User.disabled_at.is_(None),
        )
        .order_by(AgentProfile.user_id)
    ).scalars()
    profiles = list(rows)
    if not profiles:
        return []
    loads: dict[str | None, int] = dict(
        session.execute(
            select(Conversation.assignee_id, func.count())
            .where(
                Conversation.assignee_id.in_([p.user_id for p in profiles]),
                Conversation.status.in_(LIVE_STATUSES),
                Conversation.merged_into_id.is_(None),
            )
            .group_by(Conversation.assignee_id)
        ).all()
    )
    return [
        Candidate(p.user_id, int(loads.get(p.user_id, 0)), p.capacity, p.skills, p.last_assigned_at)
        for p in profiles
    ]


def assign(
    ctx: ActionContext,
    conversation_id: str,
    team_id: str,
    now: dt.datetime,
    required: Mapping[str, str] | None = None,
) -> Pick:
    """Assign by the team's strategy (inside the caller's action); the pick says who, or nobody."""
    s = ctx.session
    # Locking the team row serialises assignments within a team on PostgreSQL, so two conversations
    # arriving together do not both read the same round-robin position (SQLite writers are serial).
    team = s.get(Team, team_id, with_for_update=True)
    if team is None:
        return Pick(None, "none")
    chosen = pick(team.strategy, candidates(s, team_id), last_user_id=team.rr_last_user_id, required=required)
    if chosen.user_id is not None:
        update_conversation(ctx, conversation_id, assignee_id=chosen.user_id)
        team.rr_last_user_id = chosen.user_id
        profile = s.get(AgentProfile, chosen.user_id)
        if profile is not None:
            profile.last_assigned_at = now
        ctx.audit(
            "conversation.assigned_by_strategy",
            "conversation",
            conversation_id,
            team_id=team_id,
            strategy=chosen.strategy,
            assignee_id=chosen.user_id,
            skill_match=chosen.skill_match,
        )
    return chosen
