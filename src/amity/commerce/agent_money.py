"""What an agent may give a customer: goodwill coupons or store credit, refunds, and shipping upgrades,
each within the agent's authority or by approval (the rules and the helpers are in
:mod:`amity.commerce.agent`)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import select

from amity.commerce import fulfilment
from amity.commerce.agent import LEVELS, UPGRADE_COST, ask_approval, check_conversation, done, note, within
from amity.commerce.loyalty import FREE_SHIPPING, benefits_of
from amity.commerce.models import Coupon, Credit, Shipment
from amity.commerce.schemas import (
    GoodwillAct,
    RefundAct,
    UpgradeShippingAct,
)
from amity.commerce.timeline import Fact, record
from amity.core.actions import ActionContext, App, Conflict, Invalid
from amity.customers.queries import resolve_customer
from amity.db import utcnow
from amity.ids import new_id
from amity.service.notices import money


# ---- goodwill -------------------------------------------------------------------------------------
def goodwill(
    ctx: ActionContext, app: App, body: GoodwillAct, *, approved: str | None = None
) -> dict[str, Any]:
    s = ctx.session
    customer_id = resolve_customer(s, body.customer_id)
    check_conversation(ctx, body.conversation_id, customer_id)
    kind = "goodwill" if body.form == "coupon" else "credit"
    if approved is None:
        ok, limit = within(ctx, kind, body.amount_minor, body.currency)
        if not ok:
            return ask_approval(
                ctx,
                "goodwill",
                kind,
                body.amount_minor,
                body.currency,
                body.reason,
                body.conversation_id,
                {"body": body.model_dump(mode="json")},
                limit,
            )
    now = utcnow()
    what = money(body.amount_minor, body.currency)
    if body.form == "coupon":
        code = f"GW-{secrets.token_hex(4).upper()}"
        row = Coupon(
            id=new_id("cpn"),
            code=code,
            customer_id=customer_id,
            amount_minor=body.amount_minor,
            currency=body.currency,
            expires_at=now + dt.timedelta(days=body.expires_in_days),
            goodwill=True,
            created_at=now,
        )
        s.add(row)
        ctx.audit(
            "coupon.issued", "coupon", row.id, customer_id=customer_id, goodwill=True, approval_id=approved
        )
        record(
            ctx,
            app,
            Fact(
                "coupon.issued",
                {"customer_id": customer_id},
                {
                    "code": code,
                    "amount_minor": body.amount_minor,
                    "currency": body.currency,
                    "goodwill": True,
                    "reason": body.reason,
                    "expires_at": (now + dt.timedelta(days=body.expires_in_days)).isoformat(),
                },
            ),
        )
        note(
            ctx,
            body.conversation_id,
            f"Goodwill coupon {code} for {what} issued (expires in {body.expires_in_days} days): {body.reason}",
        )
        return done("goodwill", coupon_id=row.id, code=code)
    credit = Credit(
        id=new_id("crd"),
        customer_id=customer_id,
        amount_minor=body.amount_minor,
        currency=body.currency,
        reason=body.reason,
        approval_id=approved,
        actor=ctx.actor.label,
        created_at=now,
    )
    s.add(credit)
    ctx.audit("credit.issued", "credit", credit.id, customer_id=customer_id, amount_minor=body.amount_minor)
    record(
        ctx,
        app,
        Fact(
            "credit.issued",
            {"customer_id": customer_id},
            {
                "credit_id": credit.id,
                "amount_minor": body.amount_minor,
                "currency": body.currency,
                "reason": body.reason,
            },
        ),
    )
    note(ctx, body.conversation_id, f"Store credit of {what} issued: {body.reason}")
    return done("goodwill", credit_id=credit.id)


# ---- refunds -------------------------------------------------------------------------------------
def refund_act(
    ctx: ActionContext, app: App, body: RefundAct, *, approved: str | None = None
) -> dict[str, Any]:
    order = fulfilment.get_order(ctx, body.order_id)
    check_conversation(ctx, body.conversation_id, order.customer_id)
    if body.currency != order.currency:
        raise Invalid(f"{body.currency} differs from the order's {order.currency}", field="currency")
    paid, refunded = fulfilment.paid_of(ctx, order.id)
    if body.amount_minor > paid - refunded:  # refused before anyone is asked to approve the impossible
        raise Invalid(
            f"{money(body.amount_minor, body.currency)} is more than the {money(paid - refunded, body.currency)} "
            f"left to refund ({money(paid, body.currency)} paid)",
            field="amount_minor",
        )
    if approved is None:
        ok, limit = within(ctx, "refund", body.amount_minor, body.currency)
        if not ok:
            return ask_approval(
                ctx,
                "refund",
                "refund",
                body.amount_minor,
                body.currency,
                body.reason,
                body.conversation_id,
                {"body": body.model_dump(mode="json"), "order_id": order.id},
                limit,
            )
    row = fulfilment.refund(
        ctx, app, order.id, body.amount_minor, body.currency, body.reason, approval_id=approved
    )
    note(
        ctx,
        body.conversation_id,
        f"Refund of {money(body.amount_minor, body.currency)} issued on order {order.id}: {body.reason}",
    )
    return done("refund", refund_id=row.id, order_id=order.id, amount_minor=body.amount_minor)


# ---- shipping ------------------------------------------------------------------------------------
def upgrade_shipping(
    ctx: ActionContext, app: App, body: UpgradeShippingAct, *, approved: str | None = None
) -> dict[str, Any]:
    s = ctx.session
    order = fulfilment.get_order(ctx, body.order_id)
    check_conversation(ctx, body.conversation_id, order.customer_id)
    if LEVELS.index(order.service_level) >= LEVELS.index(body.service_level):
        raise Conflict(f"the order already ships {order.service_level}", field="service_level")
    if order.status in ("shipped", "delivered", "cancelled", "returned"):
        raise Conflict(f"the order is already {order.status}", field="order_id")
    benefit = FREE_SHIPPING[body.service_level]
    granted = benefits_of(s, order.customer_id).get(benefit)
    cost = body.cost_minor if body.cost_minor is not None else UPGRADE_COST[body.service_level]
    if granted:
        why = f"{benefit} from {granted}"
    elif approved:
        why = f"approved ({approved})"
    else:
        ok, limit = within(ctx, "shipping", cost, order.currency)
        if not ok:
            return ask_approval(
                ctx,
                "upgrade_shipping",
                "shipping",
                cost,
                order.currency,
                body.reason or f"{body.service_level} shipping",
                body.conversation_id,
                {"body": body.model_dump(mode="json"), "order_id": order.id},
                limit,
            )
        why = "within the agent's own authority"
    before, order.service_level, order.updated_at = order.service_level, body.service_level, utcnow()
    for shp in s.scalars(select(Shipment).where(Shipment.order_id == order.id, Shipment.status == "pending")):
        shp.service_level = body.service_level
    ctx.audit(
        "shipping.upgraded",
        "order",
        order.id,
        before=before,
        after=body.service_level,
        why=why,
        approval_id=approved,
    )
    record(
        ctx,
        app,
        Fact(
            "shipping.upgraded",
            {"customer_id": order.customer_id},
            {"order_id": order.id, "from": before, "to": body.service_level, "free_by": why},
        ),
    )
    note(
        ctx,
        body.conversation_id,
        f"Shipping of order {order.id} upgraded to {body.service_level.replace('_', ' ')} at no charge: {why}.",
    )
    return done("upgrade_shipping", order_id=order.id, service_level=body.service_level, why=why)
