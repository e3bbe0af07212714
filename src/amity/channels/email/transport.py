"""Sending replies by SMTP (smtplib) through the channel's relay or ``AMITY_SMTP_RELAY``.

What goes out: From the channel address (with its display name), To the customer, the Subject,
``Message-ID`` = the message's pre-chosen external id, ``In-Reply-To`` / ``References`` from the
conversation's earlier mail, ``Reply-To: local+<reply_token>@domain`` when the channel wants it,
text and HTML as multipart/alternative, attachments, and the outbox's idempotency key as
``X-Amity-Idempotency-Key`` so a receiving system can drop the copy a crash-and-retry may send.
No ``Auto-Submitted`` header: these are written by people, and marking them automatic would make
the customer's own auto-responder stay silent and some filters drop them.
"""

from __future__ import annotations

import datetime as dt
import re
import smtplib
import socket
import ssl
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from typing import Any

from amity.channels.base import DeliveryError, Outbound, Sent
from amity.channels.email.config import RelayError, message_id_for, parse_relay, reply_address, split_address

IDEMPOTENCY_HEADER = "X-Amity-Idempotency-Key"
_LINEBREAKS = re.compile(r"[\r\n\x00]+")


def _one_line(value: str) -> str:
    # A customer's subject can carry line breaks; in a header they would be header injection.
    return " ".join(_LINEBREAKS.sub(" ", value).split())


def _mailbox(address: str, name: str | None = None) -> HeaderAddress:
    local, domain = split_address(address)
    return HeaderAddress(display_name=_one_line(name or ""), username=local, domain=domain)


def build(message: Outbound, now: dt.datetime | None = None) -> EmailMessage:
    config = message.config
    address = str(config["address"])
    if message.to.type != "email":
        raise DeliveryError(f"an email channel cannot send to a {message.to.type} address", permanent=True)
    try:
        recipient = _mailbox(message.to.value)
        sender = _mailbox(address, config.get("from_name"))
    except (ValueError, IndexError) as exc:
        raise DeliveryError(f"not a usable address: {exc}", permanent=True) from None
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = _one_line(message.subject or "") or "Your conversation"
    msg["Date"] = format_datetime(now or dt.datetime.now(dt.UTC))
    msg["Message-ID"] = message.external_id or message_id_for(message.message_id, config)
    refs = [r for r in message.references if r][-20:]
    if message.in_reply_to:
        msg["In-Reply-To"] = message.in_reply_to
        if message.in_reply_to not in refs:
            refs.append(message.in_reply_to)
    if refs:
        msg["References"] = " ".join(refs)
    if config.get("reply_to_token", True) and message.reply_token:
        msg["Reply-To"] = _mailbox(reply_address(config, message.reply_token), config.get("from_name"))
    msg[IDEMPOTENCY_HEADER] = message.idempotency_key
    if message.list_unsubscribe:
        # RFC 8058 one-click: mail providers POST "List-Unsubscribe=One-Click" to the URL.
        msg["List-Unsubscribe"] = f"<{_one_line(message.list_unsubscribe)}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(message.text or "")
    if message.html:
        msg.add_alternative(message.html, subtype="html")
    for a in message.attachments:
        maintype, _, subtype = (a.content_type or "application/octet-stream").partition("/")
        if maintype in ("multipart", "message") or not subtype:
            # Those need a structure of their own; as bytes they are a file, which is what was attached.
            maintype, subtype = "application", "octet-stream"
        msg.add_attachment(a.data, maintype=maintype, subtype=subtype, filename=a.filename)
    return msg


def _code_error(code: int, text: str, where: str) -> DeliveryError:
    # 5xx is the relay's final word (unknown user, policy refusal); 4xx and anything else can pass.
    return DeliveryError(f"{where} answered {code} {text}".strip()[:1000], permanent=500 <= code < 600)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class SmtpTransport:
    def __init__(
        self, config: dict[str, Any], default_relay: str | None = None, timeout: float = 30.0
    ) -> None:
        self.config = config
        self.default_relay = default_relay
        self.timeout = timeout

    def relay(self) -> tuple[str, int]:
        value = self.config.get("relay") or self.default_relay
        if not value:
            # Temporary on purpose: the admin sets the relay and the queued replies then go out.
            raise DeliveryError(
                "no SMTP relay configured: set AMITY_SMTP_RELAY=host:port or the channel's 'relay'"
            )
        try:
            return parse_relay(value)
        except RelayError as exc:
            raise DeliveryError(f"AMITY_SMTP_RELAY: {exc}") from None

    def send(self, message: Outbound) -> Sent:
        msg = build(message)
        host, port = self.relay()
        where = f"the relay {host}:{port}"
        smtp = smtplib.SMTP(timeout=self.timeout, local_hostname=socket.gethostname())
        try:
            smtp.connect(host, port)
            smtp.ehlo()
            if self.config.get("relay_starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.config.get("relay_username"):
                smtp.login(str(self.config["relay_username"]), str(self.config.get("relay_password") or ""))
            # The envelope sender is the channel address, so bounces come back to our own listener.
            smtp.send_message(msg, from_addr=str(self.config["address"]), to_addrs=[message.to.value])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (-1, b""))
            raise _code_error(int(code), _text(text), f"{where} refused {message.to.value}:") from None
        except smtplib.SMTPResponseException as exc:
            raise _code_error(int(exc.smtp_code), _text(exc.smtp_error), where) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"{where} cannot send this message: {exc}", permanent=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"could not talk to {where}: {type(exc).__name__}: {exc}") from None
        finally:
            _close(smtp)
        return Sent(external_id=str(msg["Message-ID"]), status="sent")


def _close(smtp: smtplib.SMTP) -> None:
    # After a successful send, a failing QUIT must not turn the send into a failure (and a resend).
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
