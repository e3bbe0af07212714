"""Tables of the consent capability: admin-added purposes and the append-only consent ledger.

Built-in purposes live in code (:mod:`amity.consent.purposes`), so every install has them and they
cannot be changed by accident; ``consent_purposes`` holds only the ones admins add.

``customer_id`` on a ledger row is the profile the consent was given for and never moves (the way
conversations treat it): reads gather the history of every profile that stands for the person today
(``customers.queries.profile_ids``), so a merge counts the merged profile's history and an unmerge
gives each person back their own, with no row updates here.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from amity.db import Base, JSONType, UTCDateTime, utcnow
from amity.privacy.models import BigIntPK


class Purpose(Base):
    __tablename__ = "consent_purposes"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Lawful bases a record for this purpose may rest on (GDPR Art. 6(1)).
    lawful_bases: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    # The basis used when the customer has no record at all; None: nothing without their consent.
    default_basis: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)


class ConsentRecord(Base):
    """One fact: a customer granted, withdrew or denied a purpose (on one channel type, or all).

    Append-only: no code path updates or deletes a row, except erasure (privacy holder), which strips
    the proof and drops grants but keeps every withdrawal and denial as proof that we stopped.
    """

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False)
    purpose: Mapped[str] = mapped_column(String(40), nullable=False)
    channel: Mapped[str | None] = mapped_column(String(20))  # a channel type; None: every channel
    status: Mapped[str] = mapped_column(String(10), nullable=False)  # granted | withdrawn | denied
    lawful_basis: Mapped[str] = mapped_column(String(30), nullable=False)
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    # Proof: which policy text the customer saw (its version and the SHA-256 of the words shown) and
    # keyed hashes (HMAC-SHA256 with the app secret) of their IP address and user agent: enough to
    # match a later claim ("this came from my browser"), useless to anyone without the key.
    policy_version: Mapped[str | None] = mapped_column(String(100))
    text_sha256: Mapped[str | None] = mapped_column(String(64))
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    user_agent_hash: Mapped[str | None] = mapped_column(String(64))
    event_id: Mapped[str | None] = mapped_column(String(128))  # when it arrived as an ingested event
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)  # when it happened
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(200), nullable=False)  # actor label
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_consent_records_customer", "customer_id", "purpose", "at"),)
