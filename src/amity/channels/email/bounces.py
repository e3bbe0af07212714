"""Telling people from machines: bounces (delivery reports) and auto-replies (RFC 3834).

A *bounce* says one of our messages did not arrive: it is not a customer speaking, so it is never
stored as a message; it marks the outbound message it names ``failed``. An *auto-reply* (out of
office, "we got your mail") is stored so the agent sees it, flagged ``automated`` so nothing ever
answers it automatically, which is what prevents two auto-responders from mailing each other forever.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser
from email.policy import default

from amity.channels.email.parse import ParsedMail, clean, header, message_ids

BOUNCE_SENDERS = ("mailer-daemon", "postmaster")
AUTO_PRECEDENCE = ("bulk", "auto_reply", "junk")
# Headers whose mere presence marks an auto-responder (vacation programs, some help desks).
AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder")
# Our own outbound Message-IDs, wherever a bounce quotes them (headers, a quoted original, plain text).
_OWN_ID = re.compile(r"<msg_[0-9a-z]{26}@[^<>\s]{1,250}>")
_FAILED_ACTIONS = ("failed",)


@dataclass
class Verdict:
    kind: str  # "person" | "auto_reply" | "bounce"
    reason: str | None = None


@dataclass
class Report:
    """What a bounce says: which of our Message-IDs failed, and why."""

    message_ids: list[str] = field(default_factory=list)
    failed: bool = True  # False for a "delayed" / "delivered" notice: nothing to mark
    reason: str = "the recipient's mail server returned the message"


def _localpart(address: str | None) -> str:
    return (address or "").rpartition("@")[0].lower()


def base_address(address: str) -> str:
    """``support+token@shop.example`` -> ``support@shop.example``."""
    local, _, domain = address.lower().rpartition("@")
    return f"{local.rsplit('+', 1)[0]}@{domain}"


def _is_delivery_report(msg: Message) -> bool:
    return msg.get_content_type() == "multipart/report" and (
        str(msg.get_param("report-type") or "").lower() == "delivery-status"
    )


def classify(mail: ParsedMail, envelope_sender: str, own_addresses: set[str]) -> Verdict:
    msg = mail.message
    sender = (mail.sender_email or envelope_sender or "").lower()
    if _is_delivery_report(msg):
        return Verdict("bounce", "a delivery-status report (multipart/report)")
    if msg.get_content_type() == "multipart/report":
        # Read receipts, abuse feedback reports: machine-written, worth showing, never worth answering.
        return Verdict(
            "auto_reply", f"a {msg.get_param('report-type') or 'machine'!s} report (multipart/report)"
        )
    if _localpart(sender) in BOUNCE_SENDERS or _localpart(envelope_sender) in BOUNCE_SENDERS:
        return Verdict("bounce", f"sent by {sender or envelope_sender}")
    auto = (header(msg, "Auto-Submitted") or "no").split(";")[0].strip().lower()
    if auto != "no":
        return Verdict("auto_reply", f"Auto-Submitted: {auto}")
    for name in AUTO_HEADERS:
        if header(msg, name) is not None:
            return Verdict("auto_reply", f"{name} header")
    precedence = (header(msg, "Precedence") or "").lower()
    if precedence in AUTO_PRECEDENCE:
        return Verdict("auto_reply", f"Precedence: {precedence}")
    if header(msg, "X-Amity-Idempotency-Key") is not None or {sender, base_address(sender)} & own_addresses:
        # Our own outbound mail came back (a forwarding loop): answering it would loop for ever.
        return Verdict("auto_reply", "our own message came back")
    if envelope_sender == "":
        # A null return path (MAIL FROM:<>) is reserved for machine notifications (RFC 5321 4.5.5).
        return Verdict("auto_reply", "null return path")
    return Verdict("person")


def _parts(msg: Message) -> list[Message]:
    out, stack = [], [msg]
    while stack:
        part = stack.pop(0)
        out.append(part)
        if part.is_multipart() and part.get_content_type() != "message/delivery-status":
            payload = part.get_payload()
            stack += [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []
    return out


def _status_blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [b for b in payload if isinstance(b, Message)]
    # Some reporting servers send the status as plain text; read it as header blocks ourselves.
    text = payload if isinstance(payload, str) else ""
    return [HeaderParser(policy=default).parsestr(b) for b in re.split(r"\n\s*\n", text) if b.strip()]


def _original_headers(part: Message) -> Message | None:
    ctype = part.get_content_type()
    if ctype in ("message/rfc822", "message/global") and part.is_multipart():
        inner = part.get_payload(0)
        return inner if isinstance(inner, Message) else None
    if ctype in ("text/rfc822-headers", "message/rfc822-headers", "message/rfc822"):
        payload = part.get_payload(decode=True)
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(part.get_payload())
        return HeaderParser(policy=default).parsestr(text)
    return None


def read_report(mail: ParsedMail, raw: bytes) -> Report:
    """Which of our messages a bounce is about. In order of trust: the Message-ID of the returned
    original (DSN third part), the bounce's own In-Reply-To/References, and any of our Message-IDs
    quoted anywhere in it (the plain-text bounces of older mail servers)."""
    report = Report()
    found: list[str] = []
    actions: list[str] = []
    reasons: list[str] = []
    for part in _parts(mail.message):
        if part.get_content_type() == "message/delivery-status":
            for block in _status_blocks(part):
                action = (header(block, "Action") or "").lower()
                if action:
                    actions.append(action)
                if action in _FAILED_ACTIONS:
                    who = (header(block, "Final-Recipient") or "").split(";")[-1].strip()
                    why = header(block, "Diagnostic-Code") or header(block, "Status") or "failed"
                    reasons.append(f"{who}: {why}" if who else why)
        original = _original_headers(part)
        if original is not None:
            found += message_ids(header(original, "Message-ID"))
    found += [mail.in_reply_to or "", *mail.references]
    found += _OWN_ID.findall(clean(raw.decode("utf-8", "surrogateescape")))
    report.message_ids = [i for i in dict.fromkeys(found) if i]
    if actions and not any(a in _FAILED_ACTIONS for a in actions):
        report.failed = False  # "delayed", "relayed", "delivered", "expanded": not a failure
    if reasons:
        report.reason = "bounced: " + "; ".join(reasons)
    elif mail.subject:
        report.reason = f"bounced: {mail.subject}"
    report.reason = report.reason[:1000]
    return report
