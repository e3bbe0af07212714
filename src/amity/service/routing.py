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
from dataclasses import dataclass, field, replace
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from amity.accounts.queries import assignable_user
from amity.conversations.changes import update_conversation
from amity.conversations.models import Conversation
from amity.core.actions import SYSTEM, ActionContext, ActionError, App, perform
from amity.service import assignment, cache
from amity.service.cache import RuleView, Setup
from amity.service.calendars import BusinessHours
from amity.service.facts import (
    READS_TRAITS,
    READS_WORDS,
    Facts,
    customer_traits,
    gather,
    has_inbound,
    matches,
)
from amity.service.macros import send_macro
from amity.service.models import Team

__all__ = ["Decision", "RuleView", "evaluate", "route", "route_new_conversation", "rules_in_order"]

log = logging.getLogger(__name__)
ACTION_KINDS = ("team_id", "priority", "tags", "assignee_id", "macro_id", "skills")


@dataclass(frozen=True)
class Decision:
    actions: dict[str, Any] = field(default_factory=dict)
    matched: tuple[str, ...] = ()


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
    return list(cache.load(ctx.session).rules)


def required_skills(decided: dict[str, Any], traits: dict[str, Any]) -> dict[str, str]:
    need = {str(k): str(v) for k, v in (decided.get("skills") or {}).items()}
    language = traits.get("language")
    if isinstance(language, str) and language and "language" not in need:
        need["language"] = language
    return need


def route(
    ctx: ActionContext, conversation_id: str, now: dt.datetime, setup: Setup | None = None
) -> dict[str, Any]:
    """Apply the rules and the team strategy to one conversation (inside one action).

    ``setup``: the rules as this process knows them (``amity.service.cache.current``); without it they
    are read in this transaction. Only the facts some rule looks at are gathered."""
    s = ctx.session
    if setup is None:
        setup = cache.load(s)
    facts = gather(s, conversation_id, setup.rule_reads)
    if facts.status == "closed":
        return {"matched": [], "macro_id": None}
    decision = evaluate(setup.rules, facts, now, setup.hours)
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
        traits = facts.traits if READS_TRAITS in setup.rule_reads else customer_traits(s, facts.customer_id)
        picked = assignment.assign(ctx, conversation_id, team, now, required_skills(want, traits))
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
    macro_id = want.get("macro_id")
    if macro_id and READS_WORDS not in setup.rule_reads:
        facts = replace(facts, has_inbound=has_inbound(s, conversation_id))
    return {
        "matched": list(decision.matched),
        "applied": changes,
        "assignee_id": (picked.user_id if picked else None) or changes.get("assignee_id"),
        # An auto-reply answers the customer's message; a conversation an agent opened has none yet.
        "macro_id": macro_id if facts.has_inbound else None,
    }


_CONVERSATIONS = cast(Table, Conversation.__table__)
_ROUTING_STATE = select(
    _CONVERSATIONS.c.status, _CONVERSATIONS.c.team_id, _CONVERSATIONS.c.assignee_id
).where(_CONVERSATIONS.c.id == bindparam("cid"))


def nothing_to_do(session: Session, conversation_id: str, now: dt.datetime, setup: Setup) -> bool:
    """Whether :func:`route` would change nothing and record nothing: no rule matches and no team
    strategy is due. Asked in a read (one indexed read when there are no rules), so the usual case --
    an inbound conversation no rule is about -- opens no write transaction. Anything else is decided
    again inside the action, on what the transaction sees."""
    if not setup.rules:
        row = session.execute(_ROUTING_STATE, {"cid": conversation_id}).first()
        if row is None:
            return False  # let the action say what is wrong
        status, team_id, assignee_id = row
    else:
        facts = gather(session, conversation_id, setup.rule_reads)
        status, team_id, assignee_id = facts.status, facts.team_id, facts.assignee_id
        if status != "closed" and evaluate(setup.rules, facts, now, setup.hours).matched:
            return False
    return status == "closed" or team_id is None or assignee_id is not None


QUIET: dict[str, Any] = {"matched": [], "applied": {}, "assignee_id": None, "macro_id": None}


def route_new_conversation(
    app: App, conversation_id: str, now: dt.datetime, setup: Setup | None = None, *, checked: bool = False
) -> dict[str, Any]:
    """``checked``: the caller has already asked :func:`nothing_to_do` (and it said there is work)."""
    setup = setup or cache.current(app)
    if not checked:
        with app.db.read() as s:
            if nothing_to_do(s, conversation_id, now, setup):
                return dict(QUIET)
    outcome = perform(app, SYSTEM, route, conversation_id, now, setup)
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
