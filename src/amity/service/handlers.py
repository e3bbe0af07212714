"""What the service capability does when conversations change (bus subscribers, run after commit).

- ``conversation.created``: route it (rules, then the team's strategy), then start its SLA clocks;
- ``message.created`` (not a note): a customer waiting, or an agent answering, steps the clocks;
- ``conversation.updated`` with a status or priority change: pauses, resumes, new targets;
- ``conversation.merged``: the folded conversation's clocks stop.

Each handler does its work as its own action (``perform``), so a failure is logged by the bus and
never undoes the change that triggered it.
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


def on_created(app: App, event: DomainEvent) -> None:
    conversation_id = str(event.data["conversation_id"])
    try:
        route_new_conversation(app, conversation_id, now_of(app))
    finally:
        # Service levels apply whether or not routing worked (a broken rule must not hide the SLA).
        refresh(app, conversation_id)


def on_message(app: App, event: DomainEvent) -> None:
    if not event.data.get("is_note"):
        refresh(app, str(event.data["conversation_id"]))


def on_updated(app: App, event: DomainEvent) -> None:
    if SLA_INPUTS & set(event.data.get("changes") or {}):
        refresh(app, str(event.data["conversation_id"]))


def on_merged(app: App, event: DomainEvent) -> None:
    refresh(app, str(event.data["merged_id"]))


def install(app: App) -> None:
    if app.cache.get(INSTALLED):
        return
    app.cache[INSTALLED] = True
    app.bus.subscribe("conversation.created", lambda ev: on_created(app, ev))
    app.bus.subscribe("message.created", lambda ev: on_message(app, ev))
    app.bus.subscribe("conversation.updated", lambda ev: on_updated(app, ev))
    app.bus.subscribe("conversation.merged", lambda ev: on_merged(app, ev))
    breaches.install(app)
