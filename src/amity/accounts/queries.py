"""Who is calling: API token and password checks."""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
from functools import lru_cache

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from amity.accounts.actions import hash_password, hash_secret, verify_password
from amity.accounts.models import ApiToken, User
from amity.core.actions import SYSTEM, ActionContext, Actor, App, perform
from amity.db import utcnow

log = logging.getLogger(__name__)


def token_for(session: Session, token: str) -> tuple[Actor, frozenset[str] | None, dt.datetime | None] | None:
    """The actor a bearer token stands for, its scopes (None: all its role's) and when it was last used.
    None for anything but a live token whose creator, if a person, is not disabled."""
    # amity_<tok_id>_<secret>; the id has one underscore itself (tok_…)
    if not token.startswith("amity_tok_"):
        return None
    rest = token[len("amity_") :]
    token_id, sep, secret = rest[:30], rest[30:31], rest[31:]
    if sep != "_" or not secret:
        return None
    tok = session.get(ApiToken, token_id)
    if tok is None or tok.revoked_at is not None:
        return None
    if not hmac.compare_digest(tok.secret_hash, hash_secret(secret)):
        return None
    kind, _, creator_id = tok.created_by.partition(":")
    if kind == "user":
        creator = session.get(User, creator_id)
        if creator is not None and creator.disabled_at is not None:
            return None  # disabling a person stops the tokens they made, at once (re-enabling restores)
    scopes = frozenset(tok.scopes) if tok.scopes is not None else None
    return Actor(kind="token", id=tok.id, role=tok.role, name=tok.name), scopes, tok.last_used_at


def actor_for_token(session: Session, token: str) -> Actor | None:
    found = token_for(session, token)
    return None if found is None else found[0]


TOUCH_EVERY = dt.timedelta(minutes=1)


def touch_token(app: App, token_id: str, last_used: dt.datetime | None) -> None:
    """Keep last_used_at to the minute: one small write a minute per busy token, not one per request."""
    now = utcnow()
    if last_used is not None and now - last_used < TOUCH_EVERY:
        return
    try:
        perform(app, SYSTEM, _touch, token_id, now)
    except Exception:  # a busy database must not refuse the request itself; the next one tries again
        log.warning("could not record the use of token %s", token_id, exc_info=True)


def _touch(ctx: ActionContext, token_id: str, now: dt.datetime) -> None:
    # No audit row: this is bookkeeping, not a change anyone made.
    ctx.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def user_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def actor_for_user(user: User) -> Actor:
    return Actor(kind="user", id=user.id, role=user.role, name=user.email)


@lru_cache(maxsize=1)
def _decoy() -> User:
    """A user no one can be: checking a password against it costs what a real check costs, so the
    response time does not tell whether an email address has an account."""
    return User(password_hash=hash_password(secrets.token_urlsafe(16)))


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user these credentials belong to, if enabled; the same work is done when there is none."""
    user = user_by_email(session, email)
    if user is None or user.disabled_at is not None:
        verify_password(_decoy(), password)
        return None
    return user if verify_password(user, password) else None


def assignable_user(session: Session, user_id: str) -> bool:
    """Conversations are assigned to people who answer customers, and who still work here."""
    user = session.get(User, user_id)
    return user is not None and user.disabled_at is None and user.role in ("admin", "supervisor", "agent")
