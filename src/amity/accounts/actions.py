"""Creating people and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from amity.accounts.models import ApiToken, User
from amity.accounts.roles import Role
from amity.core.actions import ActionContext, Conflict, Invalid, NotFound
from amity.db import utcnow
from amity.ids import new_id

_hasher = PasswordHasher()
MIN_PASSWORD = 10


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_role(role: str) -> str:
    try:
        return Role(role).value
    except ValueError:
        raise Invalid(
            f"unknown role '{role}'; one of {', '.join(r.value for r in Role)}", field="role"
        ) from None


def create_user(ctx: ActionContext, email: str, password: str, role: str, name: str = "") -> User:
    try:
        norm = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise Invalid(f"not a valid email address: {exc}", field="email") from None
    role = check_role(role)
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"at least {MIN_PASSWORD} characters", field="password")
    if ctx.session.scalar(select(User.id).where(User.email == norm)):
        raise Conflict(f"a user with email {norm} exists", field="email")
    user = User(id=new_id("usr"), email=norm, name=name, password_hash=hash_password(password), role=role)
    ctx.session.add(user)
    ctx.session.flush()
    ctx.audit("user.created", "user", user.id, email=norm, role=role)
    ctx.publish("user.created", user_id=user.id)
    return user


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except Exception:  # argon2 raises distinct errors for mismatch and malformed hashes; both mean "no"
        return False


def create_token(ctx: ActionContext, name: str, role: str) -> str:
    """Returns the token text; it is shown once and only its hash is kept."""
    role = check_role(role)
    if not name.strip():
        raise Invalid("a token needs a name saying what uses it", field="name")
    token_id = new_id("tok")
    secret = secrets.token_urlsafe(32)
    ctx.session.add(
        ApiToken(
            id=token_id,
            name=name.strip(),
            role=role,
            secret_hash=hash_secret(secret),
            created_by=ctx.actor.label,
        )
    )
    ctx.session.flush()
    ctx.audit("token.created", "token", token_id, name=name, role=role)
    return f"amity_{token_id}_{secret}"


def revoke_token(ctx: ActionContext, token_id: str) -> None:
    tok = ctx.session.get(ApiToken, token_id)
    if tok is None:
        raise NotFound(f"no token {token_id}", field="id")
    tok.revoked_at = utcnow()
    ctx.audit("token.revoked", "token", token_id)
