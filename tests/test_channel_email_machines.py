"""Mail from machines: a bounce marks our message failed and is not a customer speaking; an
auto-reply is kept, flagged, and never answered, so two robots cannot mail each other for ever."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from amity.channels.email.listener import SmtpListener
from amity.conversations.models import Message
from amity.core.actions import App
from tests.test_channel_email_kit import (
    SUPPORT,
    Sink,
    channel,
    conversation,
    deliver_all,
    inbound_messages,
    listener,
    mail,
    outbound_messages,
    reply,
    send,
    sink,
)

__all__ = ["channel", "listener", "sink"]  # fixtures used by name below


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


def dsn(our_message_id: str, action: str = "failed", status: str = "5.1.1") -> bytes:
    """A delivery status notification (RFC 3464) as Postfix writes one."""
    return crlf(
        "From: MAILER-DAEMON@mx.example.com (Mail Delivery System)\n"
        f"To: {SUPPORT}\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        "Message-ID: <bounce-1@mx.example.com>\n"
        "Auto-Submitted: auto-replied\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="BB"\n'
        "\n"
        "--BB\n"
        "Content-Type: text/plain\n\n"
        "This is the mail system at host mx.example.com. Your message could not be delivered.\n"
        "--BB\n"
        "Content-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.com\n\n"
        "Final-Recipient: rfc822; ana@example.com\n"
        f"Action: {action}\n"
        f"Status: {status}\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <ana@example.com>: Recipient address rejected\n"
        "\n"
        "--BB\n"
        "Content-Type: text/rfc822-headers\n\n"
        f"From: Shop Support <{SUPPORT}>\n"
        "To: ana@example.com\n"
        "Subject: Re: Question\n"
        f"Message-ID: {our_message_id}\n"
        "\n"
        "--BB--\n"
    )


@pytest.fixture
def answered(
    app: App,
    client: TestClient,
    tokens: dict[str, str],
    listener: SmtpListener,
    channel: dict[str, Any],
    sink: Sink,
) -> Message:
    """Ana wrote, the agent answered, the answer went out: our outbound message, as stored."""
    send(listener, mail("Is it waterproof?"))
    [incoming] = inbound_messages(app)
    reply(client, tokens["agent"], incoming.conversation_id, "Yes, to 50 m.")
    assert deliver_all(app) == 1
    [out] = outbound_messages(app)
    assert out.delivery_status == "sent"
    return out


def test_a_bounce_marks_our_message_failed_and_is_not_stored_as_a_customer_message(
    app: App, listener: SmtpListener, answered: Message
) -> None:
    assert answered.external_id is not None
    answer = send(listener, dsn(answered.external_id), mail_from="")

    assert answer.data == (250, f"2.0.0 bounce recorded; {answered.id} marked failed")
    [out] = outbound_messages(app)
    assert out.delivery_status == "failed"
    assert out.delivery_error == (
        "bounced: ana@example.com: smtp; 550 5.1.1 <ana@example.com>: Recipient address rejected"
    )
    assert len(inbound_messages(app)) == 1  # only Ana's own question


def test_a_plain_text_bounce_quoting_our_message_id_marks_it_failed(
    app: App, listener: SmtpListener, answered: Message
) -> None:
    raw = crlf(
        "From: postmaster@old-mailer.example\n"
        f"To: {SUPPORT}\n"
        "Subject: failure notice\n\n"
        "Sorry, we were unable to deliver your message to the following address.\n\n"
        "<ana@example.com>: mailbox is full\n\n"
        "--- Below this line is a copy of the message.\n\n"
        f"Message-ID: {answered.external_id}\n"
        "Subject: Re: Question\n"
    )

    send(listener, raw, mail_from="")

    [out] = outbound_messages(app)
    assert (out.delivery_status, out.delivery_error) == ("failed", "bounced: failure notice")
    assert len(inbound_messages(app)) == 1


def test_a_delay_notice_fails_nothing_and_stores_nothing(
    app: App, listener: SmtpListener, answered: Message
) -> None:
    assert answered.external_id is not None
    answer = send(listener, dsn(answered.external_id, action="delayed", status="4.4.1"), mail_from="")

    assert answer.data == (250, "2.0.0 delivery notice noted; nothing failed")
    assert outbound_messages(app)[0].delivery_status == "sent"
    assert len(inbound_messages(app)) == 1


def test_a_bounce_about_mail_we_never_sent_is_accepted_and_dropped(
    app: App, listener: SmtpListener, channel: dict[str, Any]
) -> None:
    answer = send(listener, dsn("<someone-else@elsewhere.example>"), mail_from="")

    assert answer.data == (250, "2.0.0 bounce received; it names none of our messages")
    assert inbound_messages(app) == []


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Auto-Submitted", "auto-replied"),
        ("Auto-Submitted", "auto-generated; owner-email=it@example.com"),
        ("X-Autoreply", "yes"),
        ("Precedence", "auto_reply"),
        ("Precedence", "bulk"),
        ("Precedence", "junk"),
    ],
)
def test_an_auto_reply_is_stored_flagged_and_not_answered(
    app: App, listener: SmtpListener, answered: Message, sink: Sink, header: str, value: str
) -> None:
    ours = answered.external_id
    assert ours is not None
    send(
        listener,
        mail(
            "I am out of the office until Monday.",
            subject="Automatic reply: Re: Question",
            message_id="<ooo-1@mail.example.com>",
            In_Reply_To=ours,
            **{header.replace("-", "_"): value},
        ),
        mail_from="",
    )

    _, auto = inbound_messages(app)
    assert auto.conversation_id == answered.conversation_id
    assert auto.meta["automated"] is True
    assert auto.meta["automated_reason"].startswith(header)
    # Nothing answers it: no new reply is queued, and the conversation is not waiting on an agent.
    assert conversation(app, auto.conversation_id).awaiting_reply_since is None
    assert deliver_all(app) == 0
    assert len(outbound_messages(app)) == 1 and len(sink.envelopes) == 1


def test_auto_submitted_no_is_a_person_writing(
    app: App, listener: SmtpListener, channel: dict[str, Any]
) -> None:
    send(listener, mail("A real question", Auto_Submitted="no"))

    [msg] = inbound_messages(app)
    assert "automated" not in msg.meta
    assert conversation(app, msg.conversation_id).awaiting_reply_since is not None


def test_our_own_mail_coming_back_is_flagged_so_it_cannot_loop(
    app: App, listener: SmtpListener, channel: dict[str, Any]
) -> None:
    send(listener, mail("Forwarded back to us", X_Amity_Idempotency_Key="0123abcd"))

    [msg] = inbound_messages(app)
    assert msg.meta["automated"] is True
    assert msg.meta["automated_reason"] == "our own message came back"


def test_an_auto_reply_from_a_no_reply_address_is_accepted_but_not_stored(
    app: App, listener: SmtpListener, channel: dict[str, Any]
) -> None:
    answer = send(
        listener,
        mail("Thanks for your mail", sender="noreply@bank.example", Auto_Submitted="auto-replied"),
        mail_from="",
    )

    assert answer.data is not None and answer.data[0] == 250
    assert answer.data[1].startswith("2.0.0 automated mail noted, not stored")
    assert inbound_messages(app) == []


def test_a_person_writing_from_an_address_that_cannot_be_a_customer_is_refused_with_the_reason(
    app: App, listener: SmtpListener, channel: dict[str, Any]
) -> None:
    answer = send(listener, mail("hello", sender="noreply@bank.example"), mail_from="noreply@bank.example")

    assert answer.data is not None and answer.data[0] == 550
    assert answer.data[1].startswith("5.1.7 the sender cannot be identified")
    assert inbound_messages(app) == []


def test_a_read_receipt_is_kept_as_automated_mail(
    app: App, listener: SmtpListener, channel: dict[str, Any]
) -> None:
    raw = crlf(
        f"From: ana@example.com\nTo: {SUPPORT}\nSubject: Read: Question\nMessage-ID: <mdn-1@example.com>\n"
        'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=disposition-notification; boundary="R"\n\n'
        "--R\nContent-Type: text/plain\n\nYour message was read.\n"
        "--R\nContent-Type: message/disposition-notification\n\n"
        "Final-Recipient: rfc822; ana@example.com\nDisposition: manual-action/MDN-sent-manually; displayed\n\n"
        "--R--\n"
    )

    send(listener, raw)

    [msg] = inbound_messages(app)
    assert msg.text == "Your message was read."
    assert msg.meta["automated"] is True
    assert msg.meta["automated_reason"] == "a disposition-notification report (multipart/report)"
