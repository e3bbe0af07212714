"""Opening conversations and writing in them: an agent's reply or note (queued for delivery on the
right channel) and a conversation an agent starts. Changes to a conversation are in
:mod:`amity.conversations.changes`, what a customer sends in :mod:`amity.conversations.receiving`;
every one is an action step (one transaction, an audit row, events after commit)."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

import nh3
from sqlalchemy import select

from amity.channels import registry
from amity.channels.models import Channel
from amity.conversations.changes import clean_tags, get_conversation, set_status
from amity.conversations.files import StoredFile
from amity.conversations.models import PRIORITIES, Attachment, Conversation, Delivery, Message
from amity.core.actions import ActionContext, Conflict, Invalid, NotFound
from amity.customers import queries as customers
from amity.db import utcnow
from amity.ids import new_id


def sanitise(html: str | None) -> str | None:
    return nh3.clean(html) if html else None


def text_of(html: str) -> str:
    return nh3.clean(html, tags=set()).strip()


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


def attach(
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
        tags=clean_tags(tags or []),
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
        attach(ctx, msg.id, msg.customer_id, msg.created_at, files or [])
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
        attach(ctx, msg.id, msg.customer_id, msg.created_at, files or [])
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
        set_status(ctx, conv, status, now)
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
