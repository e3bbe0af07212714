"""Sign-in throttling: per account and per client address, with exponential backoff, in the database.

A few failures are free (typos happen); after that each failure locks the key for twice as long as
the one before (30 s, 1 min, 2 min … at most an hour). While a key is locked, sign-in is refused before
the password is even checked, with the time left. The account key is a hash of the email as typed,
whether or not an account has that address: a locked-out unknown address looks exactly like a
locked-out real one, so lockouts reveal nothing about who has an account.

The address key uses the TCP peer (``request.client.host``). Behind a reverse proxy that is the
proxy: set the proxy to limit by client, or run uvicorn with ``--proxy-headers`` and a trusted
``--forwarded-allow-ips`` so the peer is the real client.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from amity.accounts.models import LoginThrottle
from amity.core.actions import ActionContext

ACCOUNT_FREE = 5  # failures before the first lock, per account
ADDRESS_FREE = 30  # per client address: an office behind one NAT shares it
BASE_LOCK = dt.timedelta(seconds=30)
MAX_LOCK = dt.timedelta(hours=1)


def _h(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class Keys:
    account: str
    address: str

    @classmethod
    def of(cls, email: str, address: str | None) -> Keys:
        return cls(f"account:{_h(email.strip().lower())}", f"ip:{_h(address or 'unknown')}")

    def free(self, key: str) -> int:
        return ACCOUNT_FREE if key == self.account else ADDRESS_FREE


def retry_after(session: Session, keys: Keys, now: dt.datetime) -> int | None:
    """Seconds until sign-in may be tried again, if either key is locked."""
    rows = session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_([keys.account, keys.address])))
    waits = [(r.locked_until - now).total_seconds() for r in rows if r.locked_until and r.locked_until > now]
    return math.ceil(max(waits)) if waits else None


def lock_for(failures: int, free: int) -> dt.timedelta | None:
    over = failures - free
    if over < 0:
        return None
    span: dt.timedelta = BASE_LOCK * int(2 ** min(over, 20))
    return min(span, MAX_LOCK)


def record_failure(
    ctx: ActionContext, keys: Keys, now: dt.datetime, user_id: str | None, reason: str
) -> int | None:
    """Count a failed attempt on both keys; returns the lock in seconds if this failure set one."""
    locked: int | None = None
    for key in (keys.account, keys.address):
        row = ctx.session.get(LoginThrottle, key, with_for_update=True)
        if row is None:
            row = LoginThrottle(key=key, failures=0)
            ctx.session.add(row)
        row.failures += 1
        row.last_failure_at = now
        span = lock_for(row.failures, keys.free(key))
        if span is not None:
            row.locked_until = now + span
            locked = max(locked or 0, int(span.total_seconds()))
    # The subject is the account when there is one, so an admin sees attacks on a person; the answer
    # to the caller is the same either way.
    subject = user_id or "unknown"
    ctx.audit("login.failed", "user", subject, reason=reason, account_key=keys.account[8:20])
    if locked is not None:
        ctx.audit("login.locked", "user", subject, seconds=locked, account_key=keys.account[8:20])
    return locked


def record_refusal(ctx: ActionContext, keys: Keys, user_id: str | None, seconds: int) -> None:
    ctx.audit("login.refused_locked", "user", user_id or "unknown", retry_after=seconds)


def record_success(ctx: ActionContext, keys: Keys, user_id: str) -> None:
    # The address keeps its count: signing in to one's own account must not reset an attacker's budget.
    ctx.session.execute(delete(LoginThrottle).where(LoginThrottle.key == keys.account))
    ctx.audit("login.succeeded", "user", user_id)


def wait_text(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{math.ceil(seconds / 60)} minutes"
