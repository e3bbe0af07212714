"""Optional TOTP two-factor sign-in (RFC 6238 through pyotp): enrol, confirm, check, recovery codes.

Enrolling stores a new secret unconfirmed; the person adds it to an authenticator app (otpauth URI
or the key typed in) and proves it with a code, which turns it on and hands out ten recovery codes
once (only their sha256 is kept: they are 80-bit random, so a fast hash is enough). A code is
accepted for the current 30-second step and one step either side (clock drift), and never twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

import pyotp
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from amity.accounts.models import RecoveryCode, User, UserTotp
from amity.core.actions import ActionContext, Conflict, Invalid, NotFound
from amity.db import utcnow

ISSUER = "Amity"
RECOVERY_CODES = 10
_CODE = re.compile(r"^\d{6}$")


def _hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").lower().encode()).hexdigest()


def enabled(session: Session, user_id: str) -> bool:
    t = session.get(UserTotp, user_id)
    return t is not None and t.confirmed_at is not None


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def start(ctx: ActionContext, user_id: str) -> str:
    """A fresh secret for the person to add to their app; replaces an unfinished enrolment."""
    user = ctx.session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}", field="user_id")
    existing = ctx.session.get(UserTotp, user_id)
    if existing is not None and existing.confirmed_at is not None:
        raise Conflict("two-factor sign-in is already on; an admin can reset it", field="totp")
    secret = pyotp.random_base32()
    if existing is None:
        ctx.session.add(UserTotp(user_id=user_id, secret=secret))
    else:
        existing.secret, existing.created_at, existing.last_step = secret, utcnow(), None
    ctx.audit("user.totp_started", "user", user_id)
    return secret


def _step_of(totp: pyotp.TOTP, code: str, at: dt.datetime, last: int | None) -> int | None:
    now_step = int(at.timestamp()) // totp.interval
    for step in (now_step - 1, now_step, now_step + 1):
        if last is not None and step <= last:
            continue  # replay: this code (or an older one) was used already
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def confirm(ctx: ActionContext, user_id: str, code: str, at: dt.datetime | None = None) -> list[str]:
    """Turn two-factor on with a first code from the app; returns the recovery codes (shown once)."""
    t = ctx.session.get(UserTotp, user_id, with_for_update=True)
    if t is None or t.confirmed_at is not None:
        raise Conflict("start enrolling first", field="code")
    code = code.strip().replace(" ", "")
    step = _step_of(pyotp.TOTP(t.secret), code, at or utcnow(), None) if _CODE.match(code) else None
    if step is None:
        raise Invalid("that code is not the one the app shows now; check the phone's clock", field="code")
    t.confirmed_at, t.last_step = utcnow(), step
    codes = ["-".join(secrets.token_hex(5)[i : i + 5] for i in (0, 5)) for _ in range(RECOVERY_CODES)]
    ctx.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    ctx.session.add_all(RecoveryCode(user_id=user_id, code_hash=_hash(c)) for c in codes)
    ctx.audit("user.totp_enabled", "user", user_id)
    return codes


def check(ctx: ActionContext, user_id: str, code: str, at: dt.datetime | None = None) -> bool:
    """A current authenticator code or an unused recovery code; either is then spent."""
    t = ctx.session.get(UserTotp, user_id, with_for_update=True)
    if t is None or t.confirmed_at is None:
        return False
    code = code.strip().replace(" ", "")
    if _CODE.match(code):
        step = _step_of(pyotp.TOTP(t.secret), code, at or utcnow(), t.last_step)
        if step is None:
            return False
        t.last_step = step
        return True
    if not code or len(code) > 20:
        return False
    spare = ctx.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == _hash(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if spare is None:
        return False
    spare.used_at = utcnow()
    ctx.audit("user.recovery_code_used", "user", user_id)
    return True


def reset(ctx: ActionContext, user_id: str) -> None:
    """An admin turns a person's two-factor off (lost phone and codes); they can enrol again."""
    if ctx.session.get(User, user_id) is None:
        raise NotFound(f"no user {user_id}", field="user_id")
    ctx.session.execute(delete(UserTotp).where(UserTotp.user_id == user_id))
    ctx.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    ctx.audit("user.totp_reset", "user", user_id)


def recovery_left(session: Session, user_id: str) -> int:
    return len(
        session.scalars(
            select(RecoveryCode.id).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        ).all()
    )
