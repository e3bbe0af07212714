"""HMAC request signing shared by the channels that use Amity's own scheme (voice, API channel) and
by outgoing webhooks: ``X-Amity-Signature: sha256=<hex HMAC-SHA256 of the raw body>``."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from amity.channels.models import Channel
from amity.core.actions import App
from amity.web.errors import ApiError

HEADER = "X-Amity-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def valid(secret: str, body: bytes, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(sign(secret, body), given.strip())  # type: ignore[union-attr]


def refuse(why: str = "the signature is missing or wrong") -> ApiError:
    # One answer for an unknown channel and a bad signature: the sender learns nothing about which.
    return ApiError(401, "unauthorized", why, "signature")


def signed_channel(
    app: App, channel_id: str, types: tuple[str, ...], body: bytes, signature: str | None
) -> Channel:
    with app.db.read() as s:
        channel = s.get(Channel, channel_id)
    if channel is None or channel.type not in types:
        raise refuse()
    secret = str(channel.config.get("secret", ""))
    if not secret or not valid(secret, body, signature):
        raise refuse()
    if not channel.enabled:
        raise ApiError(409, "conflict", f"channel '{channel.name}' is disabled", "channel_id")
    return channel


async def raw_body(request: Request) -> bytes:
    return await request.body()
