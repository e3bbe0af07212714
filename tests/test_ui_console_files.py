"""Files in console replies (SQLite and PostgreSQL): an emailed reply carries them as MIME parts, a chat
reply carries a link that opens without a session, and a file too big, a program, or a channel that
cannot carry files is refused under the file field with nothing sent."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.channels.email.listener import SmtpListener
from amity.config import Settings
from amity.conversations.actions import open_conversation
from amity.conversations.models import Attachment, Message
from amity.core.actions import SYSTEM, App, perform
from amity.customers import service
from tests.conftest import auth
from tests.test_channel_email_kit import (
    Sink,
    channel,
    deliver_all,
    inbound_messages,
    listener,
    mail,
    outbound_messages,
    send,
    sink,
)
from tests.test_channel_twilio import make_channel
from tests.test_ui_console import signed_in

__all__ = ["channel", "listener", "sink"]  # fixtures used by name below

LIMIT = 50_000
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
VISITOR = "chat-vis_0123456789abcdefghjkmnpqrs"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home", secret_key="test-secret-key-not-for-production", max_attachment_bytes=LIMIT
    )


def _reply(agent: TestClient, token: str, conversation_id: str, files: list[Any], **form: str) -> Any:
    return agent.post(
        f"/conversations/{conversation_id}/reply",
        data={"csrf": token, **form},
        files=[("files", f) for f in files],
        follow_redirects=False,
    )


def _error(html: str) -> str:
    found = re.search(r'id="reply-files-error" role="alert">([^<]+)<', html)
    assert found, "no error under the file field"
    return found.group(1)


def test_an_emailed_reply_carries_the_files_and_the_thread_shows_them(
    client: TestClient, app: App, listener: SmtpListener, channel: dict[str, Any], sink: Sink
) -> None:
    assert send(listener, mail("My invoice is missing", subject="Invoice"), mail_from="ana@example.com")
    [incoming] = inbound_messages(app)
    agent, token, _ = signed_in(client, app, "agent")
    r = _reply(
        agent,
        token,
        incoming.conversation_id,
        # The browser's claim (text/plain) is kept for reference; the type comes from the bytes.
        [("invoice.pdf", PDF, "text/plain"), ("receipt.png", PNG, "image/png")],
        text="Here is your invoice and the receipt.",
        channel_id=channel["id"],
    )
    assert r.status_code == 303, r.text
    [out] = outbound_messages(app)
    with app.db.read() as s:
        stored = list(s.scalars(select(Attachment).where(Attachment.message_id == out.id)))
    assert sorted((a.filename, a.content_type, a.declared_type) for a in stored) == [
        ("invoice.pdf", "application/pdf", "text/plain"),
        ("receipt.png", "image/png", "image/png"),
    ]
    assert out.text == "Here is your invoice and the receipt."  # email carries files, not links

    assert deliver_all(app) == 1
    [received] = sink.messages()
    parts = {p.get_filename(): (p.get_content_type(), p.get_content()) for p in received.iter_attachments()}
    assert parts == {"invoice.pdf": ("application/pdf", PDF), "receipt.png": ("image/png", PNG)}

    page = agent.get(f"/conversations/{incoming.conversation_id}").text
    for a in stored:
        assert f'href="/api/v1/attachments/{a.id}">{a.filename}</a>' in page


@pytest.fixture
def chat_conversation(client: TestClient, app: App, tokens: dict[str, str]) -> tuple[str, str]:
    """A chat channel and a conversation with a chat visitor on it: (channel id, conversation id)."""
    r = client.post(
        "/api/v1/channels",
        json={"type": "chat", "name": "web chat", "config": {"allowed_origins": ["https://shop.example"]}},
        headers=auth(tokens["admin"]),
    )
    assert r.status_code == 201, r.text
    chat = r.json()["id"]
    event = {
        "id": "visitor-1",
        "type": "chat.identified",
        "source": "channel:chat",
        "identities": [{"type": "device", "value": VISITOR}],
    }
    customer = service.ingest(app, SYSTEM, [event])["results"][0]["customer_id"]
    conv = perform(app, SYSTEM, open_conversation, customer, "Sizing", channel_id=chat)
    return chat, conv.id


def test_a_chat_reply_carries_a_link_per_file_that_opens_without_a_session(
    client: TestClient, app: App, chat_conversation: tuple[str, str]
) -> None:
    chat, conv = chat_conversation
    agent, token, _ = signed_in(client, app, "agent")
    r = _reply(
        agent, token, conv, [("size guide.png", PNG, "image/png")], text="See the chart.", channel_id=chat
    )
    assert r.status_code == 303, r.text
    [out] = outbound_messages(app)
    first, _, line = out.text.partition("\n\n")
    assert first == "See the chart."
    found = re.fullmatch(r"Attached: size guide\.png (http://testserver/files/[^/]+/size%20guide\.png)", line)
    assert found, out.text
    assert deliver_all(app) == 1  # the chat transport hands the same text to the visitor's sockets
    with app.db.read() as s:
        sent = s.get(Message, out.id)
        assert sent is not None and sent.delivery_status == "sent"  # no socket open: read from history

    stranger = TestClient(client.app)  # the customer's browser: no session, only the link
    got = stranger.get(found.group(1).removeprefix("http://testserver"))
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    token_part = found.group(1).split("/")[4]
    forged = stranger.get(f"/files/{token_part[:-2]}xx/size%20guide.png")
    assert forged.status_code == 404
    assert stranger.get("/files/nope/anything.png").status_code == 404


@pytest.mark.parametrize(
    ("upload", "problem"),
    [
        (
            ("huge.pdf", b"%PDF-1.4\n" + b"0" * LIMIT, "application/pdf"),
            "huge.pdf is larger than 50,000 bytes",
        ),
        (("setup.exe", b"MZ\x90\x00" + b"\x00" * 200, "application/octet-stream"), "setup.exe is a program"),
        (("photo.png", b"MZ\x90\x00" + b"\x00" * 200, "image/png"), "photo.png is a program"),  # sniffed
        (("run.bat", b"echo hello\r\n", "text/plain"), "run.bat is a program"),
        (("empty.txt", b"", "text/plain"), "empty.txt is empty"),
    ],
)
def test_a_file_too_big_or_a_program_is_refused_under_the_file_field_and_nothing_is_sent(
    client: TestClient,
    app: App,
    chat_conversation: tuple[str, str],
    upload: tuple[str, bytes, str],
    problem: str,
) -> None:
    chat, conv = chat_conversation
    agent, token, _ = signed_in(client, app, "agent")
    r = _reply(agent, token, conv, [upload], text="Here you go", channel_id=chat)
    assert r.status_code == 422
    assert _error(r.text).startswith(problem)
    assert 'aria-invalid="true"' in r.text.split('id="reply-files"')[1].split(">")[0]
    assert "Here you go" in r.text  # what was typed is kept
    assert outbound_messages(app) == []
    with app.db.read() as s:
        assert s.scalars(select(Attachment)).all() == []


def test_more_files_than_a_reply_may_carry_are_refused(
    client: TestClient, app: App, chat_conversation: tuple[str, str]
) -> None:
    chat, conv = chat_conversation
    agent, token, _ = signed_in(client, app, "agent")
    files = [(f"p{n}.png", PNG, "image/png") for n in range(11)]
    r = _reply(agent, token, conv, files, text="", channel_id=chat)
    assert r.status_code == 422 and _error(r.text) == "At most 10 files in one reply."
    assert outbound_messages(app) == []


def test_an_sms_reply_cannot_carry_files_but_a_note_can(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    sms = make_channel(client, auth(tokens["admin"]))
    event = {
        "id": "caller-1",
        "type": "call.ended",
        "source": "telephony",
        "identities": [{"type": "phone", "value": "+447911123456"}],
    }
    customer = service.ingest(app, SYSTEM, [event])["results"][0]["customer_id"]
    conv = perform(app, SYSTEM, open_conversation, customer, "Returns", channel_id=sms["id"]).id
    agent, token, _ = signed_in(client, app, "agent")
    r = _reply(
        agent, token, conv, [("label.pdf", PDF, "application/pdf")], text="Label", channel_id=sms["id"]
    )
    assert r.status_code == 422
    assert _error(r.text) == (
        "sms replies cannot carry files; send them by email or chat, or attach them to a note."
    )
    assert outbound_messages(app) == []

    # A note keeps the file with the conversation, for colleagues; a file alone needs no text.
    r = _reply(agent, token, conv, [("label.pdf", PDF, "application/pdf")], note="on")
    assert r.status_code == 303, r.text
    [note] = outbound_messages(app)
    assert note.is_note and note.text == ""
    with app.db.read() as s:
        [a] = s.scalars(select(Attachment).where(Attachment.message_id == note.id))
    assert (a.filename, a.content_type) == ("label.pdf", "application/pdf")
    assert f'href="/api/v1/attachments/{a.id}">label.pdf</a>' in agent.get(f"/conversations/{conv}").text


def test_a_reply_with_neither_text_nor_file_is_refused(
    client: TestClient, app: App, chat_conversation: tuple[str, str]
) -> None:
    chat, conv = chat_conversation
    agent, token, _ = signed_in(client, app, "agent")
    r = _reply(agent, token, conv, [], text="  ", channel_id=chat)
    assert r.status_code == 422 and "Write something first." in r.text
    assert outbound_messages(app) == []


def test_a_reply_may_carry_a_file_bigger_than_other_request_bodies(
    app: App, chat_conversation: tuple[str, str], tmp_path: Path
) -> None:
    # Bodies are capped at max_body_bytes everywhere, except a console reply carrying files, which
    # may be up to max_upload_bytes; each file is still held to max_attachment_bytes.
    from amity.web.app import build_app, create_app

    chat, conv = chat_conversation
    roomy = app.settings.model_copy(
        update={"max_body_bytes": 20_000, "max_upload_bytes": 200_000, "max_attachment_bytes": 150_000}
    )
    roomy_app = build_app(roomy, app.db)  # the same database, a small body cap and room for uploads
    with TestClient(create_app(roomy_app)) as big:
        agent, token, _ = signed_in(big, roomy_app, "agent")
        pdf = b"%PDF-1.4\n" + b"0" * 100_000
        r = _reply(
            agent, token, conv, [("manual.pdf", pdf, "application/pdf")], text="The manual", channel_id=chat
        )
        assert r.status_code == 303, r.text[:300]
        with app.db.read() as s:
            [att] = s.scalars(select(Attachment)).all()
            assert att.size == len(pdf)
        too_big = big.post(
            "/api/v1/events",
            content=b"{" + b" " * 30_000 + b"}",
            headers={"content-type": "application/json"},
        )
        assert too_big.status_code == 413  # everywhere else the small cap holds
