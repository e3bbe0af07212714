"""Password reset by an emailed, expiring, single-use link.

Asking for a reset answers the same whether or not the address has an account, and takes the same
time: the mail goes out from a background thread. The link carries a 256-bit token; only its sha256
is stored. Setting the new password spends the token (and every other outstanding one of that
person), and ends all their sessions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import smtplib
import socket
import threading
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from amity.accounts.actions import MIN_PASSWORD, hash_password
from amity.accounts.models import LoginThrottle, PasswordReset, User
from amity.accounts.throttle import Keys
from amity.channels.email.config import RelayError, parse_relay
from amity.config import Settings
from amity.core.actions import ActionContext, Invalid
from amity.db import utcnow
from amity.ids import new_id

log = logging.getLogger(__name__)
RESET_TTL = dt.timedelta(minutes=30)
SPENT = "This reset link has expired or was already used. Ask for a new one."


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request(ctx: ActionContext, email: str, now: dt.datetime | None = None) -> tuple[str, str] | None:
    """(address, token) to mail when an enabled account has this email; None otherwise. The caller
    answers the same either way."""
    now = now or utcnow()
    user = ctx.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or user.disabled_at is not None:
        ctx.audit("password_reset.requested", "user", "unknown", sent=False)
        return None
    token = secrets.token_urlsafe(32)
    ctx.session.add(
        PasswordReset(
            id=new_id("pwr"),
            user_id=user.id,
            token_hash=_hash(token),
            created_at=now,
            expires_at=now + RESET_TTL,
        )
    )
    ctx.audit("password_reset.requested", "user", user.id, sent=True)
    return user.email, token


def valid(session: Session, token: str, now: dt.datetime | None = None) -> bool:
    """Whether the link still works (for showing the form; only ``complete`` spends it)."""
    row = session.scalar(select(PasswordReset).where(PasswordReset.token_hash == _hash(token)))
    return row is not None and row.used_at is None and row.expires_at > (now or utcnow())


def complete(ctx: ActionContext, token: str, password: str, now: dt.datetime | None = None) -> User:
    now = now or utcnow()
    row = ctx.session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == _hash(token)).with_for_update()
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise Invalid(SPENT, field="token")
    user = ctx.session.get(User, row.user_id)
    if user is None or user.disabled_at is not None:
        raise Invalid(SPENT, field="token")
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"at least {MIN_PASSWORD} characters", field="password")
    if len(password) > 1000:
        raise Invalid("at most 1000 characters", field="password")
    user.password_hash = hash_password(password)
    user.session_epoch += 1  # every session, including one an attacker may hold, ends now
    ctx.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    # A fresh password deserves a fresh start: the lockout on this account is lifted.
    ctx.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == Keys.of(user.email, None).account)
        .values(failures=0, locked_until=None)
    )
    ctx.audit("password_reset.completed", "user", user.id)
    ctx.publish("user.password_changed", user_id=user.id)
    return user


# ---- the mail ------------------------------------------------------------------------------------
def message(settings: Settings, to: str, token: str) -> EmailMessage:
    link = f"{settings.base_url}/login/reset?token={token}"
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = "Reset your Amity password"
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2] or "amity.local")
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders must not answer it
    minutes = int(RESET_TTL.total_seconds() // 60)
    msg.set_content(
        "Someone (hopefully you) asked to reset the password of your Amity account.\n\n"
        f"Choose a new password here (the link works once, for {minutes} minutes):\n\n{link}\n\n"
        "If you did not ask for this, ignore this mail: your password stays as it is.\n"
    )
    return msg


def send(settings: Settings, msg: EmailMessage) -> None:
    """Through AMITY_SMTP_RELAY; failures are logged (the person can ask again), never shown."""
    if not settings.smtp_relay:
        log.error("password reset mail not sent: AMITY_SMTP_RELAY is not set")
        return
    try:
        host, port = parse_relay(settings.smtp_relay)
    except RelayError as exc:
        log.error("password reset mail not sent: AMITY_SMTP_RELAY: %s", exc)
        return
    try:
        with smtplib.SMTP(host, port, timeout=30, local_hostname=socket.gethostname()) as smtp:
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        log.error("password reset mail to the relay %s:%s failed: %s", host, port, exc)


def send_later(settings: Settings, to: str, token: str) -> threading.Thread:
    """Mail in the background, so an address with an account answers as fast as one without."""
    thread = threading.Thread(target=send, args=(settings, message(settings, to, token)), daemon=True)
    thread.start()
    return thread
