"""Magic links to the preference centre: signed, expiring, sent only to an address the person has
already written to us from (docs/privacy.md, "Preference centre").

Asking for a link always gets the same answer, whether or not anyone has that address: the lookup
and the sending happen in a job, so neither the page nor its timing tells who is a customer.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from amity.channels import registry
from amity.channels.base import Address, DeliveryError, Outbound
from amity.channels.models import Channel
from amity.conversations import privacy as conversation_data
from amity.core.actions import ActionContext, Actor, App, perform
from amity.customers import queries as customer_queries
from amity.customers.identities import IdentifierError, check_type
from amity.customers.models import Identity
from amity.customers.service import policy
from amity.privacy import tombstones
from amity.privacy.request_models import Tombstone

log = logging.getLogger(__name__)

LINK_SALT = "amity.privacy.link"
SESSION_SALT = "amity.privacy.session"
LINK_MAX_AGE = 30 * 60  # a link works for half an hour
SESSION_MAX_AGE = 30 * 60  # and the page it opens stays open as long, from opening it
RESEND_SECONDS = 120  # one link per address per two minutes: nobody can flood an inbox through us
KINDS = ("email", "phone")


@dataclass(frozen=True)
class Opened:
    customer_id: str
    via: str  # "email" | "phone": how the person proved who they are


def _signer(app: App, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app.cache["secret_key"], salt=salt)


def make_link_token(app: App, customer_id: str, via: str) -> str:
    return _signer(app, LINK_SALT).dumps({"c": customer_id, "v": via, "n": secrets.token_hex(4)})


def read_token(app: App, token: str, salt: str, max_age: int) -> Opened | str:
    """The person a token opens for, or why not: "expired" or "invalid"."""
    try:
        data = _signer(app, salt).loads(token, max_age=max_age)
    except SignatureExpired:
        return "expired"
    except BadSignature:
        return "invalid"
    if not isinstance(data, dict) or not isinstance(data.get("c"), str) or data.get("v") not in KINDS:
        return "invalid"
    cid = data["c"]
    with app.db.read() as s:
        try:
            live = customer_queries.resolve_customer(s, cid)
        except Exception:
            return "invalid"
        secret = str(app.cache["secret_key"])
        buried = s.scalar(
            select(Tombstone.id).where(
                Tombstone.digest == tombstones.digest(secret, tombstones.CUSTOMER_ID, live),
                Tombstone.lifted_at.is_(None),
            )
        )
    if buried is not None:
        return "invalid"  # erased since the link was sent: nothing left to show
    return Opened(live, data["v"])


def session_token(app: App, opened: Opened) -> str:
    return _signer(app, SESSION_SALT).dumps({"c": opened.customer_id, "v": opened.via})


def available(app: App) -> dict[str, bool]:
    """Which kinds of address a link can be sent to at all: some enabled channel must reach them."""
    out = dict.fromkeys(KINDS, False)
    with app.db.read() as s:
        channels = list(s.scalars(select(Channel).where(Channel.enabled.is_(True))))
    for c in channels:
        try:
            kind = registry.kind(c.type)
        except Exception:  # an adapter this installation does not ship: it sends nothing
            log.debug("channel type %s not available", c.type)
            continue
        if kind.transport is None:
            continue
        for k in KINDS:
            if k in kind.reaches and c.type != "api":  # an API channel reaches a system, not a person
                out[k] = True
    return out


def normalise(app: App, kind: str, raw: str) -> str | None:
    try:
        value, blocked = policy(app).classify(check_type(kind), raw.strip())
    except IdentifierError:
        return None
    return None if blocked else value


def _record(ctx: ActionContext, customer_id: str, channel_id: str, via: str) -> None:
    ctx.audit("privacy.link.sent", "customer", customer_id, channel_id=channel_id, via=via)


def _throttled(app: App, kind: str, value: str) -> bool:
    recent: dict[str, float] = app.cache.setdefault("privacy.links.recent", {})
    key = tombstones.digest(str(app.cache["secret_key"]), kind, value)
    now = time.monotonic()
    for k, t in list(recent.items()):
        if now - t > RESEND_SECONDS:
            del recent[k]
    if key in recent:
        return True
    recent[key] = now
    return False


def send_link(app: App, kind: str, value: str) -> str:
    """The job: find who writes from this address, and send them a link there. Returns what
    happened, for the logs and tests only (never shown to the asker)."""
    if _throttled(app, kind, value):
        return "throttled"
    with app.db.read() as s:
        cid = s.scalar(select(Identity.customer_id).where(Identity.type == kind, Identity.value == value))
        if cid is None:
            return "unknown"
        ids = customer_queries.profile_ids(s, cid)
        channel_ids = conversation_data.written_from(s, ids, kind, value)
        channels = [c for c in (s.get(Channel, i) for i in channel_ids) if c is not None]
    for channel in channels:
        try:
            kind_ = registry.kind(channel.type)
        except Exception:  # an adapter this installation does not ship: it sends nothing
            log.debug("channel type %s not available", channel.type)
            continue
        if kind_.transport is None or channel.type == "api" or kind not in kind_.reaches:
            continue
        url = f"{app.settings.base_url}/privacy/open?token={make_link_token(app, ids[0], kind)}"
        message = _message(channel, Address(kind, value), url)
        try:
            registry.transport_for(app, channel.type, channel.id, channel.config).send(message)
        except DeliveryError:
            log.warning("privacy link to a customer failed on channel %s", channel.id, exc_info=True)
            continue
        perform(app, Actor("system", "privacy", "admin", "Privacy"), _record, ids[0], channel.id, kind)
        return "sent"
    return "no_channel"


def _message(channel: Channel, to: Address, url: str) -> Outbound:
    minutes = LINK_MAX_AGE // 60
    text = (
        "You asked to see or change what we keep about you.\n\n"
        f"Open this link within {minutes} minutes:\n{url}\n\n"
        "If you did not ask for it, ignore this message: nothing changes unless the link is opened."
    )
    nonce = secrets.token_hex(8)
    return Outbound(
        message_id=f"privacy-{nonce}",
        conversation_id="",
        channel_id=channel.id,
        channel_type=channel.type,
        config=channel.config,
        to=to,
        text=text,
        html=None,
        subject="Your privacy link",
        idempotency_key=nonce,
    )
