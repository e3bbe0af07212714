"""Replies out through a real SMTP relay: what a refusal means (final or worth a retry), what a
missing relay says, and what the channel's settings accept."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.channels.base import Address, Outbound
from amity.channels.email.listener import SmtpListener
from amity.channels.email.transport import build
from amity.core.actions import App
from amity.privacy.models import AuditEntry
from tests.conftest import auth
from tests.test_channel_email_kit import (
    SUPPORT,
    Sink,
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

__all__ = ["listener", "sink"]  # fixtures used by name below


def make_channel(client: TestClient, admin: str, **config: Any) -> dict[str, Any]:
    r = client.post(
        "/api/v1/channels",
        json={"type": "email", "name": "support", "config": {"address": SUPPORT, **config}},
        headers=auth(admin),
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def answer_one(app: App, client: TestClient, agent: str, listener: SmtpListener) -> str:
    send(listener, mail("Hello?"))
    [incoming] = inbound_messages(app)
    return str(reply(client, agent, incoming.conversation_id, "Hello!")["id"])


def test_a_permanent_refusal_by_the_relay_fails_the_message_at_once(
    app: App, client: TestClient, tokens: dict[str, str], listener: SmtpListener, sink: Sink
) -> None:
    make_channel(client, tokens["admin"], relay=f"127.0.0.1:{sink.port}")
    sink.refuse_rcpt = "550 5.1.1 mailbox unavailable"
    sent = answer_one(app, client, tokens["agent"], listener)

    deliver_all(app)

    [out] = outbound_messages(app)
    d = delivery_of(app, sent)
    assert (out.delivery_status, d.status, d.attempts) == ("failed", "failed", 1)
    assert out.delivery_error == (
        f"the relay 127.0.0.1:{sink.port} refused ana@example.com: answered 550 5.1.1 mailbox unavailable"
    )


def test_a_temporary_refusal_is_retried_later(
    app: App, client: TestClient, tokens: dict[str, str], listener: SmtpListener, sink: Sink
) -> None:
    make_channel(client, tokens["admin"], relay=f"127.0.0.1:{sink.port}")
    sink.refuse_rcpt = "451 4.7.1 greylisted, try again"
    sent = answer_one(app, client, tokens["agent"], listener)

    deliver_all(app)

    d = delivery_of(app, sent)
    [out] = outbound_messages(app)
    assert (d.status, d.attempts, out.delivery_status) == ("pending", 1, "queued")
    assert d.last_error is not None and "451 4.7.1 greylisted" in d.last_error
    assert out.delivery_error == d.last_error  # shown on the message while it waits


def test_an_unreachable_relay_is_retried_later(
    app: App, client: TestClient, tokens: dict[str, str], listener: SmtpListener
) -> None:
    make_channel(client, tokens["admin"], relay=f"127.0.0.1:{free_port()}")  # nothing listens there
    sent = answer_one(app, client, tokens["agent"], listener)

    deliver_all(app)

    d = delivery_of(app, sent)
    assert d.status == "pending"
    assert d.last_error is not None and d.last_error.startswith("could not talk to the relay 127.0.0.1:")


def test_without_any_relay_the_reply_waits_with_a_clear_reason(
    app: App, client: TestClient, tokens: dict[str, str], listener: SmtpListener
) -> None:
    make_channel(client, tokens["admin"])
    assert app.settings.smtp_relay is None
    sent = answer_one(app, client, tokens["agent"], listener)

    deliver_all(app)

    d = delivery_of(app, sent)
    assert d.status == "pending"
    assert d.last_error == "no SMTP relay configured: set AMITY_SMTP_RELAY=host:port or the channel's 'relay'"


def test_amity_smtp_relay_is_used_when_the_channel_names_none(
    app: App, client: TestClient, tokens: dict[str, str], listener: SmtpListener, sink: Sink
) -> None:
    app.settings.smtp_relay = f"127.0.0.1:{sink.port}"
    make_channel(client, tokens["admin"], reply_to_token=False)
    answer_one(app, client, tokens["agent"], listener)

    deliver_all(app)

    [sent] = sink.messages()
    assert sent["From"] == SUPPORT  # no from_name: the bare address
    assert sent["Reply-To"] is None  # reply_to_token off
    assert outbound_messages(app)[0].delivery_status == "sent"


@pytest.mark.parametrize(
    ("config", "field", "message"),
    [
        ({"address": "not an address"}, "config.address", "not a valid email address"),
        ({"address": "jürgen@shop.example"}, "config.address", "not a valid email address"),
        (
            {"address": SUPPORT, "relay": "smtp.example:99999"},
            "config.relay",
            "port 99999 is outside 1-65535",
        ),
        ({"address": SUPPORT, "relay": "smtp example:25"}, "config.relay", "is not host:port"),
        ({"address": SUPPORT, "from_name": "Shop\r\nBcc: all@x"}, "config.from_name", "line breaks"),
        ({"address": SUPPORT, "colour": "blue"}, "config.colour", "Extra inputs are not permitted"),
        ({}, "config.address", "Field required"),
    ],
)
def test_a_bad_channel_setting_is_refused_naming_the_field(
    client: TestClient, tokens: dict[str, str], config: dict[str, Any], field: str, message: str
) -> None:
    r = client.post(
        "/api/v1/channels",
        json={"type": "email", "name": "support", "config": config},
        headers=auth(tokens["admin"]),
    )

    assert r.status_code == 422, r.text
    [error] = r.json()["errors"]
    assert error["field"] == field
    assert message in error["message"]


def test_the_channel_address_is_normalised_and_the_relay_password_never_shown(
    app: App, client: TestClient, tokens: dict[str, str]
) -> None:
    made = make_channel(
        client,
        tokens["admin"],
        address="Support@SHÖP.example",
        relay="SMTP.example.com:587",
        relay_username="amity",
        relay_password="very-secret-password",
        relay_starttls=True,
    )

    got = client.get(f"/api/v1/channels/{made['id']}", headers=auth(tokens["agent"])).json()
    assert got["config"]["address"] == "support@xn--shp-tna.example"
    assert got["config"]["relay"] == "SMTP.example.com:587"
    assert got["config"]["relay_password"] == "••••word"
    assert got["reaches"] == ["email"]
    with app.db.read() as s:
        logged = [
            str(d) for d in s.scalars(select(AuditEntry.details).where(AuditEntry.subject_id == made["id"]))
        ]
    assert logged and not any("very-secret-password" in d for d in logged)


def test_a_subject_with_line_breaks_cannot_inject_headers() -> None:
    out = Outbound(
        message_id="msg_01jzzzzzzzzzzzzzzzzzzzzzzz",
        conversation_id="cnv_x",
        channel_id="chn_x",
        channel_type="email",
        config={"address": SUPPORT, "from_name": "Shop"},
        to=Address("email", "ana@example.com"),
        text="hi",
        html=None,
        subject="Re: help\r\nBcc: everyone@example.com",
        idempotency_key="k1",
    )

    msg = build(out)

    assert msg["Subject"] == "Re: help Bcc: everyone@example.com"
    assert msg["Bcc"] is None
    assert msg["Message-ID"] == "<msg_01jzzzzzzzzzzzzzzzzzzzzzzz@shop.example>"
