"""Shipments in bulk: a carrier's or warehouse's feed of new parcels and status changes.

Each item finds its shipment by ``shipment_id``, else by ``tracking_number`` (and ``carrier`` when
given), else creates one on the order it names (``order_id`` or the shop's ``order_external_id``).
So the same feed serves an initial load (every parcel with its current status) and the daily scans
after it (``in_transit``, ``delivered``), and re-sending a feed changes nothing.

Every item is checked before anything of it is written, so a refused one (an unknown order, a
delivered parcel going back to ``in_transit``) is reported with its field and never half-applied; the
others go in. Items apply in order: one feed may take a parcel from ``pending`` to ``delivered``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from amity.commerce import fulfilment
from amity.commerce.models import Order, Shipment
from amity.commerce.orders import utc
from amity.commerce.schemas import ShipmentFeedIn, ShipmentIn, ShipmentPatch
from amity.core.actions import ActionContext, App
from amity.db import utcnow


def _find(ctx: ActionContext, item: ShipmentFeedIn) -> Shipment | None:
    s = ctx.session
    if item.shipment_id:
        return s.get(Shipment, item.shipment_id, with_for_update=True)
    if not item.tracking_number:
        return None
    q = select(Shipment).where(Shipment.tracking_number == item.tracking_number)
    if item.carrier:
        q = q.where(Shipment.carrier == item.carrier)
    order = _order_of(ctx, item)
    if order is not None:
        q = q.where(Shipment.order_id == order.id)
    # Tracking numbers are unique per carrier in practice; the newest wins if a shop reused one.
    return s.scalars(q.order_by(Shipment.created_at.desc()).limit(1).with_for_update()).first()


def _order_of(ctx: ActionContext, item: ShipmentFeedIn) -> Order | None:
    if item.order_id:
        return ctx.session.get(Order, item.order_id)
    if item.order_external_id:
        return ctx.session.scalars(select(Order).where(Order.external_id == item.order_external_id)).first()
    return None


def _check(
    ctx: ActionContext, item: ShipmentFeedIn, pre: str
) -> tuple[Shipment | Order | None, list[tuple[str, str]]]:
    """The shipment the item moves on, or the order it adds one to; else why not."""
    shipment = _find(ctx, item)
    if item.shipment_id and shipment is None:
        return None, [(f"{pre}shipment_id", f"no shipment {item.shipment_id}")]
    if item.at is not None:
        try:
            utc(item.at, utcnow())
        except OverflowError:
            return None, [(f"{pre}at", "outside the range of representable times")]
    if shipment is not None:
        if (
            item.status
            and item.status != shipment.status
            and item.status not in fulfilment.NEXT[shipment.status]
        ):
            allowed = ", ".join(sorted(fulfilment.NEXT[shipment.status])) or "nothing (it is final)"
            return None, [
                (f"{pre}status", f"a {shipment.status} shipment can become {allowed}, not {item.status}")
            ]
        return shipment, []
    order = _order_of(ctx, item)
    if order is None:
        if item.order_id or item.order_external_id:
            field = "order_id" if item.order_id else "order_external_id"
            return None, [(f"{pre}{field}", f"no order {item.order_id or item.order_external_id}")]
        what = f"tracking number {item.tracking_number}" if item.tracking_number else "this item"
        return None, [(f"{pre}order_id", f"no shipment has {what}; name its order to add one")]
    if not item.carrier:
        return None, [(f"{pre}carrier", "required to add a shipment")]
    return order, []


def _changes(item: ShipmentFeedIn, row: Shipment) -> bool:
    return (
        (item.status is not None and item.status != row.status)
        or (item.tracking_number is not None and item.tracking_number != row.tracking_number)
        or (item.tracking_url is not None and item.tracking_url != row.tracking_url)
    )


def _result(index: int, row: Shipment | None, status: str, errors: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "index": index,
        "id": row.id if row else None,
        "order_id": row.order_id if row else None,
        "customer_id": row.customer_id if row else None,
        "status": status,
        "shipment_status": row.status if row else None,
        "errors": [{"field": f, "message": m} for f, m in errors],
    }


def load_shipments(
    ctx: ActionContext, app: App, items: list[ShipmentFeedIn], prefix: str
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        pre = prefix.format(i=i)
        plan, errors = _check(ctx, item, pre)
        if plan is None:
            results.append(_result(i, None, "rejected", errors))
            continue
        if isinstance(plan, Order):
            body = ShipmentIn(
                carrier=item.carrier or "",  # _check refused an item without one
                tracking_number=item.tracking_number,
                tracking_url=item.tracking_url,
                service_level=item.service_level or plan.service_level,
                status=item.status or "pending",
                at=item.at,
            )
            results.append(_result(i, fulfilment.add_shipment(ctx, app, plan.id, body), "accepted", []))
            continue
        row = plan
        if not _changes(item, row):
            results.append(_result(i, row, "unchanged", []))
            continue
        patch = ShipmentPatch(
            status=item.status,
            tracking_number=item.tracking_number,
            tracking_url=item.tracking_url,
            note=item.note,
            at=item.at,
        )
        fulfilment.update_shipment(ctx, app, row.id, patch)
        results.append(_result(i, row, "accepted", []))
    return results
