"""Tables of the customer core. Every customer-owned row carries ``customer_id`` (partition-friendly)
and ``origin_customer_id``: the profile it first belonged to, which is what lets any merge be undone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from amity.db import Base, JSONType, UTCDateTime, utcnow
from amity.privacy.models import BigIntPK


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # Set while this profile is merged into another; the chain always ends at a live customer.
    merged_into_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    merged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Current trait values, newest wins; the full history is in trait_history.
    traits: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    trait_times: Mapped[dict[str, str]] = mapped_column(JSONType, nullable=False, default=dict)
    # Lower-cased copy of the ``name`` trait so search can use an index.
    name_key: Mapped[str | None] = mapped_column(String(255), index=True)


class Identity(Base):
    __tablename__ = "identities"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    origin_customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    value: Mapped[str] = mapped_column(String(320), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    event_id: Mapped[str | None] = mapped_column(String(128))

    # value first: a batch looks identifiers up with ``value IN (...)`` and this index serves it.
    __table_args__ = (UniqueConstraint("value", "type", name="uq_identities_value_type"),)


class Event(Base):
    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False)
    origin_customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False)
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    timestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    source: Mapped[str | None] = mapped_column(String(100))
    identities: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False, default=list)
    traits: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    flags: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)

    __table_args__ = (Index("ix_events_customer_ts", "customer_id", "timestamp"),)


class TraitHistory(Base):
    __tablename__ = "trait_history"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False)
    origin_customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    value: Mapped[Any] = mapped_column(JSONType, nullable=True)  # null: the trait was cleared
    observed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    event_id: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (Index("ix_trait_history_customer_name", "customer_id", "name"),)


class Merge(Base):
    __tablename__ = "merges"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    survivor_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    merged_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    reason: Mapped[str] = mapped_column(String(20), nullable=False)  # "identity" | "manual"
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    undone_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    undone_by: Mapped[str | None] = mapped_column(String(200))
    undo_reason: Mapped[str | None] = mapped_column(Text)


class TraitDefinition(Base):
    __tablename__ = "trait_definitions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(20), nullable=False)
    enum_values: Mapped[list[str] | None] = mapped_column(JSONType)
    pii: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    purpose: Mapped[str] = mapped_column(String(200), nullable=False)
    retention_days: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    builtin: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
