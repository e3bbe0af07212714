"""Telegram: a bot receives customers' private messages by webhook and answers with ``sendMessage``.

Inbound: Telegram posts each Update as JSON to ``/hooks/{channel_id}/telegram`` with the secret given
to ``setWebhook`` in ``X-Telegram-Bot-Api-Secret-Token``. The customer is the private chat
(``social:telegram`` = the chat id, which in a private chat is the user's id); a message is stored
once per ``{chat_id}:{message_id}``, an edit once per edit. Outbound replies carry the same scheme as
their external id, so a customer's reply quoting one of ours finds its conversation.
(docs/channels/telegram.md)
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from typing import Annotated, Any, TypeAlias
from urllib.parse import urlsplit

import httpx2
import orjson
from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.concurrency import run_in_threadpool

from amity.channels import inbound, signing
from amity.channels.base import Address, DeliveryError, Inbound, Outbound, Sent
from amity.channels.models import Channel
from amity.channels.registry import ChannelKind
from amity.core.actions import App
from amity.core.inputs import Input
from amity.web.auth import get_app
from amity.web.errors import ApiError
from amity.web.responses import Json

DEFAULT_API_BASE = "https://api.telegram.org"
IDENTITY = "social:telegram"
MAX_TEXT = 4096  # Telegram's limit for one message, in UTF-16 code units
TIMEOUT = httpx2.Timeout(15.0, connect=5.0)
_CHAT_ID = re.compile(r"^-?[0-9]{1,20}$")


# ---- configuration ---------------------------------------------------------------------------------
class TelegramConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bot_token: str = Field(
        pattern=r"^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$", description="The token @BotFather gave the bot"
    )
    # Telegram accepts 1 to 256 of these characters. It is the only thing that authenticates an
    # update, and the admin chooses it, so Amity asks for at least 16: a short one could be guessed.
    webhook_secret: str = Field(
        min_length=16,
        max_length=256,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The secret_token given to setWebhook (16-256 of A-Z a-z 0-9 _ -); sent with every update",
    )
    api_base: str = Field(default=DEFAULT_API_BASE, max_length=300, description="Bot API origin")

    @field_validator("api_base")
    @classmethod
    def _api_base(cls, v: str) -> str:
        # http is allowed: the self-hosted Bot API server (telegram-bot-api) usually runs on localhost.
        parts = urlsplit(v.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as https://api.telegram.org")
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query string or fragment")
        return v.strip().rstrip("/")


# ---- the parts of an Update we read (Telegram adds fields often: the rest is ignored) -----------------
class _Tg(Input):
    model_config = ConfigDict(extra="ignore")


# Telegram's ids fit in 64 bits; a bigger number would not survive the JSON column (orjson) or a
# timestamp conversion, so it is refused at the edge, naming the field, instead of failing later.
TgInt: TypeAlias = Annotated[int, Field(ge=-(2**63) + 1, le=2**63 - 1)]
Timestamp: TypeAlias = Annotated[int, Field(ge=0, le=2**33)]  # seconds since 1970, up to year 2242


class TgUser(_Tg):
    id: TgInt
    is_bot: bool = False
    first_name: str = Field(default="", max_length=500)
    last_name: str | None = Field(default=None, max_length=500)
    username: str | None = Field(default=None, max_length=100)
    language_code: str | None = Field(default=None, max_length=20)


class TgChat(_Tg):
    id: TgInt
    type: str = Field(max_length=30)


class TgFile(_Tg):
    file_id: str = Field(max_length=500)
    file_unique_id: str | None = Field(default=None, max_length=200)
    file_name: str | None = Field(default=None, max_length=500)
    mime_type: str | None = Field(default=None, max_length=200)
    file_size: int | None = Field(default=None, ge=0, le=2**63 - 1)


class TgContact(_Tg):
    phone_number: str = Field(max_length=40)
    first_name: str = Field(default="", max_length=500)
    last_name: str | None = Field(default=None, max_length=500)
    user_id: TgInt | None = None


class TgLocation(_Tg):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class TgReplied(_Tg):
    message_id: TgInt


class TgMessage(_Tg):
    message_id: TgInt
    date: Timestamp
    chat: TgChat
    from_: TgUser | None = Field(default=None, alias="from")
    edit_date: Timestamp | None = None
    text: str | None = Field(default=None, max_length=100_000)
    caption: str | None = Field(default=None, max_length=100_000)
    reply_to_message: TgReplied | None = None
    photo: list[TgFile] | None = Field(default=None, max_length=50)
    document: TgFile | None = None
    audio: TgFile | None = None
    voice: TgFile | None = None
    video: TgFile | None = None
    video_note: TgFile | None = None
    animation: TgFile | None = None
    sticker: TgFile | None = None
    contact: TgContact | None = None
    location: TgLocation | None = None


class TgUpdate(_Tg):
    update_id: TgInt
    message: TgMessage | None = None
    edited_message: TgMessage | None = None


MEDIA_KINDS = ("document", "audio", "voice", "video", "video_note", "animation", "sticker")


# ---- inbound ---------------------------------------------------------------------------------------
def external_id(chat_id: int, message_id: int) -> str:
    return f"{chat_id}:{message_id}"


def sender_name(user: TgUser | None) -> str | None:
    if user is None:
        return None
    full = " ".join(p for p in (user.first_name, user.last_name) if p).strip()
    return full or (f"@{user.username}" if user.username else None)


def _media(m: TgMessage) -> list[dict[str, Any]]:
    """What the customer sent besides text, by Telegram file id: recorded, never downloaded here."""
    out: list[dict[str, Any]] = []
    if m.photo:
        largest = max(m.photo, key=lambda p: p.file_size or 0)  # Telegram lists every size it made
        out.append({"kind": "photo", **largest.model_dump(exclude_none=True)})
    for kind in MEDIA_KINDS:
        f: TgFile | None = getattr(m, kind)
        if f is not None:
            out.append({"kind": kind, **f.model_dump(exclude_none=True)})
    return out


def _own_phone(m: TgMessage) -> Address | None:
    """The user's own number when they share their contact (Telegram's "share my phone number").

    Only a contact whose ``user_id`` is the sender counts: a forwarded contact card is somebody else,
    and treating it as the sender would merge two people.
    """
    c = m.contact
    if c is None or m.from_ is None or c.user_id != m.from_.id:
        return None
    digits = c.phone_number.strip()
    # Telegram gives the number in international form, usually without the "+".
    return Address("phone", digits if digits.startswith("+") else f"+{digits}")


def to_inbound(update: TgUpdate) -> Inbound | None:
    """The message to store, or None for updates that are not a customer writing to us."""
    m = update.message or update.edited_message
    if m is None or m.chat.type != "private" or (m.from_ is not None and m.from_.is_bot):
        # Groups and channels are many people in one chat id: filing them under one customer would
        # merge strangers, so only private chats are customers.
        return None
    media = _media(m)
    text = m.text if m.text is not None else (m.caption or "")
    if not text and not media and m.contact is None and m.location is None:
        return None  # a service message (pinned, joined, payment…): nothing a person wrote
    ext = external_id(m.chat.id, m.message_id)
    meta: dict[str, Any] = {"telegram": {"update_id": update.update_id, "message_id": m.message_id}}
    if m.from_ is not None:
        meta["telegram"]["user_id"] = m.from_.id
        if m.from_.username:
            meta["telegram"]["username"] = m.from_.username
        if m.from_.language_code:
            meta["telegram"]["language_code"] = m.from_.language_code
    if media:
        meta["media"] = media
    if m.contact is not None:
        meta["contact"] = m.contact.model_dump(exclude_none=True)
    if m.location is not None:
        meta["location"] = m.location.model_dump()
    at = m.date
    if update.edited_message is not None and m.edit_date is not None:
        # An edit is a new message on our side (the original stays as it was said), one per edit.
        meta["edited"] = {"original_external_id": ext, "edit_date": m.edit_date}
        ext = f"{ext}:edit:{m.edit_date}"
        at = m.edit_date
    phone = _own_phone(m)
    return Inbound(
        sender=Address(IDENTITY, str(m.chat.id)),
        identities=[phone] if phone else [],
        text=text,
        sender_name=sender_name(m.from_),
        external_id=ext,
        in_reply_to=external_id(m.chat.id, m.reply_to_message.message_id) if m.reply_to_message else None,
        received_at=dt.datetime.fromtimestamp(at, dt.UTC),
        meta=meta,
    )


# ---- outbound --------------------------------------------------------------------------------------
def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _reply_target(in_reply_to: str | None, chat_id: int) -> int | None:
    """The Telegram message id inside one of our external ids (``chat:id`` or ``chat:id:edit:date``)."""
    parts = (in_reply_to or "").split(":")
    if len(parts) >= 2 and parts[0] == str(chat_id) and parts[1].isdigit():
        return int(parts[1])
    return None


def _scrub(text: str, token: str) -> str:
    return text.replace(token, "<bot_token>") if token else text


class TelegramTransport:
    """``sendMessage`` for every Telegram channel: the bot token comes with each message's config."""

    def __init__(self, client: httpx2.Client | None = None) -> None:
        self.client = client

    def request(self, message: Outbound) -> dict[str, Any]:
        """The JSON body Telegram receives for this message (refusing what Telegram would refuse)."""
        if message.to.type != IDENTITY or not _CHAT_ID.match(message.to.value):
            raise DeliveryError(
                f"Telegram replies go to a chat id; {message.to.type} '{message.to.value}' is not one "
                "(the customer has to write to the bot first)",
                permanent=True,
            )
        if message.attachments:
            raise DeliveryError(
                "Telegram replies cannot carry attachments yet; send the text alone", permanent=True
            )
        text = message.text.strip()
        if not text:
            raise DeliveryError("the message has no text to send", permanent=True)
        if (size := _utf16_len(text)) > MAX_TEXT:
            raise DeliveryError(
                f"the text is {size} characters; Telegram sends at most {MAX_TEXT} in one message",
                permanent=True,
            )
        chat_id = int(message.to.value)
        body: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if (target := _reply_target(message.in_reply_to, chat_id)) is not None:
            # reply_parameters replaced reply_to_message_id (Bot API 7.0); allow_sending_without_reply
            # keeps a reply to a message the customer deleted from failing with "not found".
            body["reply_parameters"] = {"message_id": target, "allow_sending_without_reply": True}
        return body

    def send(self, message: Outbound) -> Sent:
        body = self.request(message)
        token = str(message.config["bot_token"])
        base = str(message.config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        url = f"{base}/bot{token}/sendMessage"
        content = orjson.dumps(body)
        headers = {"Content-Type": "application/json"}
        try:
            if self.client is not None:
                r = self.client.post(url, content=content, headers=headers)
            else:
                with httpx2.Client(timeout=TIMEOUT) as client:
                    r = client.post(url, content=content, headers=headers)
        except httpx2.HTTPError as exc:
            # The token is part of the URL: never let it reach an error message shown to agents.
            raise DeliveryError(
                _scrub(f"could not reach Telegram: {type(exc).__name__}: {exc}", token)
            ) from None
        try:
            data = r.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            data = {}
        if r.status_code < 400 and data.get("ok") is True:
            result = data.get("result")
            mid = result.get("message_id") if isinstance(result, dict) else None
            return Sent(external_id=external_id(body["chat_id"], int(mid)) if isinstance(mid, int) else None)
        raise _refusal(r.status_code, data, token)


def _refusal(status: int, data: dict[str, Any], token: str) -> DeliveryError:
    given = data.get("error_code")
    code = given if isinstance(given, int) else status
    description = _scrub(str(data.get("description") or f"HTTP {status}"), token)[:500]
    if code == 429 or status == 429:
        params = data.get("parameters")
        wait = params.get("retry_after") if isinstance(params, dict) else None
        after = f"; Telegram asks to wait {wait} s" if wait is not None else ""
        return DeliveryError(f"Telegram is rate-limiting the bot ({description}){after}")
    if status >= 500 or code >= 500 or not data:
        # 5xx, or no Bot API answer at all (a proxy's error page): the service is having trouble.
        return DeliveryError(f"Telegram answered {status} ({description})")
    hint = " (check the channel's bot_token)" if code in (401, 404) else ""
    return DeliveryError(f"Telegram refused the message (error {code}: {description}){hint}", permanent=True)


def _transport(app: App, channel_id: str, config: dict[str, Any]) -> TelegramTransport:
    return TelegramTransport()


KINDS = [
    ChannelKind(
        type="telegram",
        reaches=(IDENTITY,),
        config_model=TelegramConfig,
        transport=_transport,
        webhook="telegram",
        secret_fields=("bot_token", "webhook_secret"),
    )
]


# ---- the webhook -----------------------------------------------------------------------------------
router = APIRouter(tags=["webhooks"])


def _verified(app: App, channel_id: str, given: str | None) -> Channel:
    with app.db.read() as s:
        channel = s.get(Channel, channel_id)
    if channel is None or channel.type != "telegram":
        raise signing.refuse("the secret token is missing or wrong")
    secret = str(channel.config.get("webhook_secret", ""))
    if not secret or not given or not hmac.compare_digest(secret.encode(), given.encode()):
        raise signing.refuse("the secret token is missing or wrong")
    if not channel.enabled:
        raise ApiError(409, "conflict", f"channel '{channel.name}' is disabled", "channel_id")
    return channel


@router.post(
    "/hooks/{channel_id}/telegram",
    summary="Telegram: the Bot API posts an Update (authenticated by X-Telegram-Bot-Api-Secret-Token)",
)
async def post_update(
    channel_id: str,
    request: Request,
    app: Annotated[App, Depends(get_app)],
    x_telegram_bot_api_secret_token: Annotated[str | None, Header()] = None,
) -> Json:
    channel = _verified(app, channel_id, x_telegram_bot_api_secret_token)
    try:
        update = TgUpdate.model_validate_json(await request.body())
    except ValidationError as exc:
        errs = [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
            for e in exc.errors(include_url=False)
        ]
        return Json(
            {"error": "validation_error", "message": "the update is not valid", "errors": errs},
            status_code=422,
        )
    msg = to_inbound(update)
    if msg is None:
        # Answered 200 so Telegram does not retry an update we have no use for.
        return Json({"ok": True, "stored": False})
    got = await run_in_threadpool(inbound.receive, app, channel.id, msg)
    return Json({"ok": True, "stored": not got.duplicate, "duplicate": got.duplicate})
