"""Who a visitor is: the visitor token Amity signs, and the identity token the customer's website signs.

A visitor token is an itsdangerous signature (the app's secret key, its own salt) over the channel id,
the visitor id and, for a visitor the website vouched for, a keyed digest of who they are. It carries
no personal data, because it travels in a WebSocket URL and URLs end up in logs.

An identity token is made by the customer's website, server-side, with the channel's
``identity_secret``: ``<base64url(JSON)>.<hex HMAC-SHA256 over the base64url text>`` (docs/channels/chat.md).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

import orjson
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from amity.channels.base import Address
from amity.core.actions import ActionError, App, Invalid
from amity.core.inputs import NUL_MESSAGE, nul_paths
from amity.customers.identities import IdentifierError, IdentityPolicy
from amity.ids import new_id

SALT = "amity.chat.visitor"
# A visitor comes back for months; the widget renews its token on every page load (POST …/session).
VISITOR_MAX_AGE = 90 * 24 * 3600
_B32 = "0123456789abcdefghjkmnpqrstvwxyz"  # the alphabet of amity.ids, so both kinds of id look alike
_VISITOR_ID = re.compile(r"^vis_[0-9a-hjkmnp-tv-z]{26}$")
SITE_SYSTEM = "external:site"


@dataclass(frozen=True)
class Visitor:
    channel_id: str
    visitor_id: str
    # Keyed digest of the identities the website vouched for; None for an anonymous visitor.
    identity: str | None = None

    @property
    def verified(self) -> bool:
        return self.identity is not None

    @property
    def address(self) -> Address:
        return Address("device", device_value(self.visitor_id))


def device_value(visitor_id: str) -> str:
    return f"chat-{visitor_id}"


def visitor_of_device(value: str) -> str | None:
    vid = value.removeprefix("chat-")
    return vid if value.startswith("chat-") and _VISITOR_ID.match(vid) else None


def new_visitor(channel_id: str) -> Visitor:
    return Visitor(channel_id, new_id("vis"))


def verified_visitor(key: str, channel_id: str, identity: str) -> Visitor:
    """A person the website vouches for has one visitor id per channel, whichever browser they use, so
    a reply reaches all their open tabs and signing in again adds no new device identity."""
    mac = hmac.new(key.encode(), f"{SALT}\x1f{channel_id}\x1f{identity}".encode(), hashlib.sha256).digest()
    n = int.from_bytes(mac[:17], "big")  # 136 bits, of which 130 fill 26 base32 characters
    return Visitor(channel_id, "vis_" + "".join(_B32[(n >> (5 * i)) & 31] for i in range(26)), identity)


def _signer(app: App) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app.cache["secret_key"], salt=SALT)


def issue(app: App, visitor: Visitor) -> str:
    return _signer(app).dumps({"c": visitor.channel_id, "v": visitor.visitor_id, "i": visitor.identity})


def read_visitor(app: App, token: str | None, channel_id: str) -> Visitor | None:
    """The visitor a token names, or None when it is missing, forged, expired or for another channel."""
    if not token or len(token) > 1000:
        return None
    try:
        data = _signer(app).loads(token, max_age=VISITOR_MAX_AGE)
    except BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(data, dict) or data.get("c") != channel_id:
        return None  # a token of one channel (brand) opens no other
    vid, identity = data.get("v"), data.get("i")
    if not isinstance(vid, str) or not _VISITOR_ID.match(vid):
        return None
    if identity is not None and not isinstance(identity, str):
        return None
    return Visitor(channel_id, vid, identity)


# ---- the website's identity token -----------------------------------------------------------------
class _Claims(BaseModel):
    # Unknown claims (iat, iss …) are ignored, as JWT libraries do, so sites can reuse their helpers.
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    email: str | None = Field(default=None, max_length=320)
    external_id: str | None = Field(default=None, min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    exp: float = Field(strict=True, description="Unix time (seconds) after which the token is refused")


@dataclass(frozen=True)
class SiteIdentity:
    email: str | None
    external_id: str | None
    name: str | None

    def identities(self) -> list[Address]:
        out = [Address("email", self.email)] if self.email else []
        return out + ([Address(SITE_SYSTEM, self.external_id)] if self.external_id else [])

    def digest(self, key: str) -> str:
        # Keyed, so the digest in a visitor token cannot be matched against a list of known emails.
        text = orjson.dumps([[a.type, a.value] for a in self.identities()])
        return hmac.new(key.encode(), b"amity.chat.identity\x1f" + text, hashlib.sha256).hexdigest()[:32]


def _refused(message: str, field: str = "identity_token") -> ActionError:
    return ActionError(401, "unauthorized", message, field)


def verify_identity(secret: str, token: str, policy: IdentityPolicy, now: dt.datetime) -> SiteIdentity:
    payload, sep, mac = token.strip().rpartition(".")
    if not sep or not payload or not mac:
        raise Invalid("expected <base64url JSON>.<hex HMAC-SHA256>", field="identity_token")
    if not payload.isascii() or not mac.isascii():
        raise Invalid("an identity token is ASCII (base64url, a dot, hex)", field="identity_token")
    expected = hmac.new(secret.encode(), payload.encode("ascii"), hashlib.sha256).hexdigest()
    # The signature is checked before the payload is read: an unsigned payload is never parsed.
    if not hmac.compare_digest(expected, mac.lower()):
        raise _refused("the identity token's signature does not match this channel's identity_secret")
    try:
        raw: Any = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError):
        raise Invalid("the payload is not base64url-encoded JSON", field="identity_token") from None
    if not isinstance(raw, dict):
        raise Invalid("the payload must be a JSON object", field="identity_token")
    if (bad := next(nul_paths(raw), None)) is not None:
        raise Invalid(NUL_MESSAGE, field=f"identity_token.{bad}" if bad else "identity_token")
    try:
        claims = _Claims.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Invalid(first["msg"], field=f"identity_token.{where}") from None
    if claims.exp < now.timestamp():
        when = dt.datetime.fromtimestamp(claims.exp, dt.UTC).isoformat()
        raise _refused(f"the identity token expired at {when}", "identity_token.exp")
    if not claims.email and not claims.external_id:
        raise Invalid("an identity token names an email, an external_id or both", field="identity_token")
    email = _checked(policy, "email", claims.email)
    external = _checked(policy, SITE_SYSTEM, claims.external_id)
    name = " ".join(claims.name.split()) if claims.name else None
    return SiteIdentity(email, external, name or None)


def _checked(policy: IdentityPolicy, type_: str, value: str | None) -> str | None:
    if not value:
        return None
    where = f"identity_token.{'email' if type_ == 'email' else 'external_id'}"
    try:
        norm, blocked = policy.classify(type_, value)
    except IdentifierError as exc:
        raise Invalid(exc.message, field=where) from None
    if blocked:
        # Placeholders are never matched (docs/identity-resolution.md): the visitor would stay anonymous.
        raise Invalid(f"'{value}' is a placeholder value that never identifies anyone", field=where)
    return norm
