"""The ``priority_routing`` loyalty benefit: a member's new conversation starts at high priority.

It runs when a conversation is opened, before routing (a per-event bus handler runs before the
service capability's batch handler), so routing rules and SLA policies that look at priorities see
the member's priority at once: a rule ``{"priorities": ["high"]} → VIP team`` takes Gold members
there, and the tighter high-priority SLA targets apply from the first minute. A note on the
conversation says why, so the agent knows the customer is a member before answering.

A conversation already at high or urgent priority is left as it is; nothing is ever lowered.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import select

from amity.commerce.loyalty import benefits_of
from amity.commerce.models import LoyaltyTier
from amity.conversations import actions as conversations
from amity.conversations import changes
from amity.core.actions import SYSTEM, ActionContext, App, perform
from amity.core.bus import DomainEvent

log = logging.getLogger(__name__)
BENEFIT = "priority_routing"
RAISE_TO = "high"
BELOW = ("low", "normal")
CACHE = "commerce.priority_tiers"
# Whether any tier grants the benefit, asked at most this often per process (seconds): most desks
# have no such tier, and then a new conversation costs no query at all.
TTL = 5.0


def _any_tier_grants(app: App) -> bool:
    hit = app.cache.get(CACHE)
    now = time.monotonic()
    if hit is not None and now - hit[0] < TTL:
        return bool(hit[1])
    with app.db.read() as s:
        granting = any(BENEFIT in (b or []) for b in s.scalars(select(LoyaltyTier.benefits)))
    app.cache[CACHE] = (now, granting)
    return granting


def forget(app: App) -> None:
    """Tiers changed in this process: ask again on the next conversation."""
    app.cache.pop(CACHE, None)


def prioritise(ctx: ActionContext, conversation_id: str) -> str | None:
    """Raise the conversation to high priority if its customer's membership grants it; the granting
    programme and tier, or None."""
    conv = changes.get_conversation(ctx, conversation_id)
    if conv.priority not in BELOW or conv.merged_into_id or conv.status == "closed":
        return None
    grant = benefits_of(ctx.session, conv.customer_id).get(BENEFIT)
    if grant is None:
        return None
    changes.update_conversation(ctx, conv.id, priority=RAISE_TO)
    conversations.add_message(
        ctx, conv.id, text=f"{grant} member: priority routing (priority raised to {RAISE_TO}).", note=True
    )
    ctx.audit("loyalty.priority_routing", "conversation", conv.id, grant=grant, customer_id=conv.customer_id)
    return grant


def on_created(app: App, event: DomainEvent) -> None:
    if not _any_tier_grants(app):
        return
    try:
        perform(app, SYSTEM, prioritise, str(event.data["conversation_id"]))
    except Exception:
        # A benefit that could not be applied must never stop the conversation being routed.
        log.exception("priority routing failed", extra={"conversation_id": event.data.get("conversation_id")})


def install(app: App) -> None:
    key = "commerce.priority.installed"
    if app.cache.get(key):
        return
    app.cache[key] = True
    app.bus.subscribe("conversation.created", lambda ev: on_created(app, ev))
    app.bus.subscribe("loyalty.programme_created", lambda _ev: forget(app))
