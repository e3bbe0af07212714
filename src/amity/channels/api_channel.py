"""The API channel: any system (kiosk, mobile app, social-listening feed) posts messages in, signed;
replies are delivered to its configured URL, signed, with retries (docs/channels.md, "API")."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

import httpx2
import orjson
from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from amity.channels import inbound, signing
from amity.channels.base import Address, DeliveryError, Inbound, InboundAttachment, Outbound, Sent
from amity.channels.registry import ChannelKind
from amity.core.actions import App
from amity.core.inputs import Input
from amity.web.auth import get_app
from amity.web.errors import ApiError
from amity.web.responses import Json


class ApiConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: str = Field(min_length=16, max_length=200, description="Signs requests both ways (HMAC-SHA256)")
    outbound_url: HttpUrl | None = Field(default=None, description="Where replies are POSTed")
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)


class FromIn(Input):
    type: str = Field(min_length=1, max_length=80)
    value: str = Field(min_length=1, max_length=1000)


class FileIn(Input):
    filename: str = Field(min_length=1, max_length=300)
    content_base64: str
    content_type: str | None = Field(default=None, max_length=200)


class ApiMessageIn(Input):
    from_: FromIn = Field(alias="from")
    text: str = Field(default="", max_length=100_000)
    html: str | None = Field(default=None, max_length=500_000)
    subject: str | None = Field(default=None, max_length=500)
    name: str | None = Field(default=None, max_length=200, description="The sender's display name")
    external_id: str | None = Field(
        default=None, min_length=1, max_length=500, description="Your id; a retry is stored once"
    )
    conversation_id: str | None = Field(default=None, max_length=40, description="Continue this conversation")
    identities: list[FromIn] = Field(default_factory=list, max_length=10)
    attachments: list[FileIn] = Field(default_factory=list, max_length=20)


class HttpTransport:
    """POSTs a reply to the channel's ``outbound_url``; 2xx is sent, 4xx is final, the rest is retried."""

    def __init__(self, config: dict[str, Any], client: httpx2.Client | None = None) -> None:
        self.config = config
        self.client = client or httpx2.Client(timeout=float(config.get("timeout_seconds", 10.0)))

    def send(self, message: Outbound) -> Sent:
        url = self.config.get("outbound_url")
        if not url:
            raise DeliveryError("this API channel has no outbound_url to deliver to", permanent=True)
        body = orjson.dumps(
            {
                "message_id": message.message_id,
                "conversation_id": message.conversation_id,
                "reply_token": message.reply_token,
                "to": message.to.as_dict(),
                "subject": message.subject,
                "text": message.text,
                "html": message.html,
                "attachments": [
                    {
                        "filename": a.filename,
                        "content_type": a.content_type,
                        "content_base64": base64.b64encode(a.data).decode(),
                    }
                    for a in message.attachments
                ],
            }
        )
        headers = {
            "Content-Type": "application/json",
            signing.HEADER: signing.sign(str(self.config["secret"]), body),
            "Idempotency-Key": message.idempotency_key,  # the receiver drops a re-send after a crash
        }
        try:
            r = self.client.post(str(url), content=body, headers=headers)
        except httpx2.HTTPError as exc:
            raise DeliveryError(f"could not reach {url}: {exc}") from None
        if r.status_code >= 400:
            permanent = r.status_code < 500 and r.status_code not in (408, 425, 429)
            raise DeliveryError(f"{url} answered {r.status_code}: {r.text[:300]}", permanent=permanent)
        try:
            ext = r.json().get("id") if r.content else None
        except ValueError:
            ext = None
        return Sent(external_id=str(ext) if ext else None)


def _transport(app: App, channel_id: str, config: dict[str, Any]) -> HttpTransport:
    return HttpTransport(config)


KINDS = [
    ChannelKind(
        type="api",
        reaches=("email", "phone", "device"),
        config_model=ApiConfig,
        transport=_transport,
        webhook="api",
        secret_fields=("secret",),
    )
]

router = APIRouter(tags=["webhooks"])


@router.post(
    "/hooks/{channel_id}/api",
    summary="API channel: a system posts an inbound message (X-Amity-Signature over the raw body)",
)
async def post_inbound(
    channel_id: str,
    request: Request,
    app: Annotated[App, Depends(get_app)],
    x_amity_signature: Annotated[str | None, Header()] = None,
) -> Json:
    body = await request.body()
    channel = signing.signed_channel(app, channel_id, ("api",), body, x_amity_signature)
    try:
        data = ApiMessageIn.model_validate_json(body)
    except ValidationError as exc:
        errs = [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
            for e in exc.errors(include_url=False)
        ]
        return Json(
            {"error": "validation_error", "message": "the message is not valid", "errors": errs},
            status_code=422,
        )
    files = []
    for i, f in enumerate(data.attachments):
        try:
            files.append(
                InboundAttachment(
                    f.filename, base64.b64decode(f.content_base64, validate=True), f.content_type
                )
            )
        except (binascii.Error, ValueError):
            raise ApiError(
                422, "validation_error", "not valid base64", f"attachments[{i}].content_base64"
            ) from None
    msg = Inbound(
        sender=Address(data.from_.type, data.from_.value),
        identities=[Address(i.type, i.value) for i in data.identities],
        text=data.text,
        html=data.html,
        subject=data.subject,
        sender_name=data.name,
        external_id=data.external_id,
        conversation_hint=data.conversation_id,
        attachments=files,
    )
    from starlette.concurrency import run_in_threadpool

    got = await run_in_threadpool(lambda: inbound.receive(app, channel.id, msg, channel=channel))
    return Json(
        {
            "message_id": got.message_id,
            "conversation_id": got.conversation_id,
            "customer_id": got.customer_id,
            "duplicate": got.duplicate,
            "refused_attachments": got.refused_attachments,
        },
        status_code=200 if got.duplicate else 201,
    )
