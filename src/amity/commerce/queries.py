"""Reads of the orders half: one order, a customer's commercial profile, purchase history.

A customer's rows are found under every profile merged into them (``profile_ids``), newest first.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amity.commerce.loyalty import memberships_of
from amity.commerce.models import (
    Appointment,
    Coupon,
    Credit,
    Device,
    Order,
    OrderLine,
    Payment,
    Refund,
    Return,
    Shipment,
    Subscription,
)
from amity.core.actions import NotFound
from amity.customers.queries import profile_ids, resolve_customer
from amity.db import utcnow


def _iso(t: dt.datetime | None) -> str | None:
    return t.isoformat() if t else None


def shipment_out(r: Shipment) -> dict[str, Any]:
    return {
        "id": r.id,
        "order_id": r.order_id,
        "carrier": r.carrier,
        "tracking_number": r.tracking_number,
        "tracking_url": r.tracking_url,
        "service_level": r.service_level,
        "status": r.status,
        "history": r.history,
        "dispatched_at": _iso(r.dispatched_at),
        "delivered_at": _iso(r.delivered_at),
    }


def _orders_out(s: Session, orders: list[Order]) -> list[dict[str, Any]]:
    ids = [o.id for o in orders]
    if not ids:
        return []
    # One query per child table for the whole page, never one per order.
    lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
    pays: dict[str, list[dict[str, Any]]] = defaultdict(list)
    refunds: dict[str, list[dict[str, Any]]] = defaultdict(list)
    ships: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rets: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ln in s.scalars(select(OrderLine).where(OrderLine.order_id.in_(ids)).order_by(OrderLine.position)):
        lines[ln.order_id].append(
            {
                "sku": ln.sku,
                "quantity": ln.quantity,
                "unit_price_minor": ln.unit_price_minor,
                "location_id": ln.location_id,
            }
        )
    for p in s.scalars(select(Payment).where(Payment.order_id.in_(ids)).order_by(Payment.paid_at)):
        pays[p.order_id].append(
            {
                "id": p.id,
                "amount_minor": p.amount_minor,
                "currency": p.currency,
                "method": p.method,
                "external_id": p.external_id,
                "paid_at": _iso(p.paid_at),
            }
        )
    for r in s.scalars(select(Refund).where(Refund.order_id.in_(ids)).order_by(Refund.created_at)):
        refunds[r.order_id].append(
            {
                "id": r.id,
                "amount_minor": r.amount_minor,
                "currency": r.currency,
                "reason": r.reason,
                "approval_id": r.approval_id,
                "actor": r.actor,
                "created_at": _iso(r.created_at),
            }
        )
    for sh in s.scalars(select(Shipment).where(Shipment.order_id.in_(ids)).order_by(Shipment.created_at)):
        ships[sh.order_id].append(shipment_out(sh))
    for rt in s.scalars(select(Return).where(Return.order_id.in_(ids)).order_by(Return.created_at)):
        rets[rt.order_id].append(
            {
                "id": rt.id,
                "lines": rt.lines,
                "reason": rt.reason,
                "status": rt.status,
                "created_at": _iso(rt.created_at),
            }
        )
    out = []
    for o in orders:
        paid = sum(p["amount_minor"] for p in pays[o.id])
        refunded = sum(r["amount_minor"] for r in refunds[o.id])
        out.append(
            {
                "id": o.id,
                "external_id": o.external_id,
                "customer_id": o.customer_id,
                "kind": o.kind,
                "status": o.status,
                "currency": o.currency,
                "subtotal_minor": o.subtotal_minor,
                "discount_minor": o.discount_minor,
                "shipping_minor": o.shipping_minor,
                "total_minor": o.total_minor,
                "paid_minor": paid,
                "refunded_minor": refunded,
                "service_level": o.service_level,
                "shipping_address": o.shipping_address,
                "coupon_code": o.coupon_code,
                "source": o.source,
                "conversation_id": o.conversation_id,
                "replaces_order_id": o.replaces_order_id,
                "placed_at": _iso(o.placed_at),
                "lines": lines[o.id],
                "payments": pays[o.id],
                "refunds": refunds[o.id],
                "shipments": ships[o.id],
                "returns": rets[o.id],
            }
        )
    return out


def get_order(s: Session, order_id: str) -> dict[str, Any]:
    o = s.get(Order, order_id)
    if o is None:
        raise NotFound(f"no order {order_id}", field="order_id")
    return _orders_out(s, [o])[0]


def orders_of(s: Session, customer_id: str, limit: int = 20, offset: int = 0) -> list[dict[str, Any]]:
    ids = profile_ids(s, customer_id)
    rows = s.scalars(
        select(Order)
        .where(Order.customer_id.in_(ids))
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return _orders_out(s, list(rows))


def purchased(s: Session, customer_id: str) -> list[dict[str, Any]]:
    """Every SKU the customer bought (not given back), oldest first: what size advice reads."""
    ids = profile_ids(s, customer_id)
    rows = s.execute(
        select(OrderLine.sku, OrderLine.quantity, Order.placed_at, Order.id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.customer_id.in_(ids), Order.status != "cancelled")
        .order_by(Order.placed_at)
    )
    return [{"sku": sku, "quantity": q, "placed_at": _iso(at), "order_id": oid} for sku, q, at, oid in rows]


def coupon_out(c: Coupon, now: dt.datetime) -> dict[str, Any]:
    state = "redeemed" if c.redeemed_at else ("expired" if c.expires_at and c.expires_at <= now else "usable")
    return {
        "id": c.id,
        "code": c.code,
        "amount_minor": c.amount_minor,
        "percent": c.percent,
        "currency": c.currency,
        "expires_at": _iso(c.expires_at),
        "goodwill": c.goodwill,
        "redeemed_at": _iso(c.redeemed_at),
        "redeemed_order_id": c.redeemed_order_id,
        "state": state,
    }


def profile(s: Session, customer_id: str, *, orders: int = 10) -> dict[str, Any]:
    """The whole commercial picture of one customer: what the side panel and the API show."""
    cid = resolve_customer(s, customer_id)
    ids = profile_ids(s, cid)
    now = utcnow()
    subs = s.scalars(
        select(Subscription).where(Subscription.customer_id.in_(ids)).order_by(Subscription.started_at.desc())
    )
    apts = s.scalars(
        select(Appointment).where(Appointment.customer_id.in_(ids)).order_by(Appointment.scheduled_at.desc())
    )
    devs = s.scalars(select(Device).where(Device.customer_id.in_(ids)).order_by(Device.created_at))
    cps = s.scalars(select(Coupon).where(Coupon.customer_id.in_(ids)).order_by(Coupon.created_at.desc()))
    credit = s.execute(
        select(Credit.currency, func.sum(Credit.amount_minor))
        .where(Credit.customer_id.in_(ids))
        .group_by(Credit.currency)
    )
    return {
        "customer_id": cid,
        "orders": orders_of(s, cid, limit=orders),
        "subscriptions": [
            {
                "id": r.id,
                "external_id": r.external_id,
                "plan": r.plan,
                "status": r.status,
                "price_minor": r.price_minor,
                "currency": r.currency,
                "renews_at": _iso(r.renews_at),
                "started_at": _iso(r.started_at),
            }
            for r in subs
        ],
        "appointments": [
            {
                "id": r.id,
                "external_id": r.external_id,
                "kind": r.kind,
                "status": r.status,
                "scheduled_at": _iso(r.scheduled_at),
                "engineer": r.engineer,
                "address": r.address,
                "notes": r.notes,
            }
            for r in apts
        ],
        "devices": [
            {
                "id": r.id,
                "serial": r.serial,
                "model": r.model,
                "sku": r.sku,
                "name": r.name,
                "state": r.state,
                "last_seen_at": _iso(r.last_seen_at),
            }
            for r in devs
        ],
        "coupons": [coupon_out(c, now) for c in cps],
        "memberships": memberships_of(s, cid),
        "credit": {cur: int(total or 0) for cur, total in credit},
    }
