"""Placing orders: checked whole before anything is written, one transaction, on the timeline.

No partial orders: an order with one unknown SKU, a negative quantity or a second currency is refused
whole, with the field named (``lines[2].sku``). In a bulk load each order stands alone — a refused
order never loses an accepted one — exactly like a batch of events.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from amity.commerce import stock
from amity.commerce.models import Coupon, Order, OrderLine, Payment
from amity.commerce.schemas import OrderIn
from amity.commerce.timeline import Fact, record_many, whose
from amity.core.actions import ActionContext, App, Invalid
from amity.customers.queries import profile_ids
from amity.db import utcnow
from amity.ids import new_id


@dataclass
class Draft:
    """An order that passed every check, with what the agent actions add (kind, stock taken, link)."""

    item: OrderIn
    prefix: str = ""
    kind: str = "new"
    conversation_id: str | None = None
    replaces_order_id: str | None = None
    locations: dict[int, str] = field(default_factory=dict)  # line index -> location the stock came from
    discount_minor: int | None = None
    event_id: str | None = None  # the order.placed event, when the shop already sent it (demo, replays)


def utc(t: dt.datetime | None, default: dt.datetime) -> dt.datetime:
    """A time as sent, in UTC; without an offset it is UTC (as for events)."""
    if t is None:
        return default
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def totals(item: OrderIn, discount: int | None = None) -> tuple[int, int, int]:
    subtotal = sum(line.quantity * line.unit_price_minor for line in item.lines)
    disc = item.discount_minor if discount is None else discount
    return subtotal, disc, max(subtotal - disc, 0) + item.shipping_minor


def problems(item: OrderIn, prefix: str, known: dict[str, Any]) -> list[tuple[str, str]]:
    """Everything wrong with one order, each with its field path; empty means it may be stored."""
    out: list[tuple[str, str]] = []
    if not item.customer_id and not item.identities:
        out.append((f"{prefix}identities", "give customer_id or at least one identity"))
    for i, line in enumerate(item.lines):
        if line.sku not in known:
            out.append((f"{prefix}lines[{i}].sku", f"unknown SKU {line.sku!r}: not in the catalogue"))
        if line.currency is not None and line.currency != item.currency:
            out.append(
                (f"{prefix}lines[{i}].currency", f"{line.currency} differs from the order's {item.currency}")
            )
    for j, pay in enumerate(item.payments):
        if pay.currency != item.currency:
            out.append(
                (
                    f"{prefix}payments[{j}].currency",
                    f"{pay.currency} differs from the order's {item.currency}",
                )
            )
        try:
            utc(pay.paid_at, utcnow())
        except OverflowError:
            out.append((f"{prefix}payments[{j}].paid_at", "outside the range of representable times"))
    subtotal, _, total = totals(item)
    if item.discount_minor > subtotal:
        out.append((f"{prefix}discount_minor", f"{item.discount_minor} is more than the lines' {subtotal}"))
    if sum(p.amount_minor for p in item.payments) > total:
        out.append((f"{prefix}payments", f"the payments add up to more than the order total {total}"))
    return out


def _items(item: OrderIn, known: dict[str, Any]) -> list[dict[str, Any]]:
    # The shape docs/api.md shows for order.placed, so purchase history reads the same from any source.
    out = []
    for line in item.lines:
        v = known.get(line.sku) or {}
        entry: dict[str, Any] = {
            "sku": line.sku,
            "quantity": line.quantity,
            "unit_price_minor": line.unit_price_minor,
        }
        for key in ("size", "colour", "product_id"):
            if v.get(key) is not None:
                entry[key] = v[key]
        out.append(entry)
    return out


def place(ctx: ActionContext, app: App, drafts: list[Draft]) -> list[dict[str, Any]]:
    """Store every draft that passes; one result per draft, in order (accepted, duplicate, rejected)."""
    s = ctx.session
    now = utcnow()
    results: list[dict[str, Any] | None] = [None] * len(drafts)
    ext = [d.item.external_id for d in drafts if d.item.external_id]
    existing = (
        dict(s.execute(select(Order.external_id, Order.id).where(Order.external_id.in_(ext))).all())
        if ext
        else {}
    )
    known = stock.variants(s, {line.sku for d in drafts for line in d.item.lines})
    seen: dict[str, str] = {}
    pending: list[tuple[int, Draft, str]] = []
    for n, d in enumerate(drafts):
        x = d.item.external_id
        if x and (x in existing or x in seen):
            results[n] = _result(n, existing.get(x) or seen[x], "duplicate", None, x)
            continue
        errs = problems(d.item, d.prefix, known)
        if errs:
            results[n] = _result(n, None, "rejected", None, x, errs)
            continue
        order_id = new_id("ord")
        if x:
            seen[x] = order_id
        pending.append((n, d, order_id))

    facts = [_placed_fact(d, order_id, known) for _, d, order_id in pending]
    for (n, d, order_id), placed in zip(pending, record_many(ctx, app, facts), strict=True):
        if placed.customer_id is None:
            results[n] = _result(n, None, "rejected", None, d.item.external_id, [placed.error or ("", "")])
            continue
        _insert(ctx, d, order_id, placed.customer_id, now)
        results[n] = _result(n, order_id, "accepted", placed.customer_id, d.item.external_id)
    return [r for r in results if r is not None]


def _placed_fact(d: Draft, order_id: str, known: dict[str, Any]) -> Fact:
    item = d.item
    _, discount, total = totals(item, d.discount_minor)
    return Fact(
        type="order.placed",
        whose=whose(item.customer_id, item.identities),
        id=d.event_id or f"{order_id}.placed",
        timestamp=item.placed_at,
        source=item.source,
        prefix=d.prefix,
        properties={
            "order_id": order_id,
            "external_id": item.external_id,
            "kind": d.kind,
            "currency": item.currency,
            "total_minor": total,
            "discount_minor": discount,
            "service_level": item.service_level,
            "items": _items(item, known),
        },
    )


def _insert(ctx: ActionContext, d: Draft, order_id: str, customer_id: str, now: dt.datetime) -> None:
    item = d.item
    subtotal, discount, total = totals(item, d.discount_minor)
    placed_at = utc(item.placed_at, now)
    paid = sum(p.amount_minor for p in item.payments)
    order = Order(
        id=order_id,
        external_id=item.external_id,
        customer_id=customer_id,
        kind=d.kind,
        status="paid" if item.payments and paid >= total else "placed",
        currency=item.currency,
        subtotal_minor=subtotal,
        discount_minor=discount,
        shipping_minor=item.shipping_minor,
        total_minor=total,
        service_level=item.service_level,
        shipping_address=item.shipping_address.model_dump() if item.shipping_address else {},
        coupon_code=item.coupon_code,
        source=item.source,
        conversation_id=d.conversation_id,
        replaces_order_id=d.replaces_order_id,
        placed_at=placed_at,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(order)
    ctx.session.flush()  # the lines and payments reference the order
    ctx.session.add_all(
        OrderLine(
            order_id=order_id,
            position=i,
            sku=line.sku,
            quantity=line.quantity,
            unit_price_minor=line.unit_price_minor,
            location_id=d.locations.get(i),
        )
        for i, line in enumerate(item.lines)
    )
    for p in item.payments:
        ctx.session.add(
            Payment(
                id=new_id("pay"),
                order_id=order_id,
                customer_id=customer_id,
                amount_minor=p.amount_minor,
                currency=p.currency,
                method=p.method,
                external_id=p.external_id,
                paid_at=utc(p.paid_at, now),
            )
        )
    ctx.audit(
        "order.placed",
        "order",
        order_id,
        customer_id=customer_id,
        kind=d.kind,
        total_minor=total,
        currency=item.currency,
        lines=len(item.lines),
        conversation_id=d.conversation_id,
    )
    ctx.publish("order.placed", order_id=order_id, customer_id=customer_id, conversation_id=d.conversation_id)
    if item.coupon_code and d.kind == "new" and d.discount_minor is None:
        _shop_redeemed(ctx, item.coupon_code, customer_id, order_id, now)


def _shop_redeemed(ctx: ActionContext, code: str, customer_id: str, order_id: str, now: dt.datetime) -> None:
    """The shop says it applied one of the customer's coupons: it is used up here too."""
    s = ctx.session
    coupon = s.scalar(
        select(Coupon).where(Coupon.code == code, Coupon.customer_id.in_(profile_ids(s, customer_id)))
    )
    if coupon is None or coupon.redeemed_at is not None:
        return
    coupon.redeemed_at = now
    coupon.redeemed_order_id = order_id
    ctx.audit("coupon.redeemed", "coupon", coupon.id, order_id=order_id, by="shop")


def _result(
    index: int,
    order_id: str | None,
    status: str,
    customer_id: str | None,
    external_id: str | None,
    errors: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    return {
        "index": index,
        "id": order_id,
        "external_id": external_id,
        "status": status,
        "customer_id": customer_id,
        "errors": [{"field": f or "body", "message": m} for f, m in errors or []],
    }


def place_one(ctx: ActionContext, app: App, draft: Draft) -> dict[str, Any]:
    """One order; a refusal raises (422 with the field), so nothing of it is stored."""
    result = place(ctx, app, [draft])[0]
    if result["status"] == "rejected":
        err = result["errors"][0]
        raise Invalid(err["message"], field=err["field"])
    return result
