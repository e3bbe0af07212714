"""What every channel adapter speaks: inbound messages in, outbound messages out.

An adapter turns the outside world's payload (a MIME message, a Twilio form post, a Telegram update, a
call event) into an :class:`Inbound`, which :func:`amity.channels.inbound.receive` stores; and it
delivers an :class:`Outbound` through a :class:`Transport` — the one seam to the outside world, with a
real implementation (SMTP, HTTP) and, in unit tests, a fake one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Address:
    """An identity on a channel: ``Address("email", "ana@example.com")``, ``Address("phone", "+44…")``."""

    type: str
    value: str

    def as_dict(self) -> dict[str, str]:
        return {"type": self.type, "value": self.value}


@dataclass
class InboundAttachment:
    filename: str
    data: bytes
    declared_type: str | None = None


@dataclass
class Inbound:
    sender: Address
    text: str = ""
    html: str | None = None
    subject: str | None = None
    sender_name: str | None = None
    # Further identities the channel knows for the sender (e.g. an email address given in a chat).
    identities: list[Address] = field(default_factory=list)
    # The provider's id for this message: a webhook retried with the same id is stored once.
    external_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    # A conversation the channel already knows this belongs to (chat session, reply token).
    conversation_hint: str | None = None
    attachments: list[InboundAttachment] = field(default_factory=list)
    received_at: dt.datetime | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    # Machine-sent mail (auto-replies, bounces): stored, but never answered automatically.
    automated: bool = False
    # False for senders whose identity is only claimed, not proven (an email typed into a chat): they
    # may continue a conversation they hold a reference to, never join one found by their identity.
    continue_recent: bool = True
    event_type: str = "message.received"


@dataclass
class OutboundAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Outbound:
    message_id: str
    conversation_id: str
    channel_id: str
    channel_type: str
    config: dict[str, Any]
    to: Address
    text: str
    html: str | None
    subject: str | None
    idempotency_key: str
    # Threading: the provider ids of earlier messages (email In-Reply-To / References).
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    external_id: str | None = None  # set beforehand when we choose it (email Message-ID)
    reply_token: str | None = None
    attachments: list[OutboundAttachment] = field(default_factory=list)
    brand: dict[str, Any] | None = None
    # Marketing only: the one-click unsubscribe URL (List-Unsubscribe, RFC 8058; docs/consent.md).
    list_unsubscribe: str | None = None


@dataclass(frozen=True)
class Sent:
    external_id: str | None = None  # the provider's id for what it accepted
    status: str = "sent"  # or "delivered" when the provider confirms at once


class DeliveryError(Exception):
    """The provider refused. ``permanent`` ones (bad address, blocked) are not retried; a provider that
    says when to come back (Retry-After, Telegram's retry_after) sets ``retry_after`` seconds."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class Transport(Protocol):
    def send(self, message: Outbound) -> Sent: ...
