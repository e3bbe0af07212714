"""Request bodies of the commerce API, validated at the edge (unknown keys and NUL characters refused).

Checks that need the whole item (one currency per order, amounts that add up) or the database (SKUs
in the catalogue) are in :mod:`amity.commerce.checks` and :mod:`amity.commerce.orders`, which name the
field (``lines[2].sku``) just the same.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from amity.core.inputs import Input

Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=32)]
ExternalId = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,128}$")]
Sku = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,64}$")]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{3,64}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Money = Annotated[int, Field(ge=0, le=10**13)]
Quantity = Annotated[int, Field(ge=1, le=10_000, description="at least 1")]
Benefit = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
ServiceLevel = Literal["standard", "expedited", "next_day"]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
MAX_BULK = 1000


class IdentityRef(Input):
    type: str = Field(min_length=1, max_length=80, description="email, phone, loyalty, external:<system>…")
    value: str = Field(min_length=1, max_length=1000)


class Whose(Input):
    """The customer: ``customer_id`` when the sender knows it, else identities (resolved as events are)."""

    customer_id: Id | None = None
    identities: list[IdentityRef] = Field(default_factory=list, max_length=20)


class AddressIn(Input):
    name: Short = ""
    line1: Short = ""
    line2: Short = ""
    city: Short = ""
    postcode: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] = ""
    region: Short = ""
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] = ""


class LineIn(Input):
    sku: Sku
    quantity: Quantity
    unit_price_minor: Money
    currency: Currency | None = Field(default=None, description="if given, must be the order's currency")


class PaymentIn(Input):
    amount_minor: Money
    currency: Currency
    method: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")] = "card"
    external_id: ExternalId | None = None
    paid_at: dt.datetime | None = None


class OrderIn(Whose):
    external_id: ExternalId | None = Field(default=None, description="the shop's order number; idempotent")
    currency: Currency
    lines: list[LineIn] = Field(min_length=1, max_length=200)
    discount_minor: Money = 0
    shipping_minor: Money = 0
    service_level: ServiceLevel = "standard"
    shipping_address: AddressIn | None = None
    payments: list[PaymentIn] = Field(default_factory=list, max_length=20)
    coupon_code: Code | None = None
    placed_at: dt.datetime | None = None
    source: Annotated[str, StringConstraints(max_length=100)] | None = None


class OrdersIn(Input):
    orders: list[OrderIn] = Field(min_length=1, max_length=MAX_BULK)


class ShipmentIn(Input):
    carrier: Text200
    tracking_number: Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,128}$")] | None = None
    tracking_url: Annotated[str, StringConstraints(pattern=r"^https?://[\x21-\x7e]{1,1990}$")] | None = None
    service_level: ServiceLevel = "standard"
    status: Literal["pending", "dispatched", "in_transit", "delivered", "failed", "returned"] = "pending"
    at: dt.datetime | None = None


class ShipmentPatch(Input):
    status: Literal["pending", "dispatched", "in_transit", "delivered", "failed", "returned"] | None = None
    tracking_number: Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,128}$")] | None = None
    tracking_url: Annotated[str, StringConstraints(pattern=r"^https?://[\x21-\x7e]{1,1990}$")] | None = None
    note: Annotated[str, StringConstraints(max_length=500)] | None = None
    at: dt.datetime | None = None


ShipmentStatus = Literal["pending", "dispatched", "in_transit", "delivered", "failed", "returned"]


class ShipmentFeedIn(Input):
    """One line of a carrier's feed: which parcel (``shipment_id``, else ``tracking_number``), or the order
    to add it to, and what is new about it."""

    shipment_id: Id | None = None
    order_id: Id | None = None
    order_external_id: ExternalId | None = Field(default=None, description="the shop's order number")
    carrier: Text200 | None = Field(default=None, description="required when the item adds a shipment")
    tracking_number: Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,128}$")] | None = None
    tracking_url: Annotated[str, StringConstraints(pattern=r"^https?://[\x21-\x7e]{1,1990}$")] | None = None
    service_level: ServiceLevel | None = Field(default=None, description="default: the order's")
    status: ShipmentStatus | None = None
    note: Annotated[str, StringConstraints(max_length=500)] | None = None
    at: dt.datetime | None = Field(default=None, description="when the status changed (default: now)")


class ShipmentsIn(Input):
    shipments: list[ShipmentFeedIn] = Field(min_length=1, max_length=MAX_BULK)


class ReturnLineIn(Input):
    sku: Sku
    quantity: Quantity


class ReturnIn(Input):
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=200)
    reason: Annotated[str, StringConstraints(max_length=2000)] = ""


class ReturnPatch(Input):
    status: Literal["requested", "received", "refunded", "rejected"]


class RefundIn(Input):
    """A refund the shop already made (recorded); agents refund through the actions."""

    amount_minor: Annotated[int, Field(ge=1, le=10**13)]
    currency: Currency
    reason: Annotated[str, StringConstraints(max_length=2000)] = ""


class SubscriptionIn(Whose):
    external_id: ExternalId
    plan: Text200
    status: Literal["active", "paused", "past_due", "cancelled"] = "active"
    price_minor: Money | None = None
    currency: Currency | None = None
    renews_at: dt.datetime | None = None
    started_at: dt.datetime | None = None


class SubscriptionsIn(Input):
    subscriptions: list[SubscriptionIn] = Field(min_length=1, max_length=MAX_BULK)


class AppointmentIn(Whose):
    external_id: ExternalId
    kind: Literal["installation", "appointment", "engineer_visit"]
    status: Literal["scheduled", "completed", "cancelled", "missed"] = "scheduled"
    scheduled_at: dt.datetime
    engineer: Short | None = None
    address: AddressIn | None = None
    notes: Annotated[str, StringConstraints(max_length=2000)] = ""


class AppointmentsIn(Input):
    appointments: list[AppointmentIn] = Field(min_length=1, max_length=MAX_BULK)


class DeviceIn(Whose):
    serial: ExternalId
    model: Text200
    sku: Sku | None = None
    name: Short | None = None
    state: Literal["online", "offline", "unknown"] = "unknown"
    last_seen_at: dt.datetime | None = None


class DevicesIn(Input):
    devices: list[DeviceIn] = Field(min_length=1, max_length=MAX_BULK)


class TierIn(Input):
    name: Text200
    rank: int = Field(default=0, ge=0, le=1000)
    benefits: list[Benefit] = Field(default_factory=list, max_length=50)


class ProgrammeIn(Input):
    name: Text200
    tiers: list[TierIn] = Field(default_factory=list, max_length=50)


class MembershipIn(Whose):
    programme_id: Id
    tier: Text200 | None = Field(default=None, description="tier name within the programme")
    number: Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,64}$")] | None = None
    points: int = Field(default=0, ge=0, le=10**12)


class MembershipsIn(Input):
    memberships: list[MembershipIn] = Field(min_length=1, max_length=MAX_BULK)


class CouponIn(Whose):
    code: Code
    amount_minor: Annotated[int, Field(ge=1, le=10**13)] | None = None
    percent: Annotated[int, Field(ge=1, le=100)] | None = None
    currency: Currency | None = None
    expires_at: dt.datetime | None = None


class CouponsIn(Input):
    coupons: list[CouponIn] = Field(min_length=1, max_length=MAX_BULK)


# ---- agent actions -------------------------------------------------------------------------------
class ActLineIn(Input):
    sku: Sku
    quantity: Quantity
    location_id: Id | None = Field(default=None, description="reserve the stock at this location")
    unit_price_minor: Money | None = Field(default=None, description="default: the catalogue's price")


class CreateOrderAct(Input):
    customer_id: Id
    kind: Literal["new", "replacement", "exchange"] = "new"
    currency: Currency
    lines: list[ActLineIn] = Field(min_length=1, max_length=50)
    service_level: ServiceLevel = "standard"
    replaces_order_id: Id | None = None
    coupon_code: Code | None = None
    conversation_id: Id | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class ApplyCouponAct(Input):
    order_id: Id
    code: Code
    conversation_id: Id | None = None


class GoodwillAct(Input):
    customer_id: Id
    form: Literal["coupon", "credit"] = "coupon"
    amount_minor: Annotated[int, Field(ge=1, le=10**13)]
    currency: Currency
    expires_in_days: int = Field(default=90, ge=1, le=3650)
    reason: Reason
    conversation_id: Id | None = None


class RefundAct(Input):
    order_id: Id
    amount_minor: Annotated[int, Field(ge=1, le=10**13)]
    currency: Currency
    reason: Reason
    conversation_id: Id | None = None


class UpgradeShippingAct(Input):
    order_id: Id
    service_level: Literal["expedited", "next_day"] = "expedited"
    cost_minor: Money | None = Field(
        default=None, description="what the upgrade would cost without a benefit; default from settings"
    )
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""
    conversation_id: Id | None = None
