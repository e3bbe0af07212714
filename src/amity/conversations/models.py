"""Conversations, their messages and attachments, and the outbox that delivers outbound messages.

``customer_id`` on these rows is the profile the conversation was opened for and never moves: reads
resolve it through the customer core (a merged-away id answers with its survivor), so merges and
unmerges need no row updates here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from amity.db import Base, JSONType, UTCDateTime, utcnow
from amity.privacy.models import BigIntPK

STATUSES = ("open", "pending", "on_hold", "solved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
# held: waiting for the end of quiet hours; blocked: the consent policy refused it (docs/consent.md)
DELIVERY = ("queued", "held", "sent", "delivered", "failed", "blocked", "received")


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open")
    priority: Mapped[str] = mapped_column(String(20), nullable=False, default="normal")
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    team_id: Mapped[str | None] = mapped_column(String(32), index=True)
    brand_id: Mapped[str | None] = mapped_column(String(32))
    tags: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    links: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False, default=list)
    # The channel the customer last wrote on: where a reply goes unless the agent picks another.
    last_channel_id: Mapped[str | None] = mapped_column(ForeignKey("channels.id"))
    merged_into_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_message_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_inbound_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When the customer's latest message still waits for an answer (drives next-response SLAs).
    awaiting_reply_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    solved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Service levels (filled by the SLA policy that applies); the inbox sorts by the nearest due time.
    sla_policy_id: Mapped[str | None] = mapped_column(String(32))
    first_response_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    next_response_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    next_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    # Secret part of reply addresses and chat sessions that point back at this conversation.
    reply_token: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)

    __table_args__ = (Index("ix_conversations_status_last", "status", "last_message_at"),)


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), nullable=False)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    direction: Mapped[str] = mapped_column(String(3), nullable=False)  # in | out
    channel_id: Mapped[str | None] = mapped_column(ForeignKey("channels.id"))
    channel_type: Mapped[str] = mapped_column(String(20), nullable=False)
    author_type: Mapped[str] = mapped_column(String(20), nullable=False)  # customer | agent | system
    author_id: Mapped[str | None] = mapped_column(String(200))
    # Who it came from / goes to on that channel, as an identity: {"type": "email", "value": "…"}.
    address: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    subject: Mapped[str | None] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    html: Mapped[str | None] = mapped_column(Text)  # sanitised
    is_note: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # The provider's id (email Message-ID, Twilio SID, Telegram message id…); unique per channel.
    external_id: Mapped[str | None] = mapped_column(String(500))
    in_reply_to: Mapped[str | None] = mapped_column(String(500))
    thread_refs: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    delivery_status: Mapped[str] = mapped_column(String(20), nullable=False, default="received")
    delivery_error: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_messages_conversation_created", "conversation_id", "created_at"),
        UniqueConstraint("channel_id", "external_id", name="uq_messages_channel_external"),
        Index("ix_messages_external_id", "external_id"),
    )


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), nullable=False, index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    filename: Mapped[str] = mapped_column(String(300), nullable=False)
    content_type: Mapped[str] = mapped_column(String(200), nullable=False)  # sniffed from the bytes
    declared_type: Mapped[str | None] = mapped_column(String(200))  # what the sender said
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    storage_path: Mapped[str] = mapped_column(String(500), nullable=False)  # relative to AMITY_HOME
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Delivery(Base):
    """The outbox: one row per outbound message, written in the same transaction as the message.

    Workers claim a row with a conditional UPDATE (only one wins), so a job that runs twice sends once;
    the row's ``idempotency_key`` goes to the provider so a retry after a crash mid-send is recognised.
    """

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), nullable=False, unique=True)
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id"), nullable=False)
    idempotency_key: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_deliveries_due", "status", "next_attempt_at"),)
