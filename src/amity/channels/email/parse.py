"""Reading one MIME message (stdlib ``email``, ``policy.default``) into what an Inbound needs.

Never raises and never loses content: a part whose charset lies is decoded with a fallback and a
warning; a message whose structure is broken (a multipart without its boundary, bad base64, no
header/body separator) keeps whatever text can be read *and* the untouched original as
``original.eml``, with the parser's complaints listed in ``warnings``.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from email.utils import parseaddr

from amity.channels.base import InboundAttachment

MAX_REFERENCES = 20
MAX_ID = 500  # Message.external_id / in_reply_to are String(500)
_MSG_ID = re.compile(r"<([^<>\s]{1,496})>")
_BODY_TYPES = ("text/plain", "text/html")
# Labels that in practice mean windows-1252 (the WHATWG encoding standard treats them so).
_LATIN1 = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii", "cp819"}


@dataclass
class ParsedMail:
    message: Message
    sender_email: str | None = None
    sender_name: str | None = None
    subject: str | None = None
    text: str = ""
    html: str | None = None
    message_id: str | None = None
    message_id_synthesised: bool = False
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    attachments: list[InboundAttachment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        return header(self.message, name)


def clean(value: str) -> str:
    """Text safe for the database: surrogates from undeclared 8-bit bytes decoded, NULs dropped."""
    fixed = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return fixed.replace("\x00", "")


def raw_header(msg: Message, name: str) -> str | None:
    """A header's value exactly as sent (unparsed), cleaned for storage."""
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return " ".join(clean(str(value)).split()) or None
    return None


def header(msg: Message, name: str) -> str | None:
    """One header as text, or None; a header too broken to parse is read as its raw value."""
    try:
        value = msg.get(name)
    except Exception:  # the policy's header classes raise assorted errors on garbage
        return raw_header(msg, name)
    if value is None:
        return None
    return " ".join(clean(str(value)).split()) or None


def message_ids(value: str | None) -> list[str]:
    """Every ``<id>`` in a Message-ID, In-Reply-To or References header, brackets kept."""
    return [f"<{m}>" for m in _MSG_ID.findall(value or "")]


def decode_text(part: Message, warnings: list[str]) -> str:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    declared = (part.get_content_charset() or "").lower() or None
    candidates: list[str] = []
    if declared and declared not in ("unknown-8bit", "x-unknown", "8bit"):
        candidates.append("cp1252" if declared in _LATIN1 and not data.isascii() else declared)
    candidates += ["utf-8", "cp1252"]
    for charset in candidates:
        try:
            text = data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
        if declared and charset != candidates[0]:
            warnings.append(
                f"{part.get_content_type()} declared charset {declared} but was read as {charset}"
            )
        return clean(_lf(text))
    warnings.append(f"{part.get_content_type()} is in no known charset; unreadable bytes replaced")
    return clean(_lf(data.decode("latin-1")))


def _lf(text: str) -> str:
    # SMTP carries CRLF line ends; stored text uses \n like every other channel's.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _filename(part: Message, index: int) -> str:
    try:
        name = part.get_filename()
    except Exception:  # an RFC 2231 parameter that cannot be decoded
        name = None
    if name:
        return clean(name)
    ctype = part.get_content_type()
    if ctype == "message/rfc822":
        return f"attached-message-{index}.eml"
    return f"attachment-{index}{mimetypes.guess_extension(ctype) or '.bin'}"


def _readable(ctype: str) -> bool:
    # A multipart whose boundary never appears is parsed as one text blob of type multipart/*.
    return ctype in _BODY_TYPES or ctype.startswith("multipart/")


def _leaves(msg: Message) -> list[Message]:
    """The message's leaf parts in order; an attached message (message/rfc822) is one leaf, not opened,
    so the attachment is kept whole."""
    if msg.get_content_type() == "message/rfc822" or not msg.is_multipart():
        return [msg]
    out: list[Message] = []
    payload = msg.get_payload()
    for sub in payload if isinstance(payload, list) else []:
        if isinstance(sub, Message):
            out += _leaves(sub)
    return out


def _defects(msg: Message) -> list[str]:
    found: list[str] = []
    stack = [msg]
    while stack:
        part = stack.pop()
        found += [clean(f"{type(d).__name__}: {d}" if str(d) else type(d).__name__) for d in part.defects]
        payload = part.get_payload() if part.is_multipart() else None
        stack += [p for p in payload or [] if isinstance(p, Message)]
    return found


def _leaf_bytes(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822" and part.is_multipart():
        inner = part.get_payload(0)
        return inner.as_bytes(policy=policy.SMTP) if isinstance(inner, Message) else b""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _body(msg: Message, mail: ParsedMail) -> None:
    plain = html = None
    if isinstance(msg, EmailMessage):
        try:
            plain = msg.get_body(preferencelist=("plain",))
            html = msg.get_body(preferencelist=("html",))
        except Exception:  # get_body walks structure that may be nonsense; the fallback below reads it
            plain = html = None
    texts: list[str] = []
    for index, part in enumerate(_leaves(msg), start=1):
        ctype = part.get_content_type()
        disposition = part.get_content_disposition()
        if part is plain:
            texts.insert(0, decode_text(part, mail.warnings))
        elif part is html:
            mail.html = decode_text(part, mail.warnings)
        elif (
            ctype == "text/plain"
            and disposition != "attachment"
            and not part.get_filename()
            and plain is not None
        ):
            texts.append(decode_text(part, mail.warnings))  # a second inline text part (a signature footer)
        elif plain is None and html is None and _readable(ctype) and disposition != "attachment":
            # No recognisable body (a broken multipart is read as one text part): its text is the body.
            body = decode_text(part, mail.warnings)
            if ctype == "text/html":
                mail.html = body
            else:
                texts.append(body)
        else:
            mail.attachments.append(InboundAttachment(_filename(part, index), _leaf_bytes(part), ctype))
    mail.text = "\n\n".join(t.strip("\n") for t in texts if t.strip())


def _strict_from(msg: Message) -> tuple[str, str] | None:
    """(address, display name) by the RFC 5322 parser, or None where it finds none or gives up."""
    try:
        addresses: tuple[HeaderAddress, ...] = getattr(msg.get("From"), "addresses", ())
        for a in addresses:
            if a.username and a.domain:
                return clean(a.addr_spec), clean(a.display_name)
    except Exception:  # groups, stray brackets, bad encodings: the lenient reading below takes over
        return None
    return None


def _sender(msg: Message, mail: ParsedMail) -> None:
    strict = _strict_from(msg)
    if strict is not None:
        mail.sender_email, name = strict
        mail.sender_name = name or None
        return
    raw = raw_header(msg, "From")
    if raw is None:
        return
    # The legacy parser is lenient: it finds "ana@example.com" in most mangled From lines.
    name, address = parseaddr(raw)
    if "@" in address.strip("@"):
        mail.sender_email = address
        mail.sender_name = name or None
        mail.warnings.append("the From header is malformed; its address was read leniently")
    else:
        mail.warnings.append("the From header has no usable address")


def parse(raw: bytes) -> ParsedMail:
    try:
        msg = message_from_bytes(raw, policy=policy.default)
    except Exception as exc:  # the parser is lenient; this is belt and braces
        msg = BytesHeaderParser(policy=policy.default).parsebytes(b"")
        mail = ParsedMail(msg, text=clean(raw.decode("utf-8", "surrogateescape")))
        mail.warnings.append(f"the message could not be parsed: {type(exc).__name__}: {exc}")
        mail.attachments.append(InboundAttachment("original.eml", raw, "message/rfc822"))
        _ids(mail, raw)
        return mail
    mail = ParsedMail(msg)
    _sender(msg, mail)
    subject = header(msg, "Subject")
    mail.subject = subject[:500] if subject else None
    _ids(mail, raw)
    try:
        _body(msg, mail)
    except Exception as exc:  # keep the raw text rather than lose the message
        mail.warnings.append(f"the body could not be read: {type(exc).__name__}: {exc}")
        mail.text = clean(raw.split(b"\n\n", 1)[-1].decode("utf-8", "surrogateescape"))
    defects = _defects(msg)
    if defects:
        mail.warnings += defects
        if not any(a.filename == "original.eml" for a in mail.attachments):
            mail.attachments.append(InboundAttachment("original.eml", raw, "message/rfc822"))
    return mail


def _ids(mail: ParsedMail, raw: bytes) -> None:
    given = header(mail.message, "Message-ID")
    own = message_ids(given)
    if not own and given and "@" in given and " " not in given and len(given) <= MAX_ID - 2:
        own = [f"<{given}>"]  # some scripts write the id without its angle brackets
    if own:
        mail.message_id = own[0]
    else:
        # No Message-ID: an id from the bytes, so a sending server that retries after a lost "250"
        # (same bytes again) still stores the message once.
        mail.message_id = f"<{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id.amity.invalid>"
        mail.message_id_synthesised = True
    replied = message_ids(header(mail.message, "In-Reply-To"))
    mail.in_reply_to = replied[0] if replied else None
    mail.references = [r for r in message_ids(header(mail.message, "References")) if len(r) <= MAX_ID][
        -MAX_REFERENCES:
    ]
