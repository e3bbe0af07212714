"""After the order: payments, shipments (with their status history), returns and refunds.

Each change is a fact on the customer's timeline (``shipment.dispatched``, ``refund.issued`` …). A
delivered shipment of an order an agent created from a conversation solves that conversation, with a
note saying why: the need it was opened for has been met.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from amity.commerce.models import Order, OrderLine, Payment, Refund, Return, Shipment
from amity.commerce.orders import utc
from amity.commerce.schemas import PaymentIn, RefundIn, ReturnIn, ReturnPatch, ShipmentIn, ShipmentPatch
from amity.commerce.timeline import Fact, record
from amity.conversations import actions as conversations
from amity.conversations import changes
from amity.core.actions import ActionContext, App, Conflict, Invalid, NotFound
from amity.db import utcnow
from amity.ids import new_id
from amity.service.notices import money

# Where a shipment may go from each status (the same status again is a no-op).
NEXT = {
    "pending": {"dispatched", "in_transit", "delivered", "failed"},
    "dispatched": {"in_transit", "delivered", "failed", "returned"},
    "in_transit": {"delivered", "failed", "returned"},
    "failed": {"dispatched", "in_transit", "returned"},
    "delivered": {"returned"},
    "returned": set(),
}


def get_order(ctx: ActionContext, order_id: str, *, lock: bool = True) -> Order:
    order = ctx.session.get(Order, order_id, with_for_update=lock)
    if order is None:
        raise NotFound(f"no order {order_id}", field="order_id")
    return order


def paid_of(ctx: ActionContext, order_id: str) -> tuple[int, int]:
    """(paid, refunded) in the order's minor units."""
    s = ctx.session
    paid = s.scalar(
        select(func.coalesce(func.sum(Payment.amount_minor), 0)).where(Payment.order_id == order_id)
    )
    refunded = s.scalar(
        select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(Refund.order_id == order_id)
    )
    return int(paid or 0), int(refunded or 0)


def _same_currency(order: Order, currency: str) -> None:
    if currency != order.currency:
        raise Invalid(f"{currency} differs from the order's {order.currency}", field="currency")


def _fact(ctx: ActionContext, app: App, order: Order, type_: str, event_id: str, **props: Any) -> None:
    record(
        ctx,
        app,
        Fact(
            type=type_,
            whose={"customer_id": order.customer_id},
            id=event_id,
            properties={"order_id": order.id, "external_id": order.external_id, **props},
        ),
    )


def add_payment(ctx: ActionContext, app: App, order_id: str, body: PaymentIn) -> Payment:
    order = get_order(ctx, order_id)
    _same_currency(order, body.currency)
    try:
        paid_at = utc(body.paid_at, utcnow())
    except OverflowError:
        raise Invalid("outside the range of representable times", field="paid_at") from None
    if body.external_id and ctx.session.scalar(
        select(Payment.id).where(Payment.external_id == body.external_id)
    ):
        raise Conflict(f"payment {body.external_id} is already recorded", field="external_id")
    paid, _ = paid_of(ctx, order.id)
    if paid + body.amount_minor > order.total_minor:
        raise Invalid(
            f"the order's total is {money(order.total_minor, order.currency)} and "
            f"{money(paid, order.currency)} is already paid",
            field="amount_minor",
        )
    row = Payment(
        id=new_id("pay"),
        order_id=order.id,
        customer_id=order.customer_id,
        amount_minor=body.amount_minor,
        currency=body.currency,
        method=body.method,
        external_id=body.external_id,
        paid_at=paid_at,
    )
    ctx.session.add(row)
    if paid + body.amount_minor >= order.total_minor and order.status == "placed":
        order.status = "paid"
    order.updated_at = utcnow()
    ctx.audit("payment.received", "order", order.id, payment_id=row.id, amount_minor=body.amount_minor)
    _fact(
        ctx,
        app,
        order,
        "payment.received",
        f"{row.id}.received",
        amount_minor=body.amount_minor,
        currency=body.currency,
    )
    return row


def add_shipment(ctx: ActionContext, app: App, order_id: str, body: ShipmentIn) -> Shipment:
    order = get_order(ctx, order_id)
    now = utcnow()
    row = Shipment(
        id=new_id("shp"),
        order_id=order.id,
        customer_id=order.customer_id,
        carrier=body.carrier,
        tracking_number=body.tracking_number,
        tracking_url=body.tracking_url,
        service_level=body.service_level,
        status="pending",
        history=[{"status": "pending", "at": now.isoformat()}],
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    ctx.audit("shipment.created", "shipment", row.id, order_id=order.id, carrier=body.carrier)
    if body.status != "pending":
        _move(ctx, app, order, row, body.status, body.at, None)
    return row


def update_shipment(ctx: ActionContext, app: App, shipment_id: str, body: ShipmentPatch) -> Shipment:
    row = ctx.session.get(Shipment, shipment_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no shipment {shipment_id}", field="shipment_id")
    order = get_order(ctx, row.order_id)
    if body.tracking_number is not None:
        row.tracking_number = body.tracking_number
    if body.tracking_url is not None:
        row.tracking_url = body.tracking_url
    row.updated_at = utcnow()
    if body.status is not None and body.status != row.status:
        _move(ctx, app, order, row, body.status, body.at, body.note)
    else:
        ctx.audit("shipment.updated", "shipment", row.id, tracking_number=row.tracking_number)
    return row


def _move(
    ctx: ActionContext,
    app: App,
    order: Order,
    row: Shipment,
    status: str,
    at: dt.datetime | None,
    note: str | None,
) -> None:
    if status not in NEXT[row.status]:
        allowed = ", ".join(sorted(NEXT[row.status])) or "nothing (it is final)"
        raise Conflict(f"a {row.status} shipment can become {allowed}, not {status}", field="status")
    try:
        when = utc(at, utcnow())
    except OverflowError:
        raise Invalid("outside the range of representable times", field="at") from None
    before = row.status
    row.status = status
    entry: dict[str, Any] = {"status": status, "at": when.isoformat()}
    if note:
        entry["note"] = note
    row.history = [*row.history, entry]
    if status == "dispatched" and row.dispatched_at is None:
        row.dispatched_at = when
    if status == "delivered":
        row.delivered_at = when
    ctx.audit("shipment.status", "shipment", row.id, before=before, after=status, order_id=order.id)
    _fact(
        ctx,
        app,
        order,
        f"shipment.{status}",
        f"{row.id}.{status}.{len(row.history)}",
        shipment_id=row.id,
        carrier=row.carrier,
        tracking_number=row.tracking_number,
        tracking_url=row.tracking_url,
        service_level=row.service_level,
    )
    ctx.publish(f"shipment.{status}", shipment_id=row.id, order_id=order.id, customer_id=order.customer_id)
    _order_follows(ctx, order, status)


def _order_follows(ctx: ActionContext, order: Order, status: str) -> None:
    s = ctx.session
    s.flush()
    if status in ("dispatched", "in_transit") and order.status in ("placed", "paid"):
        order.status = "shipped"
    elif status == "delivered":
        open_ones = s.scalar(
            select(func.count()).where(Shipment.order_id == order.id, Shipment.status != "delivered")
        )
        if not open_ones:
            order.status = "delivered"
            _solve_conversation(ctx, order)
    order.updated_at = utcnow()


def _solve_conversation(ctx: ActionContext, order: Order) -> None:
    if not order.conversation_id:
        return
    conv = changes.get_conversation(ctx, order.conversation_id)
    if conv.merged_into_id:
        conv = changes.get_conversation(ctx, conv.merged_into_id)
    if conv.status not in ("open", "pending", "on_hold"):
        return
    conversations.add_message(
        ctx, conv.id, text=f"Order {order.external_id or order.id} was delivered: solved.", note=True
    )
    changes.update_conversation(ctx, conv.id, status="solved")
    ctx.audit("order.solved_conversation", "order", order.id, conversation_id=conv.id)


def refund(
    ctx: ActionContext,
    app: App,
    order_id: str,
    amount_minor: int,
    currency: str,
    reason: str,
    *,
    approval_id: str | None = None,
) -> Refund:
    """Give money back on an order: never more than was paid and not yet refunded."""
    order = get_order(ctx, order_id)
    _same_currency(order, currency)
    paid, refunded = paid_of(ctx, order.id)
    if amount_minor > paid - refunded:
        raise Invalid(
            f"{money(amount_minor, currency)} is more than the {money(paid - refunded, currency)} "
            f"left to refund ({money(paid, currency)} paid, {money(refunded, currency)} refunded)",
            field="amount_minor",
        )
    row = Refund(
        id=new_id("rfd"),
        order_id=order.id,
        customer_id=order.customer_id,
        amount_minor=amount_minor,
        currency=currency,
        reason=reason,
        approval_id=approval_id,
        actor=ctx.actor.label,
        created_at=utcnow(),
    )
    ctx.session.add(row)
    ctx.audit(
        "refund.issued", "order", order.id, refund_id=row.id, amount_minor=amount_minor, currency=currency
    )
    _fact(
        ctx,
        app,
        order,
        "refund.issued",
        f"{row.id}.issued",
        refund_id=row.id,
        amount_minor=amount_minor,
        currency=currency,
        reason=reason,
    )
    return row


def record_refund(ctx: ActionContext, app: App, order_id: str, body: RefundIn) -> Refund:
    return refund(ctx, app, order_id, body.amount_minor, body.currency, body.reason)


def add_return(ctx: ActionContext, app: App, order_id: str, body: ReturnIn) -> Return:
    order = get_order(ctx, order_id)
    ordered: dict[str, int] = {}
    for sku, qty in ctx.session.execute(
        select(OrderLine.sku, OrderLine.quantity).where(OrderLine.order_id == order.id)
    ):
        ordered[sku] = ordered.get(sku, 0) + qty
    asked: dict[str, int] = {}
    for i, line in enumerate(body.lines):
        if line.sku not in ordered:
            raise Invalid(f"{line.sku} is not on order {order.id}", field=f"lines[{i}].sku")
        asked[line.sku] = asked.get(line.sku, 0) + line.quantity
        if asked[line.sku] > ordered[line.sku]:
            raise Invalid(
                f"only {ordered[line.sku]} of {line.sku} were ordered", field=f"lines[{i}].quantity"
            )
    now = utcnow()
    row = Return(
        id=new_id("ret"),
        order_id=order.id,
        customer_id=order.customer_id,
        lines=[line.model_dump() for line in body.lines],
        reason=body.reason,
        status="requested",
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(row)
    ctx.audit("return.requested", "order", order.id, return_id=row.id)
    _fact(ctx, app, order, "return.requested", f"{row.id}.requested", return_id=row.id, lines=row.lines)
    return row


def update_return(ctx: ActionContext, app: App, return_id: str, body: ReturnPatch) -> Return:
    row = ctx.session.get(Return, return_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no return {return_id}", field="return_id")
    if row.status in ("refunded", "rejected") and body.status != row.status:
        raise Conflict(f"the return is already {row.status}", field="status")
    if body.status == row.status:
        return row
    order = get_order(ctx, row.order_id)
    before, row.status, row.updated_at = row.status, body.status, utcnow()
    ctx.audit("return.status", "return", row.id, before=before, after=body.status)
    _fact(ctx, app, order, f"return.{body.status}", f"{row.id}.{body.status}", return_id=row.id)
    return row
