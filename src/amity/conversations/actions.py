"""Every change to conversations and messages: one transaction, an audit row, events after commit."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any, cast

import nh3
from sqlalchemy import CursorResult, Table, bindparam, insert, select, update

from amity.channels import registry
from amity.channels.base import Inbound
from amity.channels.models import Channel
from amity.conversations import continuity
from amity.conversations.files import StoredFile
from amity.conversations.models import PRIORITIES, STATUSES, Attachment, Conversation, Delivery, Message
from amity.core.actions import ActionContext, Conflict, Invalid, NotFound
from amity.customers import queries as customers
from amity.db import utcnow
from amity.ids import new_id

# Which status may follow which (an unchanged status is always fine). Closed is final: the customer
# writing again opens a new conversation linked to it.
TRANSITIONS = {
    "open": {"pending", "on_hold", "solved"},
    "pending": {"open", "on_hold", "solved"},
    "on_hold": {"open", "pending", "solved"},
    "solved": {"open", "closed"},
    "closed": set(),
}


@dataclass
class Received:
    message_id: str
    conversation_id: str
    customer_id: str
    duplicate: bool = False
    new_conversation: bool = False
    refused_attachments: list[dict[str, Any]] = field(default_factory=list)


def sanitise(html: str | None) -> str | None:
    return nh3.clean(html) if html else None


def text_of(html: str) -> str:
    return nh3.clean(html, tags=set()).strip()


def get_conversation(ctx: ActionContext, conversation_id: str) -> Conversation:
    conv = ctx.session.get(Conversation, conversation_id)
    if conv is None:
        raise NotFound(f"no conversation {conversation_id}", field="conversation_id")
    return conv


def _new_conversation(
    ctx: ActionContext, customer_id: str, subject: str, channel_id: str | None, now: dt.datetime, **extra: Any
) -> Conversation:
    conv = Conversation(
        id=new_id("cnv"),
        customer_id=customer_id,
        subject=subject[:500],
        status="open",
        priority=extra.pop("priority", None) or "normal",
        tags=extra.pop("tags", None) or [],
        custom_fields=extra.pop("custom_fields", None) or {},
        links=extra.pop("links", None) or [],
        last_channel_id=channel_id,
        created_at=now,
        updated_at=now,
        last_message_at=now,
        reply_token=secrets.token_hex(10),
        **extra,
    )
    ctx.session.add(conv)
    ctx.session.flush()
    return conv


def _attach(
    ctx: ActionContext, message_id: str, customer_id: str, created_at: dt.datetime, files: list[StoredFile]
) -> list[str]:
    ids = []
    for f in files:
        a = Attachment(
            id=new_id("att"),
            message_id=message_id,
            customer_id=customer_id,
            filename=f.filename,
            content_type=f.content_type,
            declared_type=f.declared_type,
            size=f.size,
            sha256=f.sha256,
            storage_path=f.storage_path,
            created_at=created_at,
        )
        ctx.session.add(a)
        ids.append(a.id)
    return ids


_MESSAGES = cast(Table, Message.__table__)
_CONVERSATIONS = cast(Table, Conversation.__table__)
_KNOWN = select(_MESSAGES.c.id, _MESSAGES.c.conversation_id, _MESSAGES.c.customer_id).where(
    _MESSAGES.c.channel_id == bindparam("channel_id"), _MESSAGES.c.external_id == bindparam("external_id")
)
_INSERT_CONVERSATION = insert(_CONVERSATIONS)
_INSERT_MESSAGE = insert(_MESSAGES)
_JOINED = update(_CONVERSATIONS).where(_CONVERSATIONS.c.id == bindparam("_id"))


def receive_message(
    ctx: ActionContext,
    channel: Channel,
    customer_id: str,
    inbound: Inbound,
    files: list[StoredFile],
    window: dt.timedelta,
    refused: list[dict[str, Any]] | None = None,
) -> Received:
    """An inbound message from a known customer: it joins their conversation or opens one.

    This is the busiest write in Amity (every message on every channel), so the usual cases -- a new
    conversation, or a message joining one whose status stays -- are plain statements: one read of
    the few columns continuity needs, one insert each for the conversation and the message, one
    update. A status change (the customer answers a pending or solved conversation) and an explicit
    reference load the conversation row and go through ``_set_status`` as every other change does."""
    s = ctx.session
    if inbound.external_id:
        known = s.execute(_KNOWN, {"channel_id": channel.id, "external_id": inbound.external_id}).first()
        if known is not None:  # the provider retried its webhook: stored once
            return Received(known.id, known.conversation_id, known.customer_id, duplicate=True)
    now = utcnow()
    people = customers.profile_ids(s, customer_id)
    conv = continuity.referenced(
        s, people, inbound.conversation_hint, [*inbound.references, *filter(None, [inbound.in_reply_to])]
    )
    links: list[dict[str, Any]] = []
    if conv is not None and conv.status == "closed":
        links = [{"type": "follow_up_of", "conversation_id": conv.id}]
        conv = None
    live: continuity.Live | None = None
    if conv is None and inbound.continue_recent:
        live = continuity.recent_live(s, people, now, window)
        if live is not None and live.status in ("pending", "solved") and not inbound.automated:
            conv = get_conversation(ctx, live.id)  # a status change: the row, and the usual path
            live = None
    created = conv is None and live is None
    waiting = None if inbound.automated else now  # an out-of-office reply leaves nobody waiting
    if conv is not None:
        conv_id = conv.id
        if conv.status in ("pending", "solved") and not inbound.automated:
            # The customer answered: the ball is back with us (on hold stays on hold: we wait on a
            # third party). An out-of-office reply is not an answer and leaves the status alone.
            _set_status(ctx, conv, "open", now, reason="customer replied")
        conv.last_message_at = now
        conv.last_inbound_at = now
        conv.last_channel_id = channel.id
        conv.updated_at = now
        if conv.awaiting_reply_since is None and waiting is not None:
            conv.awaiting_reply_since = waiting
        s.flush()  # the row before the message that points at it
    elif live is not None:
        conv_id = live.id
        joined: dict[str, Any] = {
            "_id": conv_id,
            "last_message_at": now,
            "last_inbound_at": now,
            "last_channel_id": channel.id,
            "updated_at": now,
        }
        if live.awaiting_reply_since is None and waiting is not None:
            joined["awaiting_reply_since"] = waiting
        s.execute(_JOINED.values({k: bindparam(k) for k in joined if k != "_id"}), joined)
    else:
        conv_id = new_id("cnv")
        subject = inbound.subject or (inbound.text.strip().splitlines() or [""])[0][:120]
        s.execute(
            _INSERT_CONVERSATION,
            {
                "id": conv_id,
                "customer_id": customer_id,
                "subject": (subject or f"{channel.type} conversation")[:500],
                "status": "open",
                "priority": "normal",
                "tags": [],
                "custom_fields": {},
                "links": links,
                "last_channel_id": channel.id,
                "brand_id": channel.brand_id,
                "created_at": now,
                "updated_at": now,
                "last_message_at": now,
                "last_inbound_at": now,
                "awaiting_reply_since": waiting,
                "reply_token": secrets.token_hex(10),
            },
        )
    html = sanitise(inbound.html)
    text = inbound.text or (text_of(html) if html else "")
    msg_id = new_id("msg")
    created_at = inbound.received_at or now
    s.execute(
        _INSERT_MESSAGE,
        {
            "id": msg_id,
            "conversation_id": conv_id,
            "customer_id": customer_id,
            "direction": "in",
            "channel_id": channel.id,
            "channel_type": channel.type,
            "author_type": "customer",
            "author_id": customer_id,
            "address": inbound.sender.as_dict(),
            "subject": inbound.subject,
            "text": text,
            "html": html,
            "is_note": False,
            "external_id": inbound.external_id,
            "in_reply_to": inbound.in_reply_to,
            "thread_refs": inbound.references,
            "delivery_status": "received",
            "meta": {
                **inbound.meta,
                **({"sender_name": inbound.sender_name} if inbound.sender_name else {}),
                **({"automated": True} if inbound.automated else {}),
                **({"refused_attachments": refused} if refused else {}),
            },
            "created_at": created_at,
        },
    )
    attachment_ids = _attach(ctx, msg_id, customer_id, created_at, files)
    ctx.audit(
        "message.received",
        "conversation",
        conv_id,
        message_id=msg_id,
        channel_id=channel.id,
        channel_type=channel.type,
        new_conversation=created,
        attachments=len(attachment_ids),
    )
    if created:
        ctx.publish(
            "conversation.created",
            conversation_id=conv_id,
            customer_id=customer_id,
            channel_type=channel.type,
        )
    ctx.publish(
        "message.created",
        conversation_id=conv_id,
        message_id=msg_id,
        customer_id=customer_id,
        direction="in",
        channel_type=channel.type,
        is_note=False,
        automated=inbound.automated,
    )
    return Received(msg_id, conv_id, customer_id, new_conversation=created, refused_attachments=refused or [])


def open_conversation(
    ctx: ActionContext,
    customer_id: str,
    subject: str,
    *,
    channel_id: str | None = None,
    priority: str = "normal",
    tags: list[str] | None = None,
    custom_fields: dict[str, Any] | None = None,
    assignee_id: str | None = None,
    team_id: str | None = None,
    brand_id: str | None = None,
) -> Conversation:
    """A conversation an agent or a system starts (an outbound contact, an in-store visit logged)."""
    live = customers.resolve_customer(ctx.session, customer_id)
    if priority not in PRIORITIES:
        raise Invalid(f"one of {', '.join(PRIORITIES)}", field="priority")
    if channel_id is not None and ctx.session.get(Channel, channel_id) is None:
        raise NotFound(f"no channel {channel_id}", field="channel_id")
    now = utcnow()
    conv = _new_conversation(
        ctx,
        live,
        subject,
        channel_id,
        now,
        priority=priority,
        tags=_clean_tags(tags or []),
        custom_fields=custom_fields or {},
        assignee_id=assignee_id,
        team_id=team_id,
        brand_id=brand_id,
    )
    ctx.audit("conversation.opened", "conversation", conv.id, customer_id=live, subject=conv.subject)
    ctx.publish("conversation.created", conversation_id=conv.id, customer_id=live, channel_type=None)
    return conv


def _recipient(ctx: ActionContext, conv: Conversation, channel: Channel) -> dict[str, str]:
    """Who a reply on ``channel`` goes to: the address the customer last wrote from there, else their
    identity of a type the channel reaches."""
    s = ctx.session
    people = customers.profile_ids(s, conv.customer_id)
    last_in = s.scalar(
        select(Message.address)
        .where(
            Message.conversation_id == conv.id,
            Message.channel_id == channel.id,
            Message.direction == "in",
            Message.address.is_not(None),
        )
        .order_by(Message.created_at.desc())
        .limit(1)
    )
    if last_in:
        return dict(last_in)
    kind = registry.kind(channel.type)
    found = customers.identities_of(s, people[0], kind.reaches)
    if not found:
        raise Invalid(
            f"the customer has no {' or '.join(kind.reaches)} identity to reach on {channel.type} '{channel.name}'",
            field="channel_id",
        )
    return found[0]


def add_message(
    ctx: ActionContext,
    conversation_id: str,
    *,
    text: str,
    html: str | None = None,
    note: bool = False,
    channel_id: str | None = None,
    files: list[StoredFile] | None = None,
    status: str | None = None,
    meta: dict[str, Any] | None = None,
) -> Message:
    """An agent's reply (queued for delivery on a channel) or internal note (never sent).

    ``meta``: what the sender says about the message, kept on it; campaigns and notifications put
    the consent label here (``amity.consent.policy.label``) so the outbox asks the right question."""
    s = ctx.session
    conv = get_conversation(ctx, conversation_id)
    if conv.merged_into_id:
        raise Conflict(
            f"conversation {conv.id} was merged into {conv.merged_into_id}; write there",
            field="conversation_id",
        )
    if conv.status == "closed" and not note:
        raise Conflict(
            "the conversation is closed; open a new one to write to the customer", field="conversation_id"
        )
    clean_html = sanitise(html)
    body = text.strip() or (text_of(clean_html) if clean_html else "")
    if not body and not files:
        raise Invalid("a message needs text, html or an attachment", field="text")
    now = utcnow()
    # People and the API tokens of their tools answer as agents; Amity itself (automations) as system.
    author_type = "agent" if ctx.actor.kind in ("user", "token") else "system"
    msg_id = new_id("msg")
    if note:
        msg = Message(
            id=msg_id,
            conversation_id=conv.id,
            customer_id=conv.customer_id,
            direction="out",
            channel_id=None,
            channel_type="note",
            author_type=author_type,
            author_id=ctx.actor.label,
            text=body,
            html=clean_html,
            is_note=True,
            delivery_status="internal",
            meta=dict(meta or {}),
            created_at=now,
        )
        s.add(msg)
        s.flush()
        _attach(ctx, msg.id, msg.customer_id, msg.created_at, files or [])
        ctx.audit("note.added", "conversation", conv.id, message_id=msg.id)
    else:
        chosen = channel_id or _reply_channel(ctx, conv)
        if chosen is None:
            raise Invalid(
                "the customer has not written on any channel yet; choose channel_id", field="channel_id"
            )
        channel = s.get(Channel, chosen)
        if channel is None:
            raise NotFound(f"no channel {chosen}", field="channel_id")
        if not channel.enabled:
            raise Conflict(f"channel '{channel.name}' is disabled", field="channel_id")
        kind = registry.kind(channel.type)
        if kind.transport is None:
            raise Invalid(
                f"a {channel.type} channel cannot send messages; reply on another", field="channel_id"
            )
        to = _recipient(ctx, conv, channel)
        refs = _thread(ctx, conv, channel)
        msg = Message(
            id=msg_id,
            conversation_id=conv.id,
            customer_id=conv.customer_id,
            direction="out",
            channel_id=channel.id,
            channel_type=channel.type,
            author_type=author_type,
            author_id=ctx.actor.label,
            address=to,
            subject=_reply_subject(conv),
            text=body,
            html=clean_html,
            external_id=kind.external_id_for(msg_id, channel.config) if kind.external_id_for else None,
            in_reply_to=refs[-1] if refs else None,
            thread_refs=refs,
            delivery_status="queued",
            meta=dict(meta or {}),
            created_at=now,
        )
        s.add(msg)
        s.flush()
        _attach(ctx, msg.id, msg.customer_id, msg.created_at, files or [])
        delivery = Delivery(
            message_id=msg.id,
            channel_id=channel.id,
            idempotency_key=uuid.uuid4().hex,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        s.add(delivery)
        s.flush()
        if conv.first_response_at is None and author_type == "agent":
            conv.first_response_at = now
        conv.awaiting_reply_since = None
        ctx.audit(
            "message.sent", "conversation", conv.id, message_id=msg.id, channel_id=channel.id, to=to["type"]
        )
        ctx.publish("delivery.queued", delivery_id=delivery.id, message_id=msg.id)
    conv.last_message_at = now
    conv.updated_at = now
    if status and status != conv.status:
        _set_status(ctx, conv, status, now)
    ctx.publish(
        "message.created",
        conversation_id=conv.id,
        message_id=msg.id,
        customer_id=conv.customer_id,
        direction="out",
        channel_type=msg.channel_type,
        is_note=note,
        automated=False,
    )
    return msg


def _reply_channel(ctx: ActionContext, conv: Conversation) -> str | None:
    """Where a reply goes by default: the channel the customer last wrote on that can carry a reply.
    After a phone call that is the chat or email before it (the line itself cannot send); with none
    such, the last channel, so the agent is told why it cannot be used."""
    last = ctx.session.get(Channel, conv.last_channel_id) if conv.last_channel_id else None
    if last is not None and registry.kind(last.type).transport is not None:
        return last.id
    # Ids are time-ordered as we stored them; created_at is the provider's own clock and may lag.
    rows = ctx.session.execute(
        select(Message.channel_id, Message.channel_type)
        .where(Message.conversation_id == conv.id, Message.direction == "in", Message.channel_id.is_not(None))
        .order_by(Message.id.desc())
        .limit(50)
    )
    for channel_id, channel_type in rows:
        if registry.kind(channel_type).transport is not None:
            return str(channel_id)
    return conv.last_channel_id


def _thread(ctx: ActionContext, conv: Conversation, channel: Channel) -> list[str]:
    """Provider ids of this conversation's earlier messages on the channel, oldest first (References)."""
    rows = ctx.session.scalars(
        select(Message.external_id)
        .where(
            Message.conversation_id == conv.id,
            Message.channel_id == channel.id,
            Message.external_id.is_not(None),
        )
        .order_by(Message.created_at)
    )
    return [r for r in rows if r][-20:]


def _reply_subject(conv: Conversation) -> str:
    subject = conv.subject or "Your conversation"
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


def _set_status(
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


def _clean_tags(tags: list[str]) -> list[str]:
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
        _set_status(ctx, conv, status, now)
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
        done["tags"] = [conv.tags, _clean_tags(tags)]
        conv.tags = done["tags"][1]
    add, remove = changes.pop("add_tags", None), changes.pop("remove_tags", None)
    if add or remove:
        new = [t for t in conv.tags if t not in set(_clean_tags(remove or []))]
        new += [t for t in _clean_tags(add or []) if t not in new]
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


def start_conversation(
    ctx: ActionContext,
    customer_id: str,
    subject: str,
    first: dict[str, Any] | None,
    files: list[StoredFile],
    /,
    **options: Any,
) -> str:
    """Open a conversation and, in the same transaction, send (or note) its first message."""
    conv = open_conversation(ctx, customer_id, subject, **options)
    if first is not None:
        add_message(
            ctx,
            conv.id,
            text=first.get("text", ""),
            html=first.get("html"),
            note=bool(first.get("note")),
            channel_id=first.get("channel_id") or options.get("channel_id"),
            files=files,
            status=first.get("status"),
        )
    return conv.id


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
