"""Redeeming a coupon the customer holds on one of their orders: once, before it expires, in the
order's currency. Every refusal names the field and says why (404 not theirs, 409 already used,
422 expired or in another currency)."""

from __future__ import annotations

from sqlalchemy import select

from amity.commerce import fulfilment
from amity.commerce.models import Coupon, Order
from amity.commerce.timeline import Fact, record
from amity.core.actions import ActionContext, App, Conflict, Invalid, NotFound
from amity.customers.queries import profile_ids
from amity.db import utcnow
from amity.service.notices import money


def discount_of(coupon: Coupon, order: Order) -> int:
    room = order.subtotal_minor - order.discount_minor
    if coupon.percent is not None:
        return min(room, order.subtotal_minor * coupon.percent // 100)
    return min(room, coupon.amount_minor or 0)


def apply_coupon(ctx: ActionContext, app: App, order: Order, code: str, *, field: str = "code") -> Coupon:
    s = ctx.session
    now = utcnow()
    coupon = s.scalar(
        select(Coupon)
        .where(Coupon.code == code, Coupon.customer_id.in_(profile_ids(s, order.customer_id)))
        .with_for_update()
    )
    if coupon is None:
        raise NotFound(f"the customer holds no coupon {code}", field=field)
    if coupon.redeemed_at is not None:
        on = f" on order {coupon.redeemed_order_id}" if coupon.redeemed_order_id else ""
        raise Conflict(
            f"coupon {code} was already redeemed{on} at {coupon.redeemed_at.isoformat()}", field=field
        )
    if coupon.expires_at is not None and coupon.expires_at <= now:
        raise Invalid(f"coupon {code} expired at {coupon.expires_at.isoformat()}", field=field)
    if coupon.amount_minor is not None and coupon.currency != order.currency:
        raise Invalid(f"coupon {code} is in {coupon.currency}, the order in {order.currency}", field=field)
    if order.coupon_code:
        raise Conflict(f"order {order.id} already has coupon {order.coupon_code}", field=field)
    if order.status not in ("placed", "paid"):
        raise Conflict(f"order {order.id} is already {order.status}", field="order_id")
    off = discount_of(coupon, order)
    order.discount_minor += off
    order.total_minor = max(order.subtotal_minor - order.discount_minor, 0) + order.shipping_minor
    order.coupon_code = code
    order.updated_at = now
    coupon.redeemed_at = now
    coupon.redeemed_order_id = order.id
    ctx.audit("coupon.redeemed", "coupon", coupon.id, order_id=order.id, discount_minor=off)
    record(
        ctx,
        app,
        Fact(
            "coupon.redeemed",
            {"customer_id": order.customer_id},
            {"code": code, "order_id": order.id, "discount_minor": off, "currency": order.currency},
        ),
    )
    ctx.publish("coupon.redeemed", coupon_id=coupon.id, order_id=order.id, customer_id=order.customer_id)
    paid, refunded = fulfilment.paid_of(ctx, order.id)
    over = paid - refunded - order.total_minor
    if over > 0:  # already paid in full: the coupon's value goes back to the customer
        fulfilment.refund(
            ctx,
            app,
            order.id,
            over,
            order.currency,
            f"coupon {code} applied after payment ({money(off, order.currency)})",
        )
    return coupon
