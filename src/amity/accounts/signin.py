"""Signing in, step by step, for the web form and ``POST /api/v1/session`` alike.

1. Is the account or the address locked out? Then refuse with the time left, without checking anything.
2. Email + password (argon2; a decoy hash when there is no such account, so timing tells nothing).
3. If the person has two-factor on, a code from their app or a recovery code.
Every failure counts towards the lockout and is audited; so are lockouts and successes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from amity.accounts import throttle, totp
from amity.accounts.models import User
from amity.accounts.queries import authenticate, user_by_email
from amity.core.actions import Actor, App, perform
from amity.db import utcnow

Kind = Literal["ok", "wrong", "locked", "code_needed", "code_wrong"]


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    user: User | None = None
    retry_after: int | None = None  # seconds, for "locked"


def visitor(address: str | None) -> Actor:
    """Who is acting before sign-in: the client address, which is all we know."""
    return Actor(kind="visitor", id=(address or "unknown")[:64], role="none")


def _locked(app: App, keys: throttle.Keys, address: str | None, email: str) -> Outcome | None:
    now = utcnow()
    with app.db.read() as s:
        wait = throttle.retry_after(s, keys, now)
        known = user_by_email(s, email) if wait else None
    if wait is None:
        return None
    perform(app, visitor(address), throttle.record_refusal, keys, known.id if known else None, wait)
    return Outcome("locked", retry_after=wait)


def _failed(app: App, keys: throttle.Keys, address: str | None, user_id: str | None, why: str) -> None:
    perform(app, visitor(address), throttle.record_failure, keys, utcnow(), user_id, why)


def password_step(app: App, email: str, password: str, address: str | None) -> Outcome:
    keys = throttle.Keys.of(email, address)
    locked = _locked(app, keys, address, email)
    if locked is not None:
        return locked
    with app.db.read() as s:
        user = authenticate(s, email, password)
        known = user_by_email(s, email) if user is None else None
        needs_code = user is not None and totp.enabled(s, user.id)
        if user is not None:
            s.expunge(user)
    if user is None:
        why = "unknown email" if known is None else ("disabled" if known.disabled_at else "wrong password")
        _failed(app, keys, address, known.id if known else None, why)
        return Outcome("wrong")
    if needs_code:
        return Outcome("code_needed", user)
    perform(app, visitor(address), throttle.record_success, keys, user.id)
    return Outcome("ok", user)


def code_step(app: App, user: User, code: str, address: str | None) -> Outcome:
    """The second step, for someone who has just given the right password."""
    keys = throttle.Keys.of(user.email, address)
    locked = _locked(app, keys, address, user.email)
    if locked is not None:
        return locked
    if not perform(app, visitor(address), totp.check, user.id, code):
        _failed(app, keys, address, user.id, "wrong second-factor code")
        return Outcome("code_wrong", user)
    perform(app, visitor(address), throttle.record_success, keys, user.id)
    return Outcome("ok", user)
