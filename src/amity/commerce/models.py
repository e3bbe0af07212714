"""Tables of the commerce capability's orders half: orders, payments, shipments, returns, refunds,
subscriptions, appointments, devices, loyalty and coupons (docs/commerce.md).

Money is integer minor units with an ISO 4217 currency, never a float. ``customer_id`` is the profile
the row was filed under and never moves: a merge is followed on read (``customers.queries.profile_ids``),
like conversations do. Products, variants, locations and stock belong to ``amity.catalog``; lines here
name a SKU and the catalogue is asked through its queries and actions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from amity.db import Base, JSONType, UTCDateTime, utcnow
from amity.privacy.models import BigIntPK

ORDER_KINDS = ("new", "replacement", "exchange")
ORDER_STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "returned")
SERVICE_LEVELS = ("standard", "expedited", "next_day")
SHIPMENT_STATUSES = ("pending", "dispatched", "in_transit", "delivered", "failed", "returned")
RETURN_STATUSES = ("requested", "received", "refunded", "rejected")
SUBSCRIPTION_STATUSES = ("active", "paused", "past_due", "cancelled")
APPOINTMENT_KINDS = ("installation", "appointment", "engineer_visit")
APPOINTMENT_STATUSES = ("scheduled", "completed", "cancelled", "missed")
DEVICE_STATES = ("online", "offline", "unknown")


class Order(Base):
    __tablename__ = "commerce_orders"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The shop's own order number: a re-sent order with the same one is the same order.
    external_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, default="new")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="placed")
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    subtotal_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    discount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    shipping_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    service_level: Mapped[str] = mapped_column(String(20), nullable=False, default="standard")
    # Personal: anonymised on erasure (the amounts stay, so revenue figures stay right).
    shipping_address: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    coupon_code: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(100))
    # The conversation an agent created the order from; its delivery solves that conversation.
    conversation_id: Mapped[str | None] = mapped_column(String(32), index=True)
    replaces_order_id: Mapped[str | None] = mapped_column(String(32))
    placed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (Index("ix_commerce_orders_customer_placed", "customer_id", "placed_at"),)


class OrderLine(Base):
    __tablename__ = "commerce_order_lines"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("commerce_orders.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    sku: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # Where the stock was taken from, when an agent's order reserved it at a location.
    location_id: Mapped[str | None] = mapped_column(String(32))


class Payment(Base):
    __tablename__ = "commerce_payments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("commerce_orders.id"), nullable=False, index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    method: Mapped[str] = mapped_column(String(40), nullable=False, default="card")
    external_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    paid_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Refund(Base):
    __tablename__ = "commerce_refunds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("commerce_orders.id"), nullable=False, index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    approval_id: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Return(Base):
    __tablename__ = "commerce_returns"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("commerce_orders.id"), nullable=False, index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False, default=list)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="requested")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Shipment(Base):
    __tablename__ = "commerce_shipments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("commerce_orders.id"), nullable=False, index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    carrier: Mapped[str] = mapped_column(String(100), nullable=False)
    # Indexed: a carrier's feed names the parcel by its tracking number, not by our id.
    tracking_number: Mapped[str | None] = mapped_column(String(128), index=True)
    tracking_url: Mapped[str | None] = mapped_column(String(2000))
    service_level: Mapped[str] = mapped_column(String(20), nullable=False, default="standard")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    # [{"status": "dispatched", "at": "...", "note": "..."}]: every status it has had, oldest first.
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False, default=list)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Subscription(Base):
    __tablename__ = "commerce_subscriptions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    plan: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="active")
    price_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    renews_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Appointment(Base):
    """Installations, appointments and engineer visits: something happens at the customer's place."""

    __tablename__ = "commerce_appointments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="scheduled")
    scheduled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    engineer: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)  # personal
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")  # may be personal
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Device(Base):
    """A connected product the customer owns, with what it last told us."""

    __tablename__ = "commerce_devices"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    serial: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    sku: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), nullable=False, default="unknown")
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class LoyaltyProgramme(Base):
    __tablename__ = "commerce_loyalty_programmes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class LoyaltyTier(Base):
    __tablename__ = "commerce_loyalty_tiers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    programme_id: Mapped[str] = mapped_column(
        ForeignKey("commerce_loyalty_programmes.id"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    rank: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # ["free_expedited_shipping", "priority_routing"]: what members of this tier get.
    benefits: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)

    __table_args__ = (UniqueConstraint("programme_id", "name", name="uq_commerce_loyalty_tiers_name"),)


class Membership(Base):
    __tablename__ = "commerce_memberships"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    programme_id: Mapped[str] = mapped_column(
        ForeignKey("commerce_loyalty_programmes.id"), nullable=False, index=True
    )
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    tier_id: Mapped[str | None] = mapped_column(ForeignKey("commerce_loyalty_tiers.id"))
    number: Mapped[str | None] = mapped_column(String(64))  # the card number; personal
    points: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("programme_id", "customer_id", name="uq_commerce_memberships_customer"),
    )


class Coupon(Base):
    """A coupon issued to one customer: a fixed amount (with currency) or a percentage."""

    __tablename__ = "commerce_coupons"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    percent: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str | None] = mapped_column(String(3))
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    goodwill: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    redeemed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    redeemed_order_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Credit(Base):
    """Store credit: a ledger of grants (positive) and uses (negative); the balance is the sum."""

    __tablename__ = "commerce_credits"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    approval_id: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


CUSTOMER_TABLES = (
    Order,
    Payment,
    Refund,
    Return,
    Shipment,
    Subscription,
    Appointment,
    Device,
    Membership,
    Coupon,
    Credit,
)
