"""What the service capability does when conversations change (bus subscribers, run after commit).

- ``conversation.created``: route it (rules, then the team's strategy), then start its SLA clocks;
- ``message.created`` (not a note): a customer waiting, or an agent answering, steps the clocks;
- ``conversation.updated`` with a status or priority change: pauses, resumes, new targets;
- ``conversation.merged``: the folded conversation's clocks stop.

The events of one commit are handled together (``EventBus.subscribe_batch``): each conversation is
refreshed once however many of its events the commit carried. Each piece of work is its own action
(``perform``), so a failure is logged and never undoes the change that triggered it.
"""

from __future__ import annotations

import logging

from amity.core.actions import SYSTEM, App, perform
from amity.core.bus import DomainEvent
from amity.service import breaches
from amity.service.routing import route_new_conversation
from amity.service.sla import now_of, refresh_service_levels

log = logging.getLogger(__name__)
INSTALLED = "service.installed"
# ``set_service_levels`` itself announces {"sla": …}; reacting to it would loop.
SLA_INPUTS = frozenset({"status", "priority"})


def refresh(app: App, conversation_id: str) -> None:
    perform(app, SYSTEM, refresh_service_levels, conversation_id, now_of(app))


def work_of(events: list[DomainEvent]) -> tuple[list[str], list[str]]:
    """(conversations to route, conversations whose clocks to refresh) for one commit's events, each
    once and in the order they happened: a new conversation's first message needs one refresh."""
    route: list[str] = []
    clocks: dict[str, None] = {}
    for ev in events:
        d = ev.data
        if ev.name == "conversation.created":
            route.append(str(d["conversation_id"]))
            clocks[str(d["conversation_id"])] = None
        elif (ev.name == "message.created" and not d.get("is_note")) or (
            ev.name == "conversation.updated" and SLA_INPUTS & set(d.get("changes") or {})
        ):
            clocks[str(d["conversation_id"])] = None
        elif ev.name == "conversation.merged":
            clocks[str(d["merged_id"])] = None
    return route, list(clocks)


def on_commit(app: App, events: list[DomainEvent]) -> None:
    route, clocks = work_of(events)
    for conversation_id in route:
        try:
            route_new_conversation(app, conversation_id, now_of(app))
        except Exception:
            # Service levels apply whether or not routing worked (a broken rule must not hide the SLA).
            log.exception("routing failed", extra={"conversation_id": conversation_id})
    for conversation_id in clocks:
        try:
            refresh(app, conversation_id)
        except Exception:
            log.exception("SLA refresh failed", extra={"conversation_id": conversation_id})


def install(app: App) -> None:
    if app.cache.get(INSTALLED):
        return
    app.cache[INSTALLED] = True
    app.bus.subscribe_batch(lambda events: on_commit(app, events))
    breaches.install(app)
