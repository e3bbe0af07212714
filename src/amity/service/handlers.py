"""What the service capability does when conversations change (bus subscribers, run after commit).

- ``conversation.created``: route it (rules, then the team's strategy), then start its SLA clocks;
- ``message.created`` (not a note): a customer waiting, or an agent answering, steps the clocks;
- ``conversation.updated`` with a status or priority change: pauses, resumes, new targets;
- ``conversation.merged``: the folded conversation's clocks stop.

The events of one commit are handled together (``EventBus.subscribe_batch``): each conversation is
refreshed once however many of its events the commit carried. Each piece of work is its own action
(``perform``), so a failure is logged and never undoes the change that triggered it.

This runs after every inbound message, so it first asks the process's copy of the set-up
(:mod:`amity.service.cache`) whether there is anything to do: with no routing rule, no SLA policy and
nothing left to clear it opens no write transaction at all.
"""

from __future__ import annotations

import logging

from amity.core.actions import SYSTEM, App, perform
from amity.core.bus import DomainEvent
from amity.service import breaches, cache
from amity.service.cache import Setup
from amity.service.routing import nothing_to_do, route_new_conversation
from amity.service.sla import has_service_levels, now_of, refresh_service_levels

log = logging.getLogger(__name__)
INSTALLED = "service.installed"
# ``set_service_levels`` itself announces {"sla": …}; reacting to it would loop.
SLA_INPUTS = frozenset({"status", "priority"})


def refresh(app: App, conversation_id: str, setup: Setup | None = None) -> None:
    perform(app, SYSTEM, refresh_service_levels, conversation_id, now_of(app), setup)


def _quiet(
    app: App, setup: Setup, route: list[str], clocks: list[str], created: set[str]
) -> tuple[set[str], set[str]]:
    """The conversations of ``route`` / ``clocks`` that need no write transaction, asked in one read:
    no rule matches and no team strategy is due; no policy exists and no earlier one left anything to
    clear (nothing can be left on a conversation made in this very commit). A check that fails is
    treated as work, so the action reports the problem as it always did."""
    no_route: set[str] = set()
    no_clocks: set[str] = set()
    clocks_to_ask = [] if setup.policies else [c for c in clocks if c not in created]
    if not setup.policies:
        no_clocks = set(clocks) & created
    if not route and not clocks_to_ask:
        return no_route, no_clocks
    with app.db.read() as s:
        for cid in route:
            try:
                if nothing_to_do(s, cid, now_of(app), setup):
                    no_route.add(cid)
            except Exception:  # noqa: S112 -- the action below reports it
                continue
        for cid in clocks_to_ask:
            try:
                if not has_service_levels(s, cid):
                    no_clocks.add(cid)
            except Exception:  # noqa: S112 -- a failed read (an aborted transaction) leaves it to the action
                continue
    return no_route, no_clocks


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
    if not route and not clocks:
        return
    setup = cache.current(app)
    no_route, no_clocks = _quiet(app, setup, route, clocks, set(route))
    for conversation_id in route:
        if conversation_id in no_route:
            continue
        try:
            route_new_conversation(app, conversation_id, now_of(app), setup, checked=True)
        except Exception:
            # Service levels apply whether or not routing worked (a broken rule must not hide the SLA).
            log.exception("routing failed", extra={"conversation_id": conversation_id})
    for conversation_id in clocks:
        if conversation_id in no_clocks:
            continue
        try:
            refresh(app, conversation_id, setup)
        except Exception:
            log.exception("SLA refresh failed", extra={"conversation_id": conversation_id})


def install(app: App) -> None:
    if app.cache.get(INSTALLED):
        return
    app.cache[INSTALLED] = True
    app.bus.subscribe_batch(lambda events: on_commit(app, events))
    breaches.install(app)
