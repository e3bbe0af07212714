"""People (agents, supervisors, admins) and API tokens for systems."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from amity.db import Base, UTCDateTime, utcnow
from amity.privacy.models import BigIntPK


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Part of every session cookie: raising it (password reset, disabling) ends every session at once.
    session_epoch: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    # The token is ``amity_<id>_<secret>``; only sha256(secret) is stored. Tokens are 256-bit random,
    # so a fast hash is enough (argon2's cost is for low-entropy passwords and would slow every request).
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # A subset of the role's permissions chosen at creation; None (tokens made before scopes) = the role's.
    scopes: Mapped[list[str] | None] = mapped_column(JSON)


# ---- sign-in security (migration 0006) -------------------------------------------------------------
class LoginThrottle(Base):
    """Failed sign-ins per account (keyed by a hash of the email, whether or not it has an account, so a
    lockout says nothing about existence) and per client address. In the database, so every web
    process sees the same counts."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)  # "account:<sha256>" | "ip:<sha256>"
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class UserTotp(Base):
    """A person's TOTP second factor (RFC 6238, 30 s steps, 6 digits). Active once confirmed."""

    __tablename__ = "user_totp"

    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(String(64), nullable=False)  # base32
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The last time step a code was accepted for: a code seen once is never accepted again (replay).
    last_step: Mapped[int | None] = mapped_column(BigInteger)


class RecoveryCode(Base):
    """One-time codes for when the phone is lost; only sha256 of each is kept (they are 80-bit random)."""

    __tablename__ = "user_recovery_codes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


# ---- password reset (migration 0009) ---------------------------------------------------------------
class PasswordReset(Base):
    """An emailed reset link: single use, expiring; only sha256 of its 256-bit token is kept."""

    __tablename__ = "password_resets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
