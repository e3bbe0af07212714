"""Story 2, "fast personal recovery", over the real protocols: a customer emails about a defective
product, an agent answers within the first-response window promising a replacement and solves the
case in the same step, and the answer reaches the customer's mailbox threaded under her complaint."""

from __future__ import annotations

import base64
import datetime as dt
from email import policy
from email.message import EmailMessage
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.accounts.actions import create_user
from amity.channels.email.listener import SmtpListener
from amity.core.actions import SYSTEM, App, perform
from amity.privacy.models import AuditEntry
from tests.test_channel_email_kit import (
    SUPPORT,
    Sink,
    channel,
    conversation,
    deliver_all,
    inbound_messages,
    listener,
    outbound_messages,
    send,
    sink,
)

__all__ = ["channel", "listener", "sink"]  # fixtures used by name below

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def complaint() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Maria Rossi <maria.rossi@example.it>"
    msg["To"] = f"Shop Support <{SUPPORT}>"
    msg["Subject"] = "Blender arrived with a cracked jug (order 5531)"
    msg["Message-ID"] = "<complaint-5531@mail.example.it>"
    msg.set_content(
        "Hello, the blender from order 5531 arrived today and the jug is cracked. Photo attached."
    )
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="jug.png")
    return msg.as_bytes(policy=policy.SMTP)


def test_an_emailed_complaint_is_answered_in_time_with_a_replacement_and_solved(
    app: App, client: TestClient, listener: SmtpListener, channel: dict[str, Any], sink: Sink
) -> None:
    agent = perform(app, SYSTEM, create_user, "sam@shop.example", "correct horse battery", "agent", "Sam")
    signed_in = client.post(
        "/api/v1/session", json={"email": "sam@shop.example", "password": "correct horse battery"}
    )
    assert signed_in.status_code == 200

    # The customer writes from her own mail client.
    answer = send(listener, complaint(), mail_from="maria.rossi@example.it")
    assert answer.data is not None and answer.data[0] == 250
    [incoming] = inbound_messages(app)

    # The agent sees it, with the photo, in the conversation.
    seen = client.get(f"/api/v1/conversations/{incoming.conversation_id}")
    assert seen.status_code == 200
    view = seen.json()
    assert view["customer"]["id"] == incoming.customer_id
    [shown] = view["messages"]
    assert shown["text"].startswith("Hello, the blender from order 5531")
    assert [(a["filename"], a["content_type"]) for a in shown["attachments"]] == [("jug.png", "image/png")]

    # One step: the answer with the promise, and the case solved.
    r = client.post(
        f"/api/v1/conversations/{incoming.conversation_id}/messages",
        json={
            "text": "I am sorry, Maria. A replacement blender ships today at no cost; keep the cracked one.",
            "status": "solved",
        },
    )
    assert r.status_code == 201, r.text
    assert deliver_all(app) == 1

    # It reaches her mailbox, threaded under her complaint.
    [envelope] = sink.envelopes
    assert envelope.rcpt_tos == ["maria.rossi@example.it"]
    [mail] = sink.messages()
    assert mail["Subject"] == "Re: Blender arrived with a cracked jug (order 5531)"
    assert mail["In-Reply-To"] == "<complaint-5531@mail.example.it>"
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None and "A replacement blender ships today" in body.get_content()

    conv = conversation(app, incoming.conversation_id)
    assert conv.status == "solved" and conv.solved_at is not None
    assert conv.first_response_at is not None
    assert dt.timedelta(0) <= conv.first_response_at - conv.created_at < dt.timedelta(minutes=5)
    assert conv.awaiting_reply_since is None
    [out] = outbound_messages(app)
    assert (out.author_type, out.author_id, out.delivery_status) == ("agent", f"user:{agent.id}", "sent")
    with app.db.read() as s:
        actions = list(
            s.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.subject_id == conv.id, AuditEntry.actor == f"user:{agent.id}")
                .order_by(AuditEntry.id)
            )
        )
    assert actions == ["message.sent", "conversation.status"]
