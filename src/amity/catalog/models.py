"""Tables of the catalogue: products and their variants, locations, stock per variant per location,
reservations of stock for a customer, and product reviews with a fit signal (docs/catalog.md).

Orders and money are the commerce capability's; it points at variants by id or SKU and reads them
through :mod:`amity.catalog.queries`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from amity.db import Base, JSONType, UTCDateTime, utcnow

LOCATION_KINDS = ("store", "warehouse")
FITS = ("small", "true", "large")
RESERVATION_STATUSES = ("held", "released", "expired")


class Product(Base):
    __tablename__ = "catalog_products"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The business's own style number ("NW-TRL-01"): shops often record a purchase by it, not by variant.
    code: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    name_key: Mapped[str] = mapped_column(String(300), nullable=False, index=True)  # lower-cased for search
    brand: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(100))  # "shoes": which purchases tell a size
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Variant(Base):
    __tablename__ = "catalog_variants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("catalog_products.id"), nullable=False, index=True)
    sku: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    size: Mapped[str | None] = mapped_column(String(32))
    colour: Mapped[str | None] = mapped_column(String(64))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Location(Base):
    __tablename__ = "catalog_locations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The business's own store code ("opo-sc"): POS events name the store by it (properties.store).
    code: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, default="store")
    address: Mapped[str] = mapped_column(Text, nullable=False, default="")
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="UTC")
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Stock(Base):
    """On hand (the last snapshot plus deltas) and held by live reservations; available is the difference.

    Keyed by (variant, location) so a lookup by SKU is one index range scan, whatever the location count.
    """

    __tablename__ = "catalog_stock"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    )

    variant_id: Mapped[str] = mapped_column(ForeignKey("catalog_variants.id"), primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("catalog_locations.id"), primary_key=True, index=True)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reserved: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Reservation(Base):
    __tablename__ = "catalog_reservations"
    __table_args__ = (Index("ix_catalog_reservations_due", "status", "expires_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    variant_id: Mapped[str] = mapped_column(ForeignKey("catalog_variants.id"), nullable=False, index=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("catalog_locations.id"), nullable=False)
    # Nullable: erasing the customer keeps the (anonymous) reservation so stock history stays right.
    customer_id: Mapped[str | None] = mapped_column(String(32), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="held")
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    created_by: Mapped[str] = mapped_column(String(80), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(80))


class Review(Base):
    __tablename__ = "catalog_reviews"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("catalog_products.id"), nullable=False, index=True)
    customer_id: Mapped[str | None] = mapped_column(String(32), index=True)
    rating: Mapped[int] = mapped_column(Integer, nullable=False)
    fit: Mapped[str | None] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
