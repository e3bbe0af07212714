"""Opening a visitor session, and what a visitor says about who they are.

The widget opens a session on every page load, sending the visitor token it kept (localStorage) and,
on pages where the website knows the visitor, an identity token the website signed. Which visitor id
comes back (docs/channels/chat.md, "Sessions"):

- without an identity token, the same anonymous visitor the stored token names, or a new one;
- with an identity token, the person's own visitor id for this channel, the same in every browser:
  an anonymous chat this browser had before signing in joins their profile;
- a new anonymous one when the stored token was verified but the page no longer vouches for anyone
  (signed out): on a shared computer the next person must not continue the last one's chat.

Nothing is stored for an anonymous session: a customer appears only when a visitor writes or says who
they are, so page views alone never fill the customer base.
"""

from __future__ import annotations

from typing import Any

from amity.channels.base import Address
from amity.channels.chat import store, tokens
from amity.channels.models import Channel
from amity.core.actions import ActionError, App, Invalid
from amity.customers.identities import IdentifierError
from amity.customers.service import policy
from amity.db import utcnow


def open_session(
    app: App, channel: Channel, visitor_token: str | None, identity_token: str | None
) -> dict[str, Any]:
    old = None
    if visitor_token is not None:
        old = tokens.read_visitor(app, visitor_token, channel.id)
        if old is None:
            raise ActionError(
                401,
                "unauthorized",
                "the visitor token is invalid, expired or for another channel; open a session without it",
                "visitor_token",
            )
    site = None
    if identity_token is not None:
        secret = channel.config.get("identity_secret")
        if not secret:
            raise Invalid(
                "this channel accepts no identity tokens: it has no identity_secret", field="identity_token"
            )
        site = tokens.verify_identity(str(secret), identity_token, policy(app), utcnow())
    if site is None:
        # Signed out, or never signed in: an anonymous visitor continues; a verified one does not.
        resumed = old is not None and not old.verified
        visitor = old if old is not None and resumed else tokens.new_visitor(channel.id)
    else:
        secret_key = app.cache["secret_key"]
        visitor = tokens.verified_visitor(secret_key, channel.id, site.digest(secret_key))
        resumed = old is not None and old.visitor_id == visitor.visitor_id
        try:
            store.link(app, channel, visitor, site.identities(), verified=True, name=site.name)
            if old is not None and not old.verified and store.has_written(app, old):
                # They chatted before signing in on this browser: that chat joins their profile.
                store.link(app, channel, old, site.identities(), verified=True, name=None)
        except Invalid as exc:
            raise Invalid(exc.message, field="identity_token") from None
    out: dict[str, Any] = {
        "visitor_id": visitor.visitor_id,
        "visitor_token": tokens.issue(app, visitor),
        "expires_in": tokens.VISITOR_MAX_AGE,
        "verified": visitor.verified,
        "resumed": resumed,
    }
    for key in ("greeting", "brand_id"):
        if channel.config.get(key):
            out[key] = channel.config[key]
    return out


def identify(app: App, channel: Channel, visitor: tokens.Visitor, email: str, name: str | None) -> str:
    """The visitor typed their email into the chat: link it (normal identity resolution merges them
    into the customer who has it). Unverified, so it widens neither their history nor their rights;
    the answer is the same whether or not anyone has that email, so it reveals nothing."""
    try:
        norm, blocked = policy(app).classify("email", email)
    except IdentifierError as exc:
        raise Invalid(exc.message, field="email") from None
    if blocked:
        raise Invalid(f"'{email}' is a placeholder, not an address we can answer", field="email")
    clean = " ".join(name.split()) if name else None
    try:
        store.link(app, channel, visitor, [Address("email", norm)], verified=False, name=clean or None)
    except Invalid as exc:
        raise Invalid(exc.message, field="email") from None
    return norm
