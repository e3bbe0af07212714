"""Shared by the email channel tests (this module has no tests of its own): a real SmtpListener on a
free port, a real SMTP sink standing in for the relay, and a customer's mail client (smtplib)."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.channels.email.listener import SmtpListener
from amity.conversations.models import Conversation, Delivery, Message
from amity.core.actions import App
from tests.conftest import auth

SUPPORT = "support@shop.example"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Sink:
    """The relay our replies go to: accepts (or refuses, when told) and keeps every envelope."""

    port: int = 0
    envelopes: list[Envelope] = field(default_factory=list)
    refuse_rcpt: str | None = None  # e.g. "550 5.1.1 no such user" or "451 4.7.1 try later"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 2.0.0 queued"

    def messages(self) -> list[EmailMessage]:
        out = []
        for e in self.envelopes:
            msg = message_from_bytes(e.original_content or b"", policy=policy.default)
            assert isinstance(msg, EmailMessage)
            out.append(msg)
        return out


@pytest.fixture
def sink() -> Iterator[Sink]:
    s = Sink(port=free_port())
    controller = Controller(s, hostname="127.0.0.1", port=s.port, server_hostname="sink.test")
    controller.start()
    yield s
    controller.stop()


@pytest.fixture
def listener(app: App) -> Iterator[SmtpListener]:
    with SmtpListener(app, "127.0.0.1", 0) as running:
        yield running


@pytest.fixture
def channel(client: TestClient, tokens: dict[str, str], sink: Sink) -> dict[str, Any]:
    r = client.post(
        "/api/v1/channels",
        json={
            "type": "email",
            "name": "support",
            "config": {"address": SUPPORT, "from_name": "Shop Support", "relay": f"127.0.0.1:{sink.port}"},
        },
        headers=auth(tokens["admin"]),
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


@dataclass
class Answer:
    rcpt: tuple[int, str]
    data: tuple[int, str] | None


def send(
    listener: SmtpListener, raw: bytes | str, *, mail_from: str = "ana@example.com", to: str = SUPPORT
) -> Answer:
    """One SMTP transaction as a sending server would run it; the replies are the test's evidence."""
    data = raw.encode() if isinstance(raw, str) else raw
    with smtplib.SMTP("127.0.0.1", listener.port, local_hostname="client.test", timeout=30) as smtp:
        smtp.ehlo()
        code, _ = smtp.mail(mail_from)
        assert code == 250
        rcode, rtext = smtp.rcpt(to)
        if rcode != 250:
            return Answer((rcode, rtext.decode()), None)
        dcode, dtext = smtp.data(data)
        return Answer((rcode, rtext.decode()), (dcode, dtext.decode()))


def mail(
    text: str = "Hello",
    *,
    subject: str = "Question",
    sender: str = "Ana López <ana@example.com>",
    to: str = SUPPORT,
    message_id: str | None = "<m1@mail.example.com>",
    **headers: str,
) -> bytes:
    """A plain UTF-8 message as a mail client writes it; extra headers by keyword (In_Reply_To=…)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(text)
    return msg.as_bytes(policy=policy.SMTP)


def inbound_messages(app: App) -> list[Message]:
    with app.db.read() as s:
        return list(s.scalars(select(Message).where(Message.direction == "in").order_by(Message.created_at)))


def outbound_messages(app: App) -> list[Message]:
    with app.db.read() as s:
        return list(s.scalars(select(Message).where(Message.direction == "out").order_by(Message.created_at)))


def conversation(app: App, conversation_id: str) -> Conversation:
    with app.db.read() as s:
        c = s.get(Conversation, conversation_id)
    assert c is not None
    return c


def delivery_of(app: App, message_id: str) -> Delivery:
    with app.db.read() as s:
        d = s.scalar(select(Delivery).where(Delivery.message_id == message_id))
    assert d is not None
    return d


def reply(client: TestClient, token: str, conversation_id: str, text: str, **body: Any) -> dict[str, Any]:
    r = client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": text, **body},
        headers=auth(token),
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def deliver_all(app: App) -> int:
    """What the worker's sweep does every minute: send everything due."""
    return int(app.cache["jobs"].sweep())
