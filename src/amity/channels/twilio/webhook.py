"""What Twilio posts to us: incoming SMS/WhatsApp messages and outbound status callbacks.

Both arrive form-encoded and signed (``X-Twilio-Signature``, see :mod:`.signature`) over the public
URL we gave Twilio: the channel's ``webhook_url`` (``/hooks/{channel_id}/twilio``) for messages and
that URL + ``/status`` for status callbacks. A status callback posted to the message URL (a Messaging
Service configured with one URL for both) is recognised by its ``MessageStatus`` and handled alike.
Every accepted post is answered with empty TwiML, so Twilio neither retries nor replies by itself.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Header, Request
from pydantic import ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from amity.channels import inbound, signing
from amity.channels.base import Address, Inbound
from amity.channels.models import Channel
from amity.channels.queries import webhook_url
from amity.channels.twilio import signature
from amity.conversations.delivery import record_status
from amity.core.actions import App, perform
from amity.core.inputs import NUL, Input
from amity.web.auth import get_app
from amity.web.errors import ApiError
from amity.web.responses import Json

TYPES = ("sms", "whatsapp")
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_MEDIA = 10  # Twilio attaches at most ten media items to one message
# Inbound messages carry these states; everything else in MessageStatus describes one we sent.
INBOUND_STATES = {"received", "receiving"}
# Twilio's MessageStatus -> record_status; states not listed (queued, sending, accepted, scheduled,
# read, partially_delivered, and any Twilio adds later) change nothing we show.
STATUS_MAP = {"sent": "sent", "delivered": "delivered", "undelivered": "failed", "failed": "failed"}
# What the common ErrorCodes of a status callback mean, so the agent reads a reason, not a number.
ERRORS = {
    "21211": "invalid 'To' number",
    "21408": "sending to this region is not enabled on the account",
    "21610": "the recipient has opted out (replied STOP)",
    "21612": "Twilio cannot route to this number",
    "21614": "the number is not a mobile number",
    "30003": "unreachable destination handset",
    "30004": "message blocked by the recipient or carrier",
    "30005": "unknown destination handset",
    "30006": "landline or unreachable carrier",
    "30007": "filtered by the carrier",
    "30008": "unknown error from the carrier",
    "63016": "outside WhatsApp's 24-hour window: a template is needed",
}

router = APIRouter(tags=["webhooks"])
FORM_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {
                        k: {"type": "string"}
                        for k in (
                            "MessageSid",
                            "From",
                            "To",
                            "Body",
                            "NumMedia",
                            "MessageStatus",
                            "ErrorCode",
                        )
                    },
                }
            }
        },
    }
}


class _Form(Input):
    # Twilio adds parameters without notice: unknown ones are ignored, not refused.
    model_config = ConfigDict(extra="ignore")


class MessageIn(_Form):
    message_sid: str = Field(alias="MessageSid", pattern=r"^[A-Za-z0-9]{2,64}$")
    from_: str = Field(alias="From", min_length=1, max_length=100)
    to: str = Field(default="", alias="To", max_length=100)
    body: str = Field(default="", alias="Body", max_length=100_000)
    num_media: int = Field(default=0, alias="NumMedia", ge=0, le=MAX_MEDIA)
    profile_name: str | None = Field(default=None, alias="ProfileName", max_length=200)
    wa_id: str | None = Field(default=None, alias="WaId", max_length=40)
    opt_out_type: str | None = Field(default=None, alias="OptOutType", max_length=20)
    num_segments: int | None = Field(default=None, alias="NumSegments", ge=0, le=10_000)
    latitude: float | None = Field(default=None, alias="Latitude", ge=-90, le=90)
    longitude: float | None = Field(default=None, alias="Longitude", ge=-180, le=180)
    address: str | None = Field(default=None, alias="Address", max_length=500)
    label: str | None = Field(default=None, alias="Label", max_length=500)


class StatusIn(_Form):
    message_sid: str = Field(alias="MessageSid", pattern=r"^[A-Za-z0-9]{2,64}$")
    message_status: str = Field(alias="MessageStatus", min_length=1, max_length=40)
    error_code: str | None = Field(default=None, alias="ErrorCode", max_length=20)
    error_message: str | None = Field(default=None, alias="ErrorMessage", max_length=1000)


def _invalid(exc: ValidationError) -> Json:
    errs = [
        {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
        for e in exc.errors(include_url=False)
    ]
    return Json(
        {"error": "validation_error", "message": "the Twilio request is not valid", "errors": errs},
        status_code=422,
    )


def _signed(
    app: App, channel_id: str, request: Request, params: list[tuple[str, str]], given: str | None, suffix: str
) -> Channel:
    with app.db.read() as s:
        channel = s.get(Channel, channel_id)
    if channel is None or channel.type not in TYPES:
        raise signing.refuse()
    url = f"{webhook_url(app.settings.base_url, channel)}{suffix}"
    query = request.scope.get("query_string", b"").decode("latin-1")
    if query:
        url += "?" + query  # Twilio signs the URL it requested, query string included
    if not signature.valid(str(channel.config.get("auth_token", "")), url, params, given):
        raise signing.refuse()
    if not channel.enabled:
        raise ApiError(409, "conflict", f"channel '{channel.name}' is disabled", "channel_id")
    return channel


def _no_nul(params: list[tuple[str, str]]) -> None:
    for name, value in params:
        if NUL in name or NUL in value:
            raise ApiError(
                422, "invalid", "must not contain a NUL (U+0000) character", name.strip(NUL) or "body"
            )


def _media(fields: dict[str, str], count: int) -> list[dict[str, str]]:
    """The media Twilio holds for the message, by URL: recorded, never fetched here."""
    out = []
    for i in range(count):
        url = fields.get(f"MediaUrl{i}")
        if url:
            item = {"url": url[:2000]}
            if ctype := fields.get(f"MediaContentType{i}"):
                item["content_type"] = ctype[:200]
            out.append(item)
    return out


def to_inbound(channel: Channel, data: MessageIn, fields: dict[str, str]) -> Inbound:
    sender = data.from_.strip()
    if sender.lower().startswith("whatsapp:"):
        sender = sender[len("whatsapp:") :]
    details: dict[str, object] = {"to": data.to}
    for key, value in (
        ("wa_id", data.wa_id),
        ("opt_out_type", data.opt_out_type),
        ("num_segments", data.num_segments),
    ):
        if value is not None:
            details[key] = value
    meta: dict[str, object] = {"twilio": details}
    if media := _media(fields, data.num_media):
        meta["media"] = media
    if data.latitude is not None and data.longitude is not None:
        meta["location"] = {
            "latitude": data.latitude,
            "longitude": data.longitude,
            **({"address": data.address} if data.address else {}),
            **({"label": data.label} if data.label else {}),
        }
    return Inbound(
        sender=Address("phone", sender),
        text=data.body,
        sender_name=data.profile_name,
        external_id=data.message_sid,
        meta=meta,
    )


def _reason(data: StatusIn) -> str:
    parts = [data.message_status]
    if data.error_code:
        known = ERRORS.get(data.error_code)
        parts.append(f"Twilio error {data.error_code}" + (f": {known}" if known else ""))
    if data.error_message:
        parts.append(data.error_message)
    return " — ".join(parts)


def apply_status(app: App, channel: Channel, data: StatusIn) -> str | None:
    status = STATUS_MAP.get(data.message_status.lower())
    if status is None:
        return None
    reason = _reason(data) if status == "failed" else None
    # A callback for a message we do not know (sent by another system from the same number, or one
    # that raced our own record of the send) matches nothing and changes nothing.
    return perform(
        app, inbound.channel_actor(channel), record_status, channel.id, data.message_sid, status, reason
    )


def twiml() -> Response:
    return Response(TWIML, media_type="text/xml")


async def _handle(
    app: App, channel_id: str, request: Request, given: str | None, *, status_only: bool
) -> Response:
    raw = await request.body()
    params = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    channel = _signed(app, channel_id, request, params, given, "/status" if status_only else "")
    _no_nul(params)
    fields = dict(params)
    if status_only or fields.get("MessageStatus", "").lower() not in {"", *INBOUND_STATES}:
        try:
            st = StatusIn.model_validate(fields)
        except ValidationError as exc:
            return _invalid(exc)
        await run_in_threadpool(apply_status, app, channel, st)
        return twiml()
    try:
        data = MessageIn.model_validate(fields)
    except ValidationError as exc:
        return _invalid(exc)
    await run_in_threadpool(inbound.receive, app, channel.id, to_inbound(channel, data, fields))
    return twiml()


@router.post(
    "/hooks/{channel_id}/twilio",
    summary="SMS/WhatsApp: Twilio posts an incoming message (signed with X-Twilio-Signature)",
    response_class=Response,
    openapi_extra=FORM_BODY,
)
async def post_message(
    channel_id: str,
    request: Request,
    app: Annotated[App, Depends(get_app)],
    x_twilio_signature: Annotated[str | None, Header()] = None,
) -> Response:
    return await _handle(app, channel_id, request, x_twilio_signature, status_only=False)


@router.post(
    "/hooks/{channel_id}/twilio/status",
    summary="SMS/WhatsApp: Twilio reports a sent message's status (signed with X-Twilio-Signature)",
    response_class=Response,
    openapi_extra=FORM_BODY,
)
async def post_status(
    channel_id: str,
    request: Request,
    app: Annotated[App, Depends(get_app)],
    x_twilio_signature: Annotated[str | None, Header()] = None,
) -> Response:
    return await _handle(app, channel_id, request, x_twilio_signature, status_only=True)
