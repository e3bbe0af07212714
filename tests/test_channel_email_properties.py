"""Whatever bytes arrive, the parser answers (it never raises) with text any database can store, and
the listener answers every one with a deliberate SMTP reply, never a crash."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from amity.channels.email.bounces import classify, read_report
from amity.channels.email.listener import SmtpListener
from amity.channels.email.parse import ParsedMail, parse
from amity.core.actions import App
from tests.test_channel_email_kit import channel, inbound_messages, listener, send, sink

__all__ = ["channel", "listener", "sink"]  # fixtures used by name below

HEADERS = [
    b"From: ",
    b"Subject: ",
    b"Message-ID: ",
    b"References: ",
    b"Content-Type: multipart/mixed; boundary=",
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=",
    b"Content-Type: message/delivery-status",
    b"Content-Type: text/rfc822-headers",
    b"Content-Type: message/rfc822",
    b"Action: failed",
    b"<msg_01m8s4ybp0b4arqkd7kt7ztx3d@shop.example>",
    b"Auto-Submitted: ",
    b"Content-Type: text/plain; charset=",
    b"Content-Transfer-Encoding: base64",
    b"Content-Transfer-Encoding: quoted-printable",
    b"Content-Disposition: attachment; filename*=",
    b"--",
    b"=?utf-8?b?",
    b"=?x-nonsense?q?",
    b"\r\n",
    b"\r\n\r\n",
]
noise = st.lists(
    st.one_of(st.sampled_from(HEADERS), st.binary(max_size=40), st.text(max_size=20).map(str.encode)),
    max_size=30,
).map(b"".join)
NAMES = [
    "From",
    "To",
    "Subject",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Content-Type",
    "Content-Disposition",
    "Content-Transfer-Encoding",
    "Auto-Submitted",
    "Precedence",
    "Date",
]
header_value = st.text(
    alphabet=st.sampled_from(list("ab@.<>,;:\"()[]\\=?*%'- \t\u00e9\u2603\x00")), max_size=40
)
headed = st.builds(
    lambda headers, body: (
        "".join(f"{n}: {v}\r\n" for n, v in headers).encode("utf-8", "surrogatepass") + b"\r\n" + body
    ),
    st.lists(st.tuples(st.sampled_from(NAMES), header_value), max_size=8),
    noise,
)
mail_like = st.one_of(noise, headed)


def storable(mail: ParsedMail) -> list[str]:
    values = [mail.text, mail.html or "", mail.subject or "", mail.sender_name or "", mail.sender_email or ""]
    values += [mail.message_id or "", mail.in_reply_to or "", *mail.references, *mail.warnings]
    values += [a.filename for a in mail.attachments]
    return values


@settings(max_examples=300, deadline=None)
@given(mail_like)
def test_the_parser_reads_anything_into_storable_text(raw: bytes) -> None:
    mail = parse(raw)
    verdict = classify(mail, "", {"support@shop.example"})
    report = read_report(mail, raw)

    assert verdict.kind in ("person", "auto_reply", "bounce")
    assert len(report.reason) <= 1000
    for value in storable(mail):
        assert "\x00" not in value  # PostgreSQL refuses NUL in text
        value.encode("utf-8")  # no lone surrogates left from undecodable bytes
    assert mail.message_id is not None and len(mail.message_id) <= 500
    assert all(len(r) <= 500 for r in mail.references)


GARBAGE = [
    b"\x00\x01\x02 binary noise \xff\xfe\r\n",
    b"From: \r\nSubject: =?utf-8?b?!!!?=\r\n\r\n\xc3\x28 invalid utf-8",
    b"Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n--\r\n",
    b"From: ana@example.com\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\nhello\r\n",
    b"From: ana@example.com\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\n--a--\r\n",
    b"From: ana@example.com\r\nContent-Disposition: attachment; filename*=utf-8''%ZZ%00.txt\r\n\r\nx\r\n",
]


def test_garbage_over_smtp_is_kept_or_refused_deliberately(
    app: App, listener: SmtpListener, channel: dict[str, Any]
) -> None:
    replies = [send(listener, raw, mail_from="ana@example.com").data for raw in GARBAGE]

    assert all(r is not None and r[0] == 250 and r[1].startswith("2.0.0 stored as ") for r in replies), (
        replies
    )
    assert len(inbound_messages(app)) == len(GARBAGE)
    assert all(m.address == {"type": "email", "value": "ana@example.com"} for m in inbound_messages(app))
