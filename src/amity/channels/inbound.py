"""Storing what arrives on any channel: resolve the sender, keep the files, file the message.

Every adapter ends here, so every channel gets the same guarantees: the sender becomes (or is found
as) a customer through identity resolution; a provider's retry is stored once (the event id and the
message's external id are derived from the provider's id); oversized attachments are refused by name
while the rest of the message is kept; and the message joins the right conversation (continuity).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from amity.channels.base import Inbound
from amity.channels.models import Channel
from amity.conversations import receiving
from amity.conversations.files import StoredFile, store
from amity.core.actions import Actor, App, Conflict, Invalid, NotFound, perform
from amity.customers import service as customers

TIMELINE_TYPES = {"message.received", "call.ringing", "call.answered", "call.ended", "chat.started"}


def channel_actor(channel: Channel) -> Actor:
    return Actor(kind="channel", id=channel.id, role="integration", name=f"{channel.type}:{channel.name}")


def load_channel(app: App, channel_id: str, *, expect: tuple[str, ...] | None = None) -> Channel:
    with app.db.read() as s:
        channel = s.get(Channel, channel_id)
    if channel is None:
        raise NotFound(f"no channel {channel_id}", field="channel_id")
    if expect and channel.type not in expect:
        raise NotFound(f"channel {channel_id} is not a {' or '.join(expect)} channel", field="channel_id")
    if not channel.enabled:
        raise Conflict(f"channel '{channel.name}' is disabled", field="channel_id")
    return channel


def resolve_sender(app: App, channel: Channel, inbound: Inbound) -> str:
    """The customer id of whoever wrote, through identity resolution (merges included)."""
    event: dict[str, Any] = {
        "type": inbound.event_type if inbound.event_type in TIMELINE_TYPES else "message.received",
        "source": f"channel:{channel.type}",
        "identities": [inbound.sender.as_dict(), *(a.as_dict() for a in inbound.identities)],
        "properties": {"channel_id": channel.id, "channel_type": channel.type},
    }
    if inbound.external_id:
        key = hashlib.sha256(f"{channel.id}\x1f{inbound.external_id}".encode()).hexdigest()[:40]
        event["id"] = f"in_{key}"
    if inbound.received_at:
        event["timestamp"] = inbound.received_at.astimezone(dt.UTC).isoformat()
    result = customers.ingest(app, channel_actor(channel), [event])["results"][0]
    if result["status"] == "rejected":
        err = result["errors"][0]
        field = "from" if err["field"].startswith("identities") else err["field"]
        raise Invalid(f"the sender cannot be identified: {err['message']}", field=field)
    cid = str(result["customer_id"])
    if inbound.sender_name:
        name_if_unnamed(app, channel, cid, inbound.sender_name)
    return cid


def name_if_unnamed(app: App, channel: Channel, customer_id: str, name: str) -> None:
    """A display name fills an empty name trait; it never overwrites a name the business holds."""
    from amity.customers.queries import current_traits

    with app.db.read() as s:
        traits = current_traits(s, customer_id)
    clean = " ".join(name.split())[:200]
    if traits.get("name") or not clean:
        return
    customers.ingest(
        app,
        channel_actor(channel),
        [
            {
                "type": "profile.named",
                "source": f"channel:{channel.type}",
                "customer_id": customer_id,
                "traits": {"name": clean},
            }
        ],
    )


def store_files(app: App, inbound: Inbound) -> tuple[list[StoredFile], list[dict[str, Any]]]:
    limit = app.settings.max_attachment_bytes
    kept: list[StoredFile] = []
    refused: list[dict[str, Any]] = []
    for a in inbound.attachments:
        if len(a.data) > limit:
            refused.append(
                {"filename": a.filename, "size": len(a.data), "reason": f"larger than {limit} bytes"}
            )
            continue
        kept.append(store(app.settings.home, a.filename, a.data, a.declared_type))
    return kept, refused


def receive(
    app: App,
    channel_id: str,
    inbound: Inbound,
    *,
    expect: tuple[str, ...] | None = None,
    channel: Channel | None = None,
) -> receiving.Received:
    """``channel``: the row the adapter has just loaded (to check a signature), so it is not read
    twice on the hot path; otherwise it is loaded here."""
    if channel is None or channel.id != channel_id:
        channel = load_channel(app, channel_id, expect=expect)
    customer_id = resolve_sender(app, channel, inbound)
    files, refused = store_files(app, inbound)
    window = dt.timedelta(hours=app.settings.conversation_window_hours)
    return perform(
        app,
        channel_actor(channel),
        receiving.receive_message,
        channel,
        customer_id,
        inbound,
        files,
        window,
        refused,
    )
