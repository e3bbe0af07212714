"""Creating people and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from amity.accounts.models import ApiToken, User
from amity.accounts.roles import MATRIX, Perm, Role
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


def check_scopes(role: str, scopes: list[str] | None) -> list[str] | None:
    """None keeps every permission of the role; a list must name some of them, and only those."""
    if scopes is None:
        return None
    granted = MATRIX[Role(role)]
    wanted = sorted({s.strip() for s in scopes if s.strip()})
    if not wanted:
        raise Invalid("name at least one scope, or leave scopes out for all of the role's", field="scopes")
    known = {p.value for p in Perm}
    for scope in wanted:
        if scope not in known:
            raise Invalid(f"unknown scope '{scope}'; one of {', '.join(sorted(known))}", field="scopes")
        if Perm(scope) not in granted:
            raise Invalid(f"role '{role}' does not have '{scope}', so a token cannot either", field="scopes")
    return wanted


def create_token(ctx: ActionContext, name: str, role: str, scopes: list[str] | None = None) -> str:
    """Returns the token text; it is shown once and only its hash is kept."""
    role = check_role(role)
    if not name.strip():
        raise Invalid("a token needs a name saying what uses it", field="name")
    chosen = check_scopes(role, scopes)
    token_id = new_id("tok")
    secret = secrets.token_urlsafe(32)
    ctx.session.add(
        ApiToken(
            id=token_id,
            name=name.strip(),
            role=role,
            secret_hash=hash_secret(secret),
            created_by=ctx.actor.label,
            scopes=chosen,
        )
    )
    ctx.session.flush()
    ctx.audit("token.created", "token", token_id, name=name, role=role, scopes=chosen)
    return f"amity_{token_id}_{secret}"


def revoke_token(ctx: ActionContext, token_id: str) -> None:
    tok = ctx.session.get(ApiToken, token_id)
    if tok is None:
        raise NotFound(f"no token {token_id}", field="id")
    tok.revoked_at = utcnow()
    ctx.audit("token.revoked", "token", token_id)


def _user(ctx: ActionContext, user_id: str) -> User:
    user = ctx.session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}", field="user_id")
    return user


def end_sessions(ctx: ActionContext, user_id: str, why: str) -> None:
    """Every session cookie issued to the user stops working (the cookie carries the epoch)."""
    user = _user(ctx, user_id)
    user.session_epoch += 1
    ctx.audit("user.sessions_ended", "user", user_id, reason=why)


def disable_user(ctx: ActionContext, user_id: str) -> User:
    """They cannot sign in; their sessions and the API tokens they created stop working at once."""
    user = _user(ctx, user_id)
    if ctx.actor.kind == "user" and ctx.actor.id == user_id:
        raise Conflict("you cannot disable yourself; ask another admin", field="user_id")
    if user.disabled_at is None:
        user.disabled_at = utcnow()
        user.session_epoch += 1
        ctx.audit("user.disabled", "user", user_id, email=user.email)
        ctx.publish("user.disabled", user_id=user_id)
    return user


def enable_user(ctx: ActionContext, user_id: str) -> User:
    user = _user(ctx, user_id)
    if user.disabled_at is not None:
        user.disabled_at = None
        ctx.audit("user.enabled", "user", user_id, email=user.email)
        ctx.publish("user.enabled", user_id=user_id)
    return user
