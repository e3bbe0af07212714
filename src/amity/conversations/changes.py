"""Changing a conversation once it exists: status (with its allowed transitions), priority, assignee,
team, brand, subject, tags and custom fields; moving a message; merging two conversations; the service
levels the SLA clocks work out. Each is an action step: the caller's transaction, an audit row,
events after commit."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import CursorResult, update

from amity.conversations.models import PRIORITIES, STATUSES, Conversation, Message
from amity.core.actions import ActionContext, Conflict, Invalid, NotFound
from amity.customers import queries as customers
from amity.db import utcnow

# Which status may follow which (an unchanged status is always fine). Closed is final: the customer
# writing again opens a new conversation linked to it.
TRANSITIONS = {
    "open": {"pending", "on_hold", "solved"},
    "pending": {"open", "on_hold", "solved"},
    "on_hold": {"open", "pending", "solved"},
    "solved": {"open", "closed"},
    "closed": set(),
}


def get_conversation(ctx: ActionContext, conversation_id: str) -> Conversation:
    conv = ctx.session.get(Conversation, conversation_id)
    if conv is None:
        raise NotFound(f"no conversation {conversation_id}", field="conversation_id")
    return conv


def set_status(
    ctx: ActionContext, conv: Conversation, status: str, now: dt.datetime, reason: str | None = None
) -> None:
    if status not in STATUSES:
        raise Invalid(f"one of {', '.join(STATUSES)}", field="status")
    if status == conv.status:
        return
    if status not in TRANSITIONS[conv.status]:
        allowed = ", ".join(sorted(TRANSITIONS[conv.status])) or "nothing (it is final)"
        raise Conflict(f"a {conv.status} conversation can become {allowed}, not {status}", field="status")
    before = conv.status
    conv.status = status
    if status == "solved":
        conv.solved_at = now
    elif status == "closed":
        conv.closed_at = now
    elif status == "open" and before == "solved":
        conv.solved_at = None
    ctx.audit("conversation.status", "conversation", conv.id, before=before, after=status, reason=reason)
    ctx.publish("conversation.updated", conversation_id=conv.id, changes={"status": [before, status]})


def clean_tags(tags: list[str]) -> list[str]:
    out: list[str] = []
    for t in tags:
        tag = t.strip().lower()
        if not tag or len(tag) > 50 or any(c.isspace() for c in tag):
            raise Invalid(f"tag '{t}' must be 1 to 50 characters without spaces", field="tags")
        if tag not in out:
            out.append(tag)
    return out


def update_conversation(ctx: ActionContext, conversation_id: str, /, **changes: Any) -> Conversation:
    """Status, priority, assignee, team, brand, subject, tags (set / add / remove) and custom fields."""
    conv = get_conversation(ctx, conversation_id)
    if conv.merged_into_id:
        raise Conflict(
            f"conversation {conv.id} was merged into {conv.merged_into_id}", field="conversation_id"
        )
    now = utcnow()
    done: dict[str, Any] = {}
    if (status := changes.pop("status", None)) is not None:
        set_status(ctx, conv, status, now)
    if conv.status == "closed" and changes:
        raise Conflict("the conversation is closed and can no longer change", field="conversation_id")
    if (priority := changes.pop("priority", None)) is not None:
        if priority not in PRIORITIES:
            raise Invalid(f"one of {', '.join(PRIORITIES)}", field="priority")
        done["priority"] = [conv.priority, priority]
        conv.priority = priority
    if "assignee_id" in changes:
        assignee = changes.pop("assignee_id")
        from amity.accounts.queries import assignable_user

        if assignee is not None and not assignable_user(ctx.session, assignee):
            raise Invalid(f"no active agent {assignee}", field="assignee_id")
        done["assignee_id"] = [conv.assignee_id, assignee]
        conv.assignee_id = assignee
    for key in ("team_id", "brand_id", "subject"):
        if key in changes:
            value = changes.pop(key)
            done[key] = [getattr(conv, key), value]
            setattr(conv, key, value)
    if (tags := changes.pop("tags", None)) is not None:
        done["tags"] = [conv.tags, clean_tags(tags)]
        conv.tags = done["tags"][1]
    add, remove = changes.pop("add_tags", None), changes.pop("remove_tags", None)
    if add or remove:
        new = [t for t in conv.tags if t not in set(clean_tags(remove or []))]
        new += [t for t in clean_tags(add or []) if t not in new]
        done["tags"] = [conv.tags, new]
        conv.tags = new
    if (fields := changes.pop("custom_fields", None)) is not None:
        merged = {**conv.custom_fields, **fields}
        done["custom_fields"] = fields
        conv.custom_fields = {k: v for k, v in merged.items() if v is not None}
    if changes:
        raise Invalid(f"unknown fields: {', '.join(sorted(changes))}", field=sorted(changes)[0])
    if done:
        conv.updated_at = now
        ctx.audit("conversation.updated", "conversation", conv.id, **done)
        ctx.publish("conversation.updated", conversation_id=conv.id, changes=done)
    return conv


def move_message(ctx: ActionContext, message_id: str, to_conversation_id: str) -> Message:
    """An agent files a message under the conversation it really belongs to (same person only)."""
    s = ctx.session
    msg = s.get(Message, message_id)
    if msg is None:
        raise NotFound(f"no message {message_id}", field="message_id")
    target = get_conversation(ctx, to_conversation_id)
    if target.merged_into_id or target.status == "closed":
        raise Conflict("messages can only move into a live conversation", field="conversation_id")
    people = customers.profile_ids(s, msg.customer_id)
    if target.customer_id not in people:
        raise Conflict("that conversation belongs to another customer", field="conversation_id")
    source = msg.conversation_id
    if source == target.id:
        return msg
    msg.conversation_id = target.id
    target.last_message_at = max(target.last_message_at, msg.created_at)
    target.updated_at = utcnow()
    ctx.audit("message.moved", "conversation", target.id, message_id=msg.id, from_conversation_id=source)
    ctx.publish("conversation.updated", conversation_id=source, changes={"message_moved_out": msg.id})
    ctx.publish("conversation.updated", conversation_id=target.id, changes={"message_moved_in": msg.id})
    return msg


def merge_conversations(ctx: ActionContext, survivor_id: str, other_id: str) -> Conversation:
    """Fold ``other`` into ``survivor``: its messages move over, it closes and points at the survivor."""
    s = ctx.session
    if survivor_id == other_id:
        raise Invalid("a conversation cannot be merged into itself", field="other_id")
    survivor, other = get_conversation(ctx, survivor_id), get_conversation(ctx, other_id)
    for c, f in ((survivor, "conversation_id"), (other, "other_id")):
        if c.merged_into_id:
            raise Conflict(f"conversation {c.id} was already merged into {c.merged_into_id}", field=f)
    if survivor.status == "closed":
        raise Conflict("cannot merge into a closed conversation", field="conversation_id")
    if other.customer_id not in customers.profile_ids(s, survivor.customer_id):
        raise Conflict(
            "the conversations belong to different customers; merge the customers first", field="other_id"
        )
    result = s.execute(
        update(Message).where(Message.conversation_id == other.id).values(conversation_id=survivor.id)
    )
    moved = cast(CursorResult[Any], result).rowcount
    now = utcnow()
    survivor.last_message_at = max(survivor.last_message_at, other.last_message_at)
    survivor.tags = survivor.tags + [t for t in other.tags if t not in survivor.tags]
    survivor.updated_at = now
    other.merged_into_id = survivor.id
    other.status = "closed"
    other.closed_at = now
    other.updated_at = now
    ctx.audit("conversation.merged", "conversation", survivor.id, merged_id=other.id, messages_moved=moved)
    ctx.publish("conversation.merged", conversation_id=survivor.id, merged_id=other.id)
    return survivor


def set_service_levels(
    ctx: ActionContext,
    conversation_id: str,
    /,
    *,
    policy_id: str | None,
    first_response_due_at: dt.datetime | None,
    next_response_due_at: dt.datetime | None,
    resolution_due_at: dt.datetime | None,
) -> Conversation:
    """The SLA policy that applies and its due times (computed by the service-level capability).

    ``next_due_at`` is the soonest target still running, which the inbox sorts by: first response
    until it happened, then next response while the customer waits, and resolution until solved.
    """
    conv = get_conversation(ctx, conversation_id)
    conv.sla_policy_id = policy_id
    conv.first_response_due_at = first_response_due_at
    conv.next_response_due_at = next_response_due_at
    conv.resolution_due_at = resolution_due_at
    running = [
        t
        for t, live in (
            (first_response_due_at, conv.first_response_at is None),
            (next_response_due_at, conv.awaiting_reply_since is not None),
            (resolution_due_at, conv.status not in ("solved", "closed")),
        )
        if t is not None and live
    ]
    conv.next_due_at = min(running) if running else None
    ctx.audit(
        "conversation.sla",
        "conversation",
        conv.id,
        policy_id=policy_id,
        first_response_due_at=first_response_due_at.isoformat() if first_response_due_at else None,
        next_response_due_at=next_response_due_at.isoformat() if next_response_due_at else None,
        resolution_due_at=resolution_due_at.isoformat() if resolution_due_at else None,
    )
    ctx.publish("conversation.updated", conversation_id=conv.id, changes={"sla": policy_id})
    return conv
