"""Who is calling: API token and password checks."""

from __future__ import annotations

import hmac
import secrets
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amity.accounts.actions import hash_password, hash_secret, verify_password
from amity.accounts.models import ApiToken, User
from amity.core.actions import Actor


def actor_for_token(session: Session, token: str) -> Actor | None:
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
    return Actor(kind="token", id=tok.id, role=tok.role, name=tok.name)


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
