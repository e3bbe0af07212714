"""Routing a new conversation: rules decide team, priority, tags, assignee and an auto-reply; then the
team's strategy assigns it.

Evaluation order (docs/service-levels.md, "Routing"):

1. enabled rules in ``position`` order (ties: oldest first);
2. a rule matches when all its conditions hold (:mod:`amity.service.facts`);
3. the first matching rule that sets an action kind wins that kind; ``tags`` add up instead;
4. evaluation stops after the first matching rule unless that rule says ``continue``;
5. a team or assignee chosen when the conversation was opened is never replaced;
6. with no assignee yet and a team known, the team's strategy picks one (skill strategy: the rule's
   ``skills`` plus the customer's ``language`` trait);
7. the auto-reply macro, if any, is sent in its own transaction: a channel that cannot send must not
   undo the routing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from amity.accounts.queries import assignable_user
from amity.conversations.actions import update_conversation
from amity.core.actions import SYSTEM, ActionContext, ActionError, App, perform
from amity.service import assignment
from amity.service.calendars import BusinessHours
from amity.service.facts import Facts, business_hours, gather, matches
from amity.service.macros import send_macro
from amity.service.models import RoutingRule, Team

log = logging.getLogger(__name__)
ACTION_KINDS = ("team_id", "priority", "tags", "assignee_id", "macro_id", "skills")


@dataclass(frozen=True)
class Decision:
    actions: dict[str, Any] = field(default_factory=dict)
    matched: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleView:
    id: str
    conditions: dict[str, Any]
    actions: dict[str, Any]
    continue_after: bool = False


def evaluate(
    rules: Sequence[RuleView], facts: Facts, now: dt.datetime, hours_of: Callable[[str], BusinessHours]
) -> Decision:
    decided: dict[str, Any] = {}
    tags: list[str] = []
    matched: list[str] = []
    for rule in rules:
        if not matches(rule.conditions, facts, now, hours_of):
            continue
        matched.append(rule.id)
        for kind, value in rule.actions.items():
            if value is None:
                continue
            if kind == "tags":
                tags += [t for t in value if t not in tags]
            elif kind not in decided:
                decided[kind] = value
        if not rule.continue_after:
            break
    if tags:
        decided["tags"] = tags
    return Decision(decided, tuple(matched))


def rules_in_order(ctx: ActionContext) -> list[RuleView]:
    rows = ctx.session.scalars(
        select(RoutingRule)
        .where(RoutingRule.enabled.is_(True))
        .order_by(RoutingRule.position, RoutingRule.created_at, RoutingRule.id)
    )
    return [RuleView(r.id, r.conditions, r.actions, r.continue_after) for r in rows]


def required_skills(decided: dict[str, Any], facts: Facts) -> dict[str, str]:
    need = {str(k): str(v) for k, v in (decided.get("skills") or {}).items()}
    language = facts.traits.get("language")
    if isinstance(language, str) and language and "language" not in need:
        need["language"] = language
    return need


def route(ctx: ActionContext, conversation_id: str, now: dt.datetime) -> dict[str, Any]:
    """Apply the rules and the team strategy to one conversation (inside one action)."""
    s = ctx.session
    facts = gather(s, conversation_id)
    if facts.status == "closed":
        return {"matched": [], "macro_id": None}
    decision = evaluate(rules_in_order(ctx), facts, now, lambda cid: business_hours(s, cid))
    want = decision.actions
    changes: dict[str, Any] = {}
    if (p := want.get("priority")) and p != facts.priority:
        changes["priority"] = p
    if want.get("tags"):
        changes["add_tags"] = want["tags"]
    if (team_id := want.get("team_id")) and facts.team_id is None and s.get(Team, team_id) is not None:
        changes["team_id"] = team_id
    who = want.get("assignee_id")
    if who and facts.assignee_id is None and assignable_user(s, who):
        changes["assignee_id"] = who
    if changes:
        update_conversation(ctx, conversation_id, **changes)
    team = changes.get("team_id", facts.team_id)
    picked: assignment.Pick | None = None
    if facts.assignee_id is None and "assignee_id" not in changes and team:
        picked = assignment.assign(ctx, conversation_id, team, now, required_skills(want, facts))
    if decision.matched or changes or (picked and picked.user_id):
        ctx.audit(
            "conversation.routed",
            "conversation",
            conversation_id,
            rules=list(decision.matched),
            applied=changes,
            strategy=picked.strategy if picked else None,
            assignee_id=picked.user_id if picked else changes.get("assignee_id"),
        )
    return {
        "matched": list(decision.matched),
        "applied": changes,
        "assignee_id": (picked.user_id if picked else None) or changes.get("assignee_id"),
        # An auto-reply answers the customer's message; a conversation an agent opened has none yet.
        "macro_id": want.get("macro_id") if facts.has_inbound else None,
    }


def route_new_conversation(app: App, conversation_id: str, now: dt.datetime) -> dict[str, Any]:
    outcome = perform(app, SYSTEM, route, conversation_id, now)
    if outcome.get("macro_id"):
        try:
            perform(app, SYSTEM, send_macro, conversation_id, outcome["macro_id"])
        except ActionError as exc:
            log.warning("auto-reply for %s not sent: %s", conversation_id, exc.message)
            outcome["auto_reply_error"] = exc.message
            perform(app, SYSTEM, _auto_reply_failed, conversation_id, outcome["macro_id"], exc.message)
    return outcome


def _auto_reply_failed(ctx: ActionContext, conversation_id: str, macro_id: str, why: str) -> None:
    # Recorded so an admin can see why a rule's acknowledgement never reached the customer.
    ctx.audit("macro.auto_reply_failed", "conversation", conversation_id, macro_id=macro_id, reason=why)
