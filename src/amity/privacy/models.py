"""The audit log: who did what to whom, written in the same transaction as the change itself."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from amity.db import Base, JSONType, UTCDateTime, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; BIGINT keeps PostgreSQL roomy.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    action: Mapped[str] = mapped_column(String(100), nullable=False)
    subject_type: Mapped[str] = mapped_column(String(50), nullable=False)
    subject_id: Mapped[str] = mapped_column(String(200), nullable=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_log_subject", "subject_type", "subject_id"),
        Index("ix_audit_log_at", "at"),
    )


class AccessLogEntry(Base):
    """One view of a customer's data by a person or a system: append-only and hash-chained.

    ``hash`` = sha256(prev_hash + canonical row) (see amity.privacy.access_log.row_hash), so editing,
    deleting or reordering any row breaks the chain from that row on; ``amity audit verify`` finds it.
    ``seq`` is assigned by the writer under the chain lock (1, 2, 3, ... without gaps), not by the
    database, so a deleted row leaves a gap that verification sees.
    """

    __tablename__ = "access_log"

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)  # "user:usr_…" | "token:tok_…"
    actor_role: Mapped[str] = mapped_column(String(20), nullable=False)
    subject_type: Mapped[str] = mapped_column(String(20), nullable=False)  # customer | conversation
    subject_id: Mapped[str] = mapped_column(String(64), nullable=False)
    route: Mapped[str] = mapped_column(String(200), nullable=False)  # "GET /customers/{customer_id}"
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)

    __table_args__ = (
        Index("ix_access_log_subject", "subject_type", "subject_id"),
        Index("ix_access_log_actor", "actor"),
        Index("ix_access_log_at", "at"),
    )


class AccessLogHead(Base):
    """The chain's head (one row, id 1): the last seq and hash. Writers lock it, so two of them never
    fork the chain; verification compares it with the last row, so deleting the newest rows shows."""

    __tablename__ = "access_log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
