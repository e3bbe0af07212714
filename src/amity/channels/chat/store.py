"""What the chat channel reads and writes: a visitor's transcript and current conversation, their
messages in through :func:`amity.channels.inbound.receive`, and agents' replies out to their sockets.

Which messages a visitor sees (docs/channels/chat.md, "History"): never an internal note, and only
what was said on this chat channel. An anonymous visitor, or one who only *claimed* an email in the
chat, sees the messages written from and addressed to their own visitor id; a visitor the website
vouched for (a signed identity token) sees every chat message of their customer profile on this
channel, from any browser. A claimed email may belong to someone else, so it never opens that
person's history.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from amity.channels import inbound
from amity.channels.base import Address, DeliveryError, Inbound, Outbound, Sent
from amity.channels.chat.hub import hub_of
from amity.channels.chat.tokens import Visitor, visitor_of_device
from amity.channels.models import Channel
from amity.conversations.continuity import follow_merges
from amity.conversations.models import Conversation, Message
from amity.core.actions import App, Invalid
from amity.core.bus import DomainEvent
from amity.customers import queries as customers
from amity.customers import service
from amity.db import utcnow

HISTORY_LIMIT = 200
_CHANNEL_ID = re.compile(r"^[\x21-\x7e]{1,40}$")  # path text that cannot be an id never reaches the DB


def chat_channel(app: App, channel_id: str) -> Channel | None:
    if not _CHANNEL_ID.match(channel_id):
        return None
    with app.db.read() as s:
        channel = s.get(Channel, channel_id)
    return channel if channel is not None and channel.type == "chat" else None


def external_id(visitor: Visitor, client_id: str) -> str:
    # Scoped by visitor: two widgets may both number their messages 1, 2, 3 without colliding.
    return f"{visitor.visitor_id}:{client_id}"


def message_frame(m: Message) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": "message",
        "id": m.id,
        "conversation_id": m.conversation_id,
        "direction": m.direction,
        "author_type": m.author_type,
        "text": m.text,
        "html": m.html,
        "created_at": m.created_at.isoformat(),
    }
    vid = visitor_of_device(str((m.address or {}).get("value", "")))
    if m.direction == "in" and vid and m.external_id and m.external_id.startswith(f"{vid}:"):
        frame["client_id"] = m.external_id[len(vid) + 1 :]
    return frame


# ---- reads ---------------------------------------------------------------------------------------
def _customer(s: Session, app: App, visitor: Visitor) -> str | None:
    found = customers.find_by_identity(s, service.policy(app), f"device:{visitor.address.value}")
    return str(found[0]["id"]) if found else None


def transcript(
    s: Session, app: App, channel: Channel, visitor: Visitor, limit: int = HISTORY_LIMIT
) -> tuple[list[Message], bool]:
    """The visitor's latest ``limit`` messages on this channel, oldest first (see the module docstring
    for whose), and whether there are older ones."""
    cid = _customer(s, app, visitor)
    if cid is None:
        return [], False  # the visitor has not written yet: nothing is stored about them
    rows = s.scalars(
        select(Message)
        .where(
            Message.customer_id.in_(customers.profile_ids(s, cid)),
            Message.channel_id == channel.id,
            Message.is_note.is_(False),
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .execution_options(yield_per=100)  # newest first, read only as far as needed
    )
    mine = visitor.address.value
    found: list[Message] = []
    try:
        for m in rows:
            if visitor.verified or (m.address or {}).get("value") == mine:
                if len(found) == limit:
                    return found[::-1], True
                found.append(m)
    finally:
        rows.close()
    return found[::-1], False


def current_conversation(
    s: Session, app: App, channel: Channel, visitor: Visitor, latest: list[Message] | None = None
) -> Conversation | None:
    """The conversation the visitor's next message continues: where their chat last was, unless it was
    solved longer ago than the continuity window (a new need then opens a new conversation). A closed
    one is still returned: writing to it opens a follow-up linked to it."""
    msgs = transcript(s, app, channel, visitor, limit=1)[0] if latest is None else latest
    if not msgs:
        return None
    conv = follow_merges(s, s.get(Conversation, msgs[-1].conversation_id))
    if conv is None:
        return None
    window = dt.timedelta(hours=app.settings.conversation_window_hours)
    if conv.status == "solved" and conv.last_message_at < utcnow() - window:
        return None
    return conv


def snapshot(app: App, channel: Channel, visitor: Visitor) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``ready`` and ``history`` frames a socket opens with."""
    with app.db.read() as s:
        msgs, truncated = transcript(s, app, channel, visitor)
        conv = current_conversation(s, app, channel, visitor, msgs)
        ready: dict[str, Any] = {
            "type": "ready",
            "visitor_id": visitor.visitor_id,
            "conversation_id": conv.id if conv is not None and conv.status != "closed" else None,
            "verified": visitor.verified,
        }
        for key in ("greeting", "brand_id"):
            if channel.config.get(key):
                ready[key] = channel.config[key]
        return ready, history_frame(msgs, truncated)


def history_frame(msgs: list[Message], truncated: bool) -> dict[str, Any]:
    return {
        "type": "history",
        "messages": [{k: v for k, v in message_frame(m).items() if k != "type"} for m in msgs],
        "truncated": truncated,
    }


def history(app: App, channel: Channel, visitor: Visitor) -> dict[str, Any]:
    with app.db.read() as s:
        return history_frame(*transcript(s, app, channel, visitor))


def has_written(app: App, visitor: Visitor) -> bool:
    """Whether anything is stored about the visitor (they wrote, or said who they are)."""
    with app.db.read() as s:
        return _customer(s, app, visitor) is not None


# ---- writes --------------------------------------------------------------------------------------
def post_message(
    app: App, channel: Channel, visitor: Visitor, text: str, client_id: str | None
) -> tuple[dict[str, Any], bool]:
    """Store what the visitor wrote; its ``message`` frame, and whether it was a resend."""
    with app.db.read() as s:
        conv = current_conversation(s, app, channel, visitor)
    msg = Inbound(
        sender=visitor.address,
        text=text,
        external_id=external_id(visitor, client_id) if client_id else None,
        conversation_hint=conv.id if conv is not None else None,
        # An email typed into the chat is a claim, not proof: such a visitor keeps their own chat but
        # never joins the open conversation of whoever owns that address.
        continue_recent=visitor.verified,
        meta={"chat": {"visitor_id": visitor.visitor_id, "verified": visitor.verified}},
    )
    got = inbound.receive(app, channel.id, msg, expect=("chat",))
    with app.db.read() as s:
        stored = s.get(Message, got.message_id)
        if stored is None:  # the row was committed a moment ago; only an erasure could remove it
            raise LookupError(f"message {got.message_id} is gone")
        return message_frame(stored), got.duplicate


def link(
    app: App,
    channel: Channel,
    visitor: Visitor,
    identities: list[Address],
    *,
    verified: bool,
    name: str | None,
) -> str:
    """Tie identities to the visitor through identity resolution; the customer id they resolve to.

    The event id is derived from what is linked, so a page reload that opens the same session again
    is stored once.
    """
    parts = [channel.id, visitor.visitor_id, *(f"{a.type}:{a.value}" for a in identities)]
    key = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]
    event = {
        "id": f"chat_{key}",
        "type": "chat.identified",
        "source": "channel:chat",
        "identities": [visitor.address.as_dict(), *(a.as_dict() for a in identities)],
        "properties": {
            "channel_id": channel.id,
            "channel_type": "chat",
            "visitor_id": visitor.visitor_id,
            "verified": verified,
        },
    }
    result = service.ingest(app, inbound.channel_actor(channel), [event])["results"][0]
    if result["status"] == "rejected":
        err = result["errors"][0]
        raise Invalid(f"the identity cannot be linked: {err['message']}", field="identity")
    cid = str(result["customer_id"])
    if name:
        # A name fills an empty name trait and never overwrites one the business holds.
        inbound.name_if_unnamed(app, channel, cid, name)
    return cid


def typing(app: App, channel: Channel, visitor: Visitor) -> bool:
    """Tell the console the visitor is typing (False: no conversation to tell it about). Nothing is
    stored: it is stale in a few seconds."""
    with app.db.read() as s:
        conv = current_conversation(s, app, channel, visitor)
    if conv is None or conv.status == "closed":
        return False
    data = {
        "conversation_id": conv.id,
        "channel_id": channel.id,
        "visitor_id": visitor.visitor_id,
        "author_type": "customer",
    }
    app.bus.publish([DomainEvent("conversation.typing", data)])
    return True


# ---- out -----------------------------------------------------------------------------------------
class ChatTransport:
    """Delivers a reply to every open socket of the visitor it is addressed to.

    No socket open is not a failure: the reply is stored, and the widget reads it from history when
    it connects again, so the delivery is ``sent``; ``delivered`` when at least one socket (in any
    process) was handed the frame. The browser does not acknowledge frames.
    """

    def __init__(self, app: App, channel_id: str) -> None:
        self.app = app
        self.channel_id = channel_id

    def send(self, message: Outbound) -> Sent:
        vid = visitor_of_device(message.to.value) if message.to.type == "device" else None
        if vid is None:
            raise DeliveryError(
                f"{message.to.type} '{message.to.value}' is not a chat visitor; reply on another channel",
                permanent=True,
            )
        with self.app.db.read() as s:
            stored = s.get(Message, message.message_id)
            if stored is None:
                raise DeliveryError(f"message {message.message_id} is gone", permanent=True)
            frame = message_frame(stored)
        took = hub_of(self.app).push(vid, orjson.dumps(frame))
        return Sent(status="delivered" if took else "sent")


def transport(app: App, channel_id: str, config: dict[str, Any]) -> ChatTransport:
    return ChatTransport(app, channel_id)
