"""Tables of data-subject requests, erasure tombstones and retention (docs/privacy.md).

``privacy_requests.customer_id`` is deliberately not a foreign key: a request about a person Amity
does not know is accepted and answered exactly like one about a known person (no enumeration), so the
id may name nobody.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from amity.db import Base, JSONType, UTCDateTime, utcnow
from amity.privacy.models import BigIntPK

REQUEST_TYPES = ("access", "erasure", "rectification", "restriction")
STATUSES = ("received", "identity_verified", "in_progress", "completed", "denied")
OPEN_STATUSES = ("received", "identity_verified", "in_progress")


class PrivacyRequest(Base):
    __tablename__ = "privacy_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    type: Mapped[str] = mapped_column(String(20), nullable=False)
    customer_id: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="received")
    source: Mapped[str] = mapped_column(String(20), nullable=False)  # "staff" | "customer"
    filed_by: Mapped[str] = mapped_column(String(200), nullable=False)  # actor label
    verified_by: Mapped[str | None] = mapped_column(String(200))
    verification_method: Mapped[str | None] = mapped_column(String(200))
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    # Rectification: the trait values to set ({"name": "Ana Lima"}).
    changes: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    extended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    denied_reason: Mapped[str | None] = mapped_column(Text)
    # What running it did (rows exported/erased per table); never the data itself.
    result: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    export_path: Mapped[str | None] = mapped_column(String(500))  # relative to AMITY_HOME
    export_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # A worker running it holds it until then; a second worker (or a retried job) leaves it alone.
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (Index("ix_privacy_requests_status_due", "status", "due_at"),)


class Tombstone(Base):
    """A keyed hash (HMAC-SHA256 with the app secret) of one identifier of an erased person.

    The hash lets ingest recognise the identifier without keeping it: without the key nobody can test
    a guess against the table, and the identifier itself is gone.
    """

    __tablename__ = "privacy_tombstones"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    request_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    lifted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    lifted_reason: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("digest", "type", name="uq_privacy_tombstones_digest_type"),)


class RetentionRule(Base):
    """How long one kind of data is kept: events of a type (``*``: every type) or messages."""

    __tablename__ = "privacy_retention_rules"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # "event" | "message"
    target: Mapped[str] = mapped_column(String(100), nullable=False)  # event type, "*", or channel type
    days: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_by: Mapped[str] = mapped_column(String(200), nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (UniqueConstraint("kind", "target", name="uq_privacy_retention_rules_kind"),)


class RetentionRun(Base):
    """One sweep of the retention job: when, with which clock, and how much it removed."""

    __tablename__ = "privacy_retention_runs"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    ran_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
