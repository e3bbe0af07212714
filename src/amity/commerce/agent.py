"""What an agent may do for a customer, each checked against the agent's authority.

Within the limit of the agent's tier (``Tier.limits[kind][currency]``, the service capability's
approvals) the action runs at once; over it, an approval request is made instead, carrying the action
as its payload, and :mod:`amity.commerce.approved` runs it when an approver says yes. Every action is
audited, lands on the customer's timeline and, when it was taken from a conversation, is noted there.

| action | authority kind | amount checked |
|---|---|---|
| replacement or exchange order | ``replacement`` | value of the lines given away |
| goodwill coupon / store credit | ``goodwill`` / ``credit`` | the amount |
| refund | ``refund`` | the amount (never more than was paid and not yet refunded) |
| shipping upgrade without a benefit | ``shipping`` | what the upgrade would cost |

Applying a coupon the customer holds and a new order the customer pays for need no authority beyond
the permission to act (``commerce:act``). Orders and coupons are here; what gives money back
(goodwill, refunds, shipping upgrades) is in :mod:`amity.commerce.agent_money`, on the same helpers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from amity.commerce import fulfilment, stock
from amity.commerce.coupons import apply_coupon
from amity.commerce.loyalty import FREE_SHIPPING, benefits_of
from amity.commerce.models import Order, OrderLine
from amity.commerce.orders import Draft, place_one
from amity.commerce.schemas import (
    ApplyCouponAct,
    CreateOrderAct,
    LineIn,
    OrderIn,
)
from amity.conversations import actions as conversations
from amity.conversations import changes as conversation_changes
from amity.core.actions import ActionContext, App, Conflict, Invalid, NotFound
from amity.customers.queries import profile_ids, resolve_customer
from amity.db import utcnow
from amity.service.approvals import limit_of, request_approval, tier_of
from amity.service.notices import money

# What a shipping upgrade costs when the agent does not say (minor units of the order's currency).
UPGRADE_COST = {"expedited": 900, "next_day": 1500}
LEVELS = ("standard", "expedited", "next_day")


def note(ctx: ActionContext, conversation_id: str | None, text: str) -> None:
    if conversation_id:
        conversations.add_message(ctx, conversation_id, text=text, note=True)


def check_conversation(ctx: ActionContext, conversation_id: str | None, customer_id: str) -> None:
    if not conversation_id:
        return
    conv = conversation_changes.get_conversation(ctx, conversation_id)
    if resolve_customer(ctx.session, conv.customer_id) != resolve_customer(ctx.session, customer_id):
        raise Invalid("the conversation is with another customer", field="conversation_id")


def within(ctx: ActionContext, kind: str, amount_minor: int, currency: str) -> tuple[bool, int | None]:
    limit = limit_of(tier_of(ctx, ctx.actor), kind, currency)
    return limit is not None and amount_minor <= limit, limit


def ask_approval(
    ctx: ActionContext,
    action: str,
    kind: str,
    amount: int,
    currency: str,
    reason: str,
    conversation_id: str | None,
    payload: dict[str, Any],
    limit: int | None,
) -> dict[str, Any]:
    if not conversation_id:
        have = (
            f"your limit is {money(limit, currency)}"
            if limit is not None
            else f"you have no {kind} authority"
        )
        raise Conflict(
            f"{money(amount, currency)} needs approval ({have}); ask from the customer's conversation",
            field="conversation_id",
        )
    row = request_approval(
        ctx,
        conversation_id,
        kind,
        amount,
        currency,
        reason or action,
        {"commerce": action, **payload},
        utcnow(),
    )
    ctx.audit(
        f"commerce.{action}.approval_requested", "approval", row.id, amount_minor=amount, currency=currency
    )
    return {
        "status": "approval_requested",
        "action": action,
        "approval_id": row.id,
        "kind": kind,
        "amount_minor": amount,
        "currency": currency,
        "limit_minor": limit,
    }


def done(action: str, **result: Any) -> dict[str, Any]:
    return {"status": "done", "action": action, **result}


# ---- create an order -----------------------------------------------------------------------------
def _last_prices(ctx: ActionContext, customer_id: str, currency: str) -> dict[str, int]:
    """What the customer last paid per SKU in this currency: the price of a replacement or re-order."""
    rows = ctx.session.execute(
        select(OrderLine.sku, OrderLine.unit_price_minor)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.customer_id.in_(profile_ids(ctx.session, customer_id)), Order.currency == currency)
        .order_by(Order.placed_at)
    )
    return {sku: price for sku, price in rows if price}


def create_order(
    ctx: ActionContext, app: App, body: CreateOrderAct, *, approved: str | None = None
) -> dict[str, Any]:
    s = ctx.session
    customer_id = resolve_customer(s, body.customer_id)
    check_conversation(ctx, body.conversation_id, customer_id)
    if body.kind != "new" and not body.replaces_order_id:
        raise Invalid(f"a {body.kind} order names the order it replaces", field="replaces_order_id")
    if body.replaces_order_id:
        old = s.get(Order, body.replaces_order_id)
        if old is None or resolve_customer(s, old.customer_id) != customer_id:
            raise NotFound(f"the customer has no order {body.replaces_order_id}", field="replaces_order_id")
    prices = _last_prices(ctx, customer_id, body.currency)
    lines: list[LineIn] = []
    for i, line in enumerate(body.lines):
        price = line.unit_price_minor if line.unit_price_minor is not None else prices.get(line.sku)
        if price is None:
            raise Invalid(
                f"no earlier price for {line.sku} in {body.currency}; give one",
                field=f"lines[{i}].unit_price_minor",
            )
        lines.append(LineIn(sku=line.sku, quantity=line.quantity, unit_price_minor=price))
    value = sum(line.quantity * line.unit_price_minor for line in lines)
    free = body.kind != "new"  # a replacement or exchange is given, not sold: its value is the agent's call
    if free and approved is None:
        ok, limit = within(ctx, "replacement", value, body.currency)
        if not ok:
            return ask_approval(
                ctx,
                "create_order",
                "replacement",
                value,
                body.currency,
                body.reason or f"{body.kind} order",
                body.conversation_id,
                {"body": body.model_dump(mode="json")},
                limit,
            )
    benefits = benefits_of(s, customer_id)
    shipping = 0
    if body.service_level != "standard" and FREE_SHIPPING[body.service_level] not in benefits and not free:
        shipping = UPGRADE_COST[body.service_level]
    draft = Draft(
        item=OrderIn(
            customer_id=customer_id,
            currency=body.currency,
            lines=lines,
            service_level=body.service_level,
            shipping_minor=shipping,
            source="amity",
        ),
        kind=body.kind,
        conversation_id=body.conversation_id,
        replaces_order_id=body.replaces_order_id,
        discount_minor=value if free else None,
    )
    # Stock first: a line whose last pair went to someone else refuses the whole order (409).
    for i, line in enumerate(body.lines):
        if line.location_id:
            stock.take(
                ctx,
                sku=line.sku,
                location_id=line.location_id,
                customer_id=customer_id,
                quantity=line.quantity,
                field=f"lines[{i}].location_id",
            )
            draft.locations[i] = line.location_id
    placed = place_one(ctx, app, draft)
    order = s.get(Order, placed["id"])
    assert order is not None
    coupon = None
    if body.coupon_code:
        coupon = apply_coupon(ctx, app, order, body.coupon_code, field="coupon_code")
    summary = ", ".join(f"{ln.quantity} x {ln.sku}" for ln in lines)
    note(
        ctx,
        body.conversation_id,
        f"{body.kind.capitalize()} order {order.id} created: {summary}; "
        f"total {money(order.total_minor, order.currency)}, {order.service_level} shipping."
        + (f" Coupon {coupon.code} applied." if coupon else "")
        + (f" (Approved: {approved}.)" if approved else ""),
    )
    ctx.audit("commerce.create_order", "order", order.id, kind=body.kind, approval_id=approved)
    return done("create_order", order_id=order.id, total_minor=order.total_minor, currency=order.currency)


# ---- coupons -------------------------------------------------------------------------------------
def apply_coupon_act(ctx: ActionContext, app: App, body: ApplyCouponAct) -> dict[str, Any]:
    order = fulfilment.get_order(ctx, body.order_id)
    check_conversation(ctx, body.conversation_id, order.customer_id)
    coupon = apply_coupon(ctx, app, order, body.code, field="code")
    note(
        ctx,
        body.conversation_id,
        f"Coupon {coupon.code} applied to order {order.id}: "
        f"{money(order.discount_minor, order.currency)} off, total now {money(order.total_minor, order.currency)}.",
    )
    return done(
        "apply_coupon",
        order_id=order.id,
        coupon_id=coupon.id,
        discount_minor=order.discount_minor,
        total_minor=order.total_minor,
    )
