"""What happens to one message the SMTP listener accepted: bounce, auto-reply or customer mail.

Runs in a worker thread (it talks to the database), and answers with the SMTP reply line the
listener sends back. 2xx means we took responsibility for the message; 5xx makes the sending server
return it to its sender (who then knows); 4xx makes it try again later, which is what we answer on
any unexpected error, so a bug never silently loses mail.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from amity.channels.base import Address, Inbound, InboundAttachment
from amity.channels.email import bounces, routing
from amity.channels.email.config import message_id_for
from amity.channels.email.parse import ParsedMail, clean, parse
from amity.channels.inbound import channel_actor, load_channel, receive
from amity.conversations.delivery import record_status
from amity.core.actions import ActionError, App, perform

log = logging.getLogger("amity.channels.email")

MAX_TEXT = 200_000  # characters kept in the message text; the whole original is attached beyond this
MAX_HTML = 1_000_000
_OWN_MSG = re.compile(r"<(msg_[0-9a-z]{26})@")


@dataclass(frozen=True)
class Reply:
    code: int
    text: str

    def line(self) -> str:
        return f"{self.code} {self.text}"[:510]  # RFC 5321 4.5.3.1.5: a reply line is at most 512 octets


def accept(app: App, mail_from: str, recipients: list[str], raw: bytes) -> str:
    known = routing.addresses(app)
    routes: dict[str, routing.Route] = {}
    for r in recipients:
        found = routing.route(app, r, known)
        if found is not None:
            routes.setdefault(found.channel_id, found)
    if not routes:  # every channel was disabled between RCPT and the end of DATA
        return Reply(550, "5.1.1 none of the recipients is served here any more").line()
    mail = parse(raw)
    replies = [file_mail(app, route, mail, mail_from, raw, set(known)) for route in routes.values()]
    accepted = [r for r in replies if r.code < 400]
    return (accepted or replies)[0].line()


def file_mail(
    app: App, route: routing.Route, mail: ParsedMail, mail_from: str, raw: bytes, own: set[str]
) -> Reply:
    verdict = bounces.classify(mail, mail_from, own)
    if verdict.kind == "bounce":
        return _bounce(app, route, mail, raw)
    automated = verdict.kind == "auto_reply"
    sender = mail.sender_email or mail_from or None
    if not sender:
        if automated:
            log.info("automated mail without any sender address to %s not stored", route.recipient)
            return Reply(250, "2.0.0 automated mail without a sender address noted, not stored")
        return Reply(550, "5.1.7 the message has no sender address (From or MAIL FROM) we could answer")
    inbound = Inbound(
        sender=Address("email", sender),
        sender_name=mail.sender_name,
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        external_id=mail.message_id,
        in_reply_to=mail.in_reply_to,
        references=mail.references,
        conversation_hint=route.token,
        attachments=list(mail.attachments),
        automated=automated,
        meta=_meta(route, mail, mail_from, verdict),
    )
    _cap(inbound, raw)
    try:
        got = receive(app, route.channel_id, inbound, expect=("email",))
    except ActionError as exc:
        if automated:
            log.info("automated mail from %s not stored: %s", sender, exc.message)
            return Reply(250, f"2.0.0 automated mail noted, not stored: {exc.message}")
        if exc.status == 422:
            return Reply(550, f"5.1.7 {exc.message}")
        return Reply(550, f"5.2.1 mailbox unavailable: {exc.message}")
    if got.duplicate:
        return Reply(250, f"2.0.0 already stored as {got.message_id}")
    text = f"2.0.0 stored as {got.message_id}"
    if got.refused_attachments:
        names = ", ".join(str(a["filename"]) for a in got.refused_attachments)
        text += f"; attachments refused (over {app.settings.max_attachment_bytes} bytes): {names}"
    return Reply(250, text)


def _meta(route: routing.Route, mail: ParsedMail, mail_from: str, verdict: bounces.Verdict) -> dict[str, Any]:
    email: dict[str, Any] = {
        "to": clean(route.recipient),
        "mail_from": clean(mail_from),
        "message_id": mail.message_id,
    }
    if mail.message_id_synthesised:
        email["message_id_synthesised"] = True
    for key, name in (("cc", "Cc"), ("date", "Date"), ("authentication_results", "Authentication-Results")):
        if value := mail.header(name):
            email[key] = value[:1000]
    meta: dict[str, Any] = {"email": email}
    if verdict.kind == "auto_reply":
        meta["automated_reason"] = verdict.reason
    if mail.warnings:
        meta["mime_warnings"] = [w[:300] for w in mail.warnings[:20]]
    return meta


def _cap(inbound: Inbound, raw: bytes) -> None:
    """Keep huge bodies out of the message row, but never lose them: the original is attached."""
    long = len(inbound.text) > MAX_TEXT or len(inbound.html or "") > MAX_HTML
    if not long:
        return
    inbound.text = inbound.text[:MAX_TEXT]
    inbound.html = inbound.html[:MAX_HTML] if inbound.html else None
    inbound.meta.setdefault("mime_warnings", []).append(
        "the body was shortened; the whole message is original.eml"
    )
    if not any(a.filename == "original.eml" for a in inbound.attachments):
        inbound.attachments.append(InboundAttachment("original.eml", raw, "message/rfc822"))


def _bounce(app: App, route: routing.Route, mail: ParsedMail, raw: bytes) -> Reply:
    report = bounces.read_report(mail, raw)
    if not report.failed:
        log.info(
            "delivery notice (not a failure) for %s", ", ".join(report.message_ids) or "unknown messages"
        )
        return Reply(250, "2.0.0 delivery notice noted; nothing failed")
    try:
        channel = load_channel(app, route.channel_id, expect=("email",))
    except ActionError as exc:
        return Reply(550, f"5.2.1 mailbox unavailable: {exc.message}")
    marked: list[str] = []
    for quoted in report.message_ids:
        candidates = [quoted]
        if m := _OWN_MSG.search(quoted):
            # The reporting server may have changed the case of the domain: try our canonical form too.
            candidates.append(message_id_for(m.group(1), channel.config))
        for candidate in dict.fromkeys(candidates):
            hit = perform(
                app, channel_actor(channel), record_status, channel.id, candidate, "failed", report.reason
            )
            if hit is not None:
                marked.append(hit)
                break
    if not marked:
        log.warning("bounce to %s names none of our messages (%s)", route.recipient, report.reason)
        return Reply(250, "2.0.0 bounce received; it names none of our messages")
    log.info("bounce marked %s failed: %s", ", ".join(marked), report.reason)
    return Reply(250, f"2.0.0 bounce recorded; {', '.join(marked)} marked failed")
