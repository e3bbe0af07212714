"""The email channel over real SMTP: a stranger's mail makes a customer and a conversation, replies
thread both ways, and only our own addresses are served."""

from __future__ import annotations

import base64
import contextlib
import smtplib
import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.channels.email.listener import SmtpListener, message_limit, run_forever
from amity.conversations.models import Attachment
from amity.core.actions import App
from amity.customers.models import Identity
from tests.conftest import auth
from tests.helpers import c360
from tests.test_channel_email_kit import (
    SUPPORT,
    Sink,
    channel,
    conversation,
    deliver_all,
    delivery_of,
    free_port,
    inbound_messages,
    listener,
    mail,
    outbound_messages,
    reply,
    send,
    sink,
)

__all__ = ["channel", "listener", "sink"]  # fixtures used by name below

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def test_an_unknown_sender_becomes_a_customer_with_their_email_identity(
    app: App, listener: SmtpListener, channel: dict[str, Any]
) -> None:
    answer = send(listener, mail("My kettle stopped working.", subject="Broken kettle"))

    assert answer.data is not None and answer.data[0] == 250
    [msg] = inbound_messages(app)
    assert answer.data[1] == f"2.0.0 stored as {msg.id}"
    assert (msg.channel_id, msg.text, msg.subject) == (
        channel["id"],
        "My kettle stopped working.",
        "Broken kettle",
    )
    assert msg.external_id == "<m1@mail.example.com>"
    assert msg.address == {"type": "email", "value": "ana@example.com"}
    with app.db.read() as s:
        owner = s.scalar(
            select(Identity.customer_id).where(Identity.type == "email", Identity.value == "ana@example.com")
        )
    assert owner == msg.customer_id
    assert c360(app, msg.customer_id)["traits"]["name"] == "Ana López"
    conv = conversation(app, msg.conversation_id)
    assert (conv.subject, conv.status, conv.last_channel_id) == ("Broken kettle", "open", channel["id"])
    assert conv.awaiting_reply_since is not None


def test_the_same_message_delivered_twice_is_stored_once(
    app: App, listener: SmtpListener, channel: dict[str, Any]
) -> None:
    first = send(listener, mail("Once"))
    again = send(listener, mail("Once"))

    assert len(inbound_messages(app)) == 1
    assert again.data is not None and again.data[1].startswith("2.0.0 already stored as ")
    assert first.data is not None and first.data[1].split()[-1] == again.data[1].split()[-1]


def test_the_agents_reply_reaches_the_customer_with_threading_headers(
    app: App,
    client: TestClient,
    tokens: dict[str, str],
    listener: SmtpListener,
    channel: dict[str, Any],
    sink: Sink,
) -> None:
    send(listener, mail("Where is my order?", subject="Order 1042"))
    [incoming] = inbound_messages(app)
    conv = conversation(app, incoming.conversation_id)

    out = reply(
        client,
        tokens["agent"],
        conv.id,
        "It left our warehouse today.",
        html="<p>It left our <b>warehouse</b> today.</p>",
        attachments=[{"filename": "label.png", "content_base64": base64.b64encode(PNG).decode()}],
    )
    assert deliver_all(app) == 1

    [envelope] = sink.envelopes
    assert (envelope.mail_from, envelope.rcpt_tos) == (SUPPORT, ["ana@example.com"])
    [sent] = sink.messages()
    assert sent["From"] == f"Shop Support <{SUPPORT}>"
    assert sent["To"] == "ana@example.com"
    assert sent["Subject"] == "Re: Order 1042"
    assert sent["Message-ID"] == out["external_id"] == f"<{out['id']}@shop.example>"
    assert sent["In-Reply-To"] == "<m1@mail.example.com>"
    assert sent["References"] == "<m1@mail.example.com>"
    assert sent["Reply-To"] == f"Shop Support <support+{conv.reply_token}@shop.example>"
    assert sent["X-Amity-Idempotency-Key"] == delivery_of(app, out["id"]).idempotency_key
    assert sent["Auto-Submitted"] is None
    body = sent.get_body(preferencelist=("plain",))
    html = sent.get_body(preferencelist=("html",))
    assert body is not None and body.get_content().strip() == "It left our warehouse today."
    assert html is not None and "<b>warehouse</b>" in html.get_content()
    [attached] = list(sent.iter_attachments())
    assert (attached.get_filename(), attached.get_content_type()) == ("label.png", "image/png")
    assert attached.get_content() == PNG
    [stored] = outbound_messages(app)
    assert (stored.delivery_status, stored.external_id) == ("sent", sent["Message-ID"])


def test_a_reply_quoting_our_message_id_threads_into_the_same_conversation(
    app: App,
    client: TestClient,
    tokens: dict[str, str],
    listener: SmtpListener,
    channel: dict[str, Any],
    sink: Sink,
) -> None:
    app.settings.conversation_window_hours = 0  # recency cannot join them: only the reference can
    send(listener, mail("The zip broke.", subject="Jacket"))
    [first] = inbound_messages(app)
    reply(client, tokens["agent"], first.conversation_id, "Send us a photo, please.", status="pending")
    deliver_all(app)
    [ours] = sink.messages()

    send(
        listener,
        mail(
            "Here it is.",
            subject="Re: Jacket",
            message_id="<m2@mail.example.com>",
            In_Reply_To=str(ours["Message-ID"]),
            References=f"<m1@mail.example.com> {ours['Message-ID']}",
        ),
    )

    second = inbound_messages(app)[1]
    assert second.conversation_id == first.conversation_id
    assert second.in_reply_to == ours["Message-ID"]
    assert conversation(app, first.conversation_id).status == "open"  # the customer answered


def test_a_reply_to_the_plus_address_finds_its_conversation_without_headers(
    app: App, client: TestClient, tokens: dict[str, str], listener: SmtpListener, channel: dict[str, Any]
) -> None:
    app.settings.conversation_window_hours = 0
    send(listener, mail("First question"))
    [first] = inbound_messages(app)
    token = conversation(app, first.conversation_id).reply_token

    answer = send(
        listener,
        mail(
            "A client that drops threading headers",
            message_id="<m2@mail.example.com>",
            to=f"support+{token}@shop.example",
        ),
        to=f"support+{token}@shop.example",
    )

    assert answer.rcpt[0] == 250
    second = inbound_messages(app)[1]
    assert second.conversation_id == first.conversation_id
    assert second.meta["email"]["to"] == f"support+{token}@shop.example"


def test_a_plus_token_of_someone_elses_conversation_is_not_trusted(
    app: App, listener: SmtpListener, channel: dict[str, Any]
) -> None:
    app.settings.conversation_window_hours = 0
    send(listener, mail("Mine", sender="ana@example.com"))
    [ana] = inbound_messages(app)
    token = conversation(app, ana.conversation_id).reply_token

    send(
        listener,
        mail("Let me in", sender="eve@example.net", message_id="<e1@x.example>"),
        to=f"support+{token}@shop.example",
    )

    eve = inbound_messages(app)[1]
    assert eve.conversation_id != ana.conversation_id


def test_mail_for_an_address_we_do_not_serve_is_refused_at_rcpt(
    app: App, client: TestClient, tokens: dict[str, str], listener: SmtpListener, channel: dict[str, Any]
) -> None:
    unknown = send(listener, mail("hi", to="sales@shop.example"), to="sales@shop.example")
    relaying = send(listener, mail("hi", to="bob@elsewhere.example"), to="bob@elsewhere.example")
    r = client.patch(
        f"/api/v1/channels/{channel['id']}", json={"enabled": False}, headers=auth(tokens["admin"])
    )
    assert r.status_code == 200
    disabled = send(listener, mail("hi"))

    assert unknown.rcpt == (550, "5.1.1 <sales@shop.example>: no such mailbox here")
    assert relaying.rcpt[0] == 550 and disabled.rcpt[0] == 550
    assert inbound_messages(app) == []


def test_a_message_over_the_size_limit_is_refused_with_the_limit_named(
    app: App, channel: dict[str, Any]
) -> None:
    app.settings.max_attachment_bytes = 30_000
    limit = message_limit(30_000)
    with SmtpListener(app, "127.0.0.1", 0) as small:
        answer = send(small, mail("x" * 10 + "\n" + ("y" * 70 + "\n") * (limit // 70 + 10)))

    assert answer.data is not None and answer.data[0] == 552
    assert f"at most {limit} bytes" in answer.data[1]
    assert inbound_messages(app) == []


def test_an_oversized_attachment_is_refused_by_name_and_the_rest_is_kept(
    app: App, listener: SmtpListener, channel: dict[str, Any]
) -> None:
    app.settings.max_attachment_bytes = 20_000
    msg = message_from_bytes(mail("Photos attached.", subject="Damage"), policy=policy.default)
    assert isinstance(msg, EmailMessage)
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="small.png")
    msg.add_attachment(b"\x00" * 50_000, maintype="application", subtype="octet-stream", filename="huge.bin")

    answer = send(listener, msg.as_bytes(policy=policy.SMTP))

    assert answer.data is not None and answer.data[0] == 250
    assert "attachments refused (over 20000 bytes): huge.bin" in answer.data[1]
    [stored] = inbound_messages(app)
    assert stored.text == "Photos attached."
    assert stored.meta["refused_attachments"] == [
        {"filename": "huge.bin", "size": 50_000, "reason": "larger than 20000 bytes"}
    ]
    with app.db.read() as s:
        names = list(s.scalars(select(Attachment.filename).where(Attachment.message_id == stored.id)))
    assert names == ["small.png"]


def test_run_forever_serves_mail_until_told_to_stop(app: App, channel: dict[str, Any]) -> None:
    port = free_port()
    stop = threading.Event()
    runner = threading.Thread(target=run_forever, args=(app, "127.0.0.1", port), kwargs={"stop": stop})
    runner.start()
    try:
        for _ in range(100):  # until the port answers
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.05)
        with smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=30) as smtp:
            smtp.sendmail("ana@example.com", [SUPPORT], mail("Through amity smtp"))
    finally:
        stop.set()
        runner.join(timeout=30)

    assert not runner.is_alive()
    assert [m.text for m in inbound_messages(app)] == ["Through amity smtp"]
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass  # the listener is gone


def test_a_listener_cannot_start_on_a_port_already_taken(app: App, listener: SmtpListener) -> None:
    second = SmtpListener(app, "127.0.0.1", listener.port)

    with pytest.raises(OSError, match="address already in use"):
        second.start()
    second.stop()  # stopping one that never started is harmless


def test_a_declared_size_over_the_limit_is_refused_before_any_data(app: App, listener: SmtpListener) -> None:
    with smtplib.SMTP("127.0.0.1", listener.port, local_hostname="client.test", timeout=30) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("size") and int(smtp.esmtp_features["size"]) == listener.max_message_bytes
        code, text = smtp.mail("ana@example.com", options=[f"SIZE={listener.max_message_bytes + 1}"])

    assert code == 552
    assert f"at most {listener.max_message_bytes} bytes" in text.decode()
