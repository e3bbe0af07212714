"""Which conversation an inbound message belongs to: one conversation per need, across channels.

In order (docs/conversations.md):
1. an explicit reference — the channel's own hint (chat session, reply token) or the provider ids the
   message quotes (email In-Reply-To / References, which carry our Message-IDs);
2. otherwise the person's most recent conversation that is still open, pending or on hold, when its
   last message is within the continuity window (``AMITY_CONVERSATION_WINDOW_HOURS``) — whatever
   channel it started on, so a phone call after a chat joins the chat;
3. otherwise none: a new conversation opens.

A closed conversation is never reopened; a message referencing one opens a new conversation linked
to it. A solved one is reopened only by an explicit reference (a reply to the solution mail), not by
recency: a new message days later is usually a new need.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from amity.conversations.models import Conversation, Message

ACTIVE = ("open", "pending", "on_hold")
# Our own outbound Message-IDs look like <msg_…@host>; the message id inside finds the conversation
# even when the provider id was never recorded (worker died after sending).
_OWN_MESSAGE_ID = re.compile(r"<?(msg_[0-9a-z]{26})[.@]")


def follow_merges(session: Session, conv: Conversation | None) -> Conversation | None:
    for _ in range(100):
        if conv is None or conv.merged_into_id is None:
            return conv
        conv = session.get(Conversation, conv.merged_into_id)
    return conv


def referenced(
    session: Session, profile_ids: list[str], hint: str | None, refs: list[str]
) -> Conversation | None:
    """The conversation an explicit reference points at, if it belongs to this person."""
    found: Conversation | None = None
    if hint:
        found = session.scalar(
            select(Conversation).where((Conversation.reply_token == hint) | (Conversation.id == hint))
        )
    if found is None and refs:
        own = [m.group(1) for r in refs if (m := _OWN_MESSAGE_ID.search(r))]
        q = select(Message.conversation_id).where(
            (Message.external_id.in_(refs)) | (Message.id.in_(own)) if own else Message.external_id.in_(refs)
        )
        conv_id = session.scalar(q.order_by(Message.created_at.desc()).limit(1))
        found = session.get(Conversation, conv_id) if conv_id else None
    found = follow_merges(session, found)
    if found is None or found.customer_id not in profile_ids:
        return None  # a reference to someone else's conversation is ignored, never trusted
    return found


def recent(
    session: Session, profile_ids: list[str], now: dt.datetime, window: dt.timedelta
) -> Conversation | None:
    return session.scalar(
        select(Conversation)
        .where(
            Conversation.customer_id.in_(profile_ids),
            Conversation.status.in_(ACTIVE),
            Conversation.merged_into_id.is_(None),
            Conversation.last_message_at >= now - window,
        )
        .order_by(Conversation.last_message_at.desc())
        .limit(1)
    )


class Live(NamedTuple):
    """What receiving a message needs of the conversation it joins (no ORM row: one plain read)."""

    id: str
    status: str
    awaiting_reply_since: dt.datetime | None


_T = cast(Table, Conversation.__table__)
_RECENT = (
    select(_T.c.id, _T.c.status, _T.c.awaiting_reply_since)
    .where(
        _T.c.customer_id.in_(bindparam("people", expanding=True)),
        _T.c.status.in_(ACTIVE),
        _T.c.merged_into_id.is_(None),
        _T.c.last_message_at >= bindparam("since"),
    )
    .order_by(_T.c.last_message_at.desc())
    .limit(1)
)


def recent_live(
    session: Session, profile_ids: list[str], now: dt.datetime, window: dt.timedelta
) -> Live | None:
    """``recent``, answered as the few columns the message path needs (the same query otherwise)."""
    row = session.execute(_RECENT, {"people": profile_ids, "since": now - window}).first()
    return Live(*row) if row is not None else None
