"""What real mail looks like on the wire, and what Amity keeps of it: charsets and transfer
encodings decoded, attachments stored under their sniffed type, broken MIME kept rather than lost."""

from __future__ import annotations

import base64
from email import policy
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from amity.channels.email.listener import SmtpListener
from amity.channels.email.parse import parse
from amity.conversations.files import read
from amity.conversations.models import Attachment
from amity.core.actions import App
from tests.helpers import c360
from tests.test_channel_email_kit import SUPPORT, channel, inbound_messages, listener, send, sink

__all__ = ["channel", "listener", "sink"]  # fixtures used by name below

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("ascii")


def attachments_of(app: App, message_id: str) -> list[Attachment]:
    with app.db.read() as s:
        return list(
            s.scalars(select(Attachment).where(Attachment.message_id == message_id).order_by(Attachment.id))
        )


def test_a_utf8_base64_body_and_encoded_word_headers_are_decoded(
    app: App, listener: SmtpListener, channel: dict[str, Any]
) -> None:
    body = base64.b64encode("Señor, el café está frío ☕\n".encode()).decode()
    raw = crlf(
        "From: =?utf-8?b?Sm9zw6kgTsO6w7Fleg==?= <jose@example.com>\n"
        f"To: {SUPPORT}\n"
        "Subject: =?utf-8?q?Caf=C3=A9_fr=C3=ADo?=\n"
        "Message-ID: <u1@example.com>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        f"{body}\n"
    )

    send(listener, raw, mail_from="jose@example.com")

    [msg] = inbound_messages(app)
    assert (msg.subject, msg.text) == ("Café frío", "Señor, el café está frío ☕")
    assert msg.meta["sender_name"] == "José Núñez"
    assert c360(app, msg.customer_id)["traits"]["name"] == "José Núñez"
    assert "mime_warnings" not in msg.meta


def test_an_iso_8859_1_quoted_printable_body_is_decoded(
    app: App, listener: SmtpListener, channel: dict[str, Any]
) -> None:
    raw = crlf(
        "From: =?iso-8859-1?q?J=FCrgen?= <juergen@example.de>\n"
        f"To: {SUPPORT}\n"
        "Subject: =?iso-8859-1?q?Gr=FC=DFe?=\n"
        "Message-ID: <l1@example.de>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=iso-8859-1\n"
        "Content-Transfer-Encoding: quoted-printable\n"
        "\n"
        "Gr=FC=DFe aus K=F6ln. Der Preis war 20 =80, das Ger=E4t ist def=\n"
        "ekt.\n"
    )

    send(listener, raw, mail_from="juergen@example.de")

    [msg] = inbound_messages(app)
    assert msg.subject == "Grüße"
    # iso-8859-1 is read as windows-1252 (as browsers do), so the euro sign mail clients put at 0x80 survives.
    assert msg.text == "Grüße aus Köln. Der Preis war 20 €, das Gerät ist defekt."
    assert msg.meta["sender_name"] == "Jürgen"


def test_a_body_whose_declared_charset_lies_is_read_anyway_with_a_warning(
    app: App, listener: SmtpListener, channel: dict[str, Any]
) -> None:
    raw = crlf(
        f"From: ana@example.com\nTo: {SUPPORT}\nSubject: x\nMessage-ID: <c1@example.com>\n"
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
    ) + "Café crème\r\n".encode("latin-1")

    send(listener, raw)

    [msg] = inbound_messages(app)
    assert msg.text == "Café crème"
    assert msg.meta["mime_warnings"] == ["text/plain declared charset utf-8 but was read as cp1252"]


def test_html_and_text_alternatives_are_kept_and_the_html_is_sanitised(
    app: App, listener: SmtpListener, channel: dict[str, Any]
) -> None:
    msg = EmailMessage()
    msg["From"] = "ana@example.com"
    msg["To"] = SUPPORT
    msg["Subject"] = "Styled"
    msg["Message-ID"] = "<h1@example.com>"
    msg.set_content("Plain words")
    msg.add_alternative(
        '<p onclick="steal()">Rich <b>words</b></p><script>alert(1)</script>', subtype="html", charset="utf-8"
    )

    send(listener, msg.as_bytes(policy=policy.SMTP))

    [stored] = inbound_messages(app)
    assert stored.text == "Plain words"
    assert stored.html is not None and "<b>words</b>" in stored.html
    assert "script" not in stored.html and "onclick" not in stored.html


def test_attachments_are_stored_with_the_type_their_bytes_show(
    app: App, listener: SmtpListener, channel: dict[str, Any]
) -> None:
    msg = EmailMessage()
    msg["From"] = "ana@example.com"
    msg["To"] = SUPPORT
    msg["Subject"] = "Receipt and photo"
    msg["Message-ID"] = "<a1@example.com>"
    msg.set_content("See attached.")
    msg.add_alternative("<p>See attached.</p>", subtype="html")
    # The sender calls the photo a generic binary with an odd name; the bytes say PNG.
    msg.add_attachment(PNG, maintype="application", subtype="octet-stream", filename="photo.dat")
    msg.add_attachment(b"Bought 3 May, till 4", maintype="text", subtype="plain", filename="Beleg ä.txt")

    send(listener, msg.as_bytes(policy=policy.SMTP))

    [stored] = inbound_messages(app)
    assert stored.text == "See attached."
    # Attachment ids are random within a millisecond: find them by name.
    files = {a.filename: a for a in attachments_of(app, stored.id)}
    photo, receipt = files["photo.dat"], files["Beleg ä.txt"]
    assert (photo.filename, photo.content_type, photo.declared_type, photo.size) == (
        "photo.dat",
        "image/png",
        "application/octet-stream",
        len(PNG),
    )
    assert read(app.settings.home, photo.storage_path) == PNG
    assert (receipt.filename, receipt.content_type) == ("Beleg ä.txt", "text/plain")
    assert read(app.settings.home, receipt.storage_path) == b"Bought 3 May, till 4"


def test_malformed_mime_is_stored_raw_with_a_warning_never_dropped(
    app: App, listener: SmtpListener, channel: dict[str, Any]
) -> None:
    raw = crlf(
        f"From: ana@example.com\nTo: {SUPPORT}\nSubject: Broken\nMessage-ID: <b1@example.com>\n"
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="never-used"\n\n'
        "The boundary never comes, but these words must not be lost.\n"
    )

    answer = send(listener, raw)

    assert answer.data is not None and answer.data[0] == 250
    [msg] = inbound_messages(app)
    assert msg.text == "The boundary never comes, but these words must not be lost."
    assert any(w.startswith("StartBoundaryNotFoundDefect") for w in msg.meta["mime_warnings"])
    [original] = attachments_of(app, msg.id)
    assert original.filename == "original.eml"
    kept = read(app.settings.home, original.storage_path)
    assert b'boundary="never-used"' in kept and b"must not be lost" in kept


def test_broken_base64_keeps_what_decodes_and_says_so(
    app: App, listener: SmtpListener, channel: dict[str, Any]
) -> None:
    raw = crlf(
        f"From: ana@example.com\nTo: {SUPPORT}\nSubject: b64\nMessage-ID: <b2@example.com>\n"
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        "aGVsbG8gd29ybGQ*&^%\n"
    )

    send(listener, raw)

    [msg] = inbound_messages(app)
    assert msg.text == "hello world"
    assert any("Base64" in w for w in msg.meta["mime_warnings"])


def test_a_message_without_headers_or_message_id_is_kept_and_stored_once(
    app: App, listener: SmtpListener, channel: dict[str, Any]
) -> None:
    raw = b"just some words from a broken script\r\nsecond line\r\n"

    first = send(listener, raw, mail_from="script@example.org")
    again = send(listener, raw, mail_from="script@example.org")  # the sender retries: same bytes

    [msg] = inbound_messages(app)
    assert msg.address == {"type": "email", "value": "script@example.org"}  # no From: the envelope sender
    assert msg.text == "just some words from a broken script\nsecond line"
    assert msg.external_id is not None and msg.external_id.endswith("@no-message-id.amity.invalid>")
    assert msg.meta["email"]["message_id_synthesised"] is True
    assert first.data is not None and first.data[0] == 250
    assert again.data is not None and again.data[1] == f"2.0.0 already stored as {msg.id}"


# ---- the parser alone (no database) ----------------------------------------------------------------


def test_an_attached_email_is_kept_whole_as_one_eml_file() -> None:
    inner = EmailMessage()
    inner["From"] = "supplier@example.net"
    inner["Subject"] = "Your order"
    inner.set_content("Shipped.")
    outer = EmailMessage()
    outer["From"] = "ana@example.com"
    outer["Message-ID"] = "<f1@example.com>"
    outer.set_content("Forwarding this.")
    outer.add_attachment(inner)

    mail = parse(outer.as_bytes(policy=policy.SMTP))

    assert mail.text == "Forwarding this."
    [eml] = mail.attachments
    assert eml.filename == "attached-message-2.eml"
    assert b"Subject: Your order" in eml.data and b"Shipped." in eml.data


def test_threading_headers_are_read_with_their_brackets() -> None:
    raw = crlf(
        "From: ana@example.com\nMessage-ID: <x@example.com>\nIn-Reply-To: <msg_a@shop.example> (sent by Shop)\n"
        "References: <r1@example.com>\n <msg_a@shop.example>\n\nbody\n"
    )

    mail = parse(raw)

    assert (mail.message_id, mail.in_reply_to) == ("<x@example.com>", "<msg_a@shop.example>")
    assert mail.references == ["<r1@example.com>", "<msg_a@shop.example>"]


def test_an_html_only_message_gets_its_text_from_the_html(
    app: App, listener: SmtpListener, channel: dict[str, Any]
) -> None:
    raw = crlf(
        f"From: ana@example.com\nTo: {SUPPORT}\nSubject: html\nMessage-ID: <h2@example.com>\n"
        "Content-Type: text/html; charset=utf-8\n\n"
        "<html><body><p>Only <i>rich</i> text</p></body></html>\n"
    )

    send(listener, raw)

    [msg] = inbound_messages(app)
    assert msg.html is not None and "<i>rich</i>" in msg.html
    assert msg.text == "Only rich text"


def test_a_message_id_without_brackets_is_still_the_message_id() -> None:
    mail = parse(crlf("From: ana@example.com\nMessage-ID: 12345.abc@legacy.example\n\nbody\n"))

    assert (mail.message_id, mail.message_id_synthesised) == ("<12345.abc@legacy.example>", False)
