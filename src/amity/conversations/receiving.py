"""Filing what a customer sent: the action every channel's inbound path ends in.

A message from a known customer joins their open conversation when it is recent or references it
(continuity), or opens a new one; a provider's retry is found by its external id and stored once.
This is the hottest write path in Amity (every inbound message on every channel), so the duplicate
check, continuity and the conversation's update are plain statements on the few columns they need;
a status change (the customer answering a pending or solved conversation) and an explicit reference
keep the ORM path and :func:`amity.conversations.changes.set_status`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update

from amity.channels.base import Inbound
from amity.channels.models import Channel
from amity.conversations import continuity
from amity.conversations.actions import attach, sanitise, text_of
from amity.conversations.changes import get_conversation, set_status
from amity.conversations.files import StoredFile
from amity.conversations.models import Conversation, Message
from amity.core.actions import ActionContext
from amity.customers import queries as customers
from amity.db import utcnow
from amity.ids import new_id


@dataclass
class Received:
    message_id: str
    conversation_id: str
    customer_id: str
    duplicate: bool = False
    new_conversation: bool = False
    refused_attachments: list[dict[str, Any]] = field(default_factory=list)


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
    reference load the conversation row and go through ``set_status`` as every other change does."""
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
            set_status(ctx, conv, "open", now, reason="customer replied")
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
    attachment_ids = attach(ctx, msg_id, customer_id, created_at, files)
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
