"""HTTP API of orders, shipments, returns, refunds, subscriptions, appointments, devices, loyalty and
coupons (docs/commerce.md). The business's systems load with ``commerce:write``; everyone reads with
``commerce:read``; agents act through :mod:`amity.commerce.api_actions`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from amity.accounts.roles import Perm
from amity.commerce import fulfilment, loyalty, members, profile, queries, shipments
from amity.commerce.models import LoyaltyProgramme
from amity.commerce.orders import Draft, place, place_one
from amity.commerce.schemas import (
    AppointmentIn,
    AppointmentsIn,
    CouponIn,
    CouponsIn,
    DeviceIn,
    DevicesIn,
    MembershipIn,
    MembershipsIn,
    OrderIn,
    OrdersIn,
    PaymentIn,
    ProgrammeIn,
    RefundIn,
    ReturnIn,
    ReturnPatch,
    ShipmentIn,
    ShipmentPatch,
    ShipmentsIn,
    SubscriptionIn,
    SubscriptionsIn,
)
from amity.core.actions import ActionContext, Actor, App, NotFound, perform
from amity.web.auth import get_app, require
from amity.web.errors import error_body
from amity.web.responses import Json

router = APIRouter(prefix="/api/v1", tags=["commerce: orders, loyalty and coupons"])
AppDep = Annotated[App, Depends(get_app)]
Reader = Annotated[Actor, Depends(require(Perm.COMMERCE_READ))]
Writer = Annotated[Actor, Depends(require(Perm.COMMERCE_WRITE))]


def _summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    counts = {
        k: sum(1 for r in results if r["status"] == k)
        for k in ("accepted", "unchanged", "duplicate", "rejected")
    }
    return {**counts, "results": results}


def _single(results: list[dict[str, Any]]) -> Json:
    """One item: 201 when stored, 200 when it changed nothing (or was a duplicate), 422 naming the field."""
    r = results[0]
    if r["status"] == "rejected":
        return Json(
            {**error_body("rejected", "the item was refused", r["errors"]), "result": r}, status_code=422
        )
    return Json(r, status_code=201 if r["status"] == "accepted" else 200)


# ---- orders --------------------------------------------------------------------------------------
def _order(app: App, order_id: str) -> dict[str, Any]:
    with app.db.read() as s:
        return queries.get_order(s, order_id)


@router.post("/orders", status_code=201, summary="Record one order (idempotent by external_id)")
def post_order(body: OrderIn, app: AppDep, actor: Writer) -> Json:
    result = perform(app, actor, lambda ctx: place_one(ctx, app, Draft(item=body)))
    return Json(_order(app, result["id"]), status_code=201 if result["status"] == "accepted" else 200)


@router.post("/orders/bulk", summary="Load up to 1,000 orders; each stands alone (per-item results)")
def post_orders(body: OrdersIn, app: AppDep, actor: Writer) -> Json:
    drafts = [Draft(item=o, prefix=f"orders[{i}].") for i, o in enumerate(body.orders)]
    return Json(_summary(perform(app, actor, lambda ctx: place(ctx, app, drafts))))


@router.get(
    "/orders/{order_id}", summary="One order with its lines, payments, shipments, returns and refunds"
)
def get_order(order_id: str, app: AppDep, _: Reader) -> Json:
    return Json(_order(app, order_id))


@router.get("/customers/{customer_id}/orders", summary="A customer's orders, newest first")
def get_orders(
    customer_id: str,
    app: AppDep,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Json:
    with app.db.read() as s:
        return Json({"items": queries.orders_of(s, customer_id, limit, offset)})


@router.get(
    "/customers/{customer_id}/commerce", summary="Orders, subscriptions, devices, coupons, loyalty, credit"
)
def get_profile(customer_id: str, app: AppDep, _: Reader) -> Json:
    with app.db.read() as s:
        return Json(queries.profile(s, customer_id))


@router.post(
    "/orders/{order_id}/payments", status_code=201, summary="Record a payment in the order's currency"
)
def post_payment(order_id: str, body: PaymentIn, app: AppDep, actor: Writer) -> Json:
    perform(app, actor, fulfilment.add_payment, app, order_id, body)
    return Json(_order(app, order_id), status_code=201)


@router.post(
    "/orders/{order_id}/shipments", status_code=201, summary="Add a shipment (carrier, tracking, level)"
)
def post_shipment(order_id: str, body: ShipmentIn, app: AppDep, actor: Writer) -> Json:
    row = perform(app, actor, fulfilment.add_shipment, app, order_id, body)
    return Json(_shipment(app, row.id), status_code=201)


def _shipment(app: App, shipment_id: str) -> dict[str, Any]:
    from amity.commerce.models import Shipment

    with app.db.read() as s:
        row = s.get(Shipment, shipment_id)
        if row is None:
            raise NotFound(f"no shipment {shipment_id}", field="shipment_id")
        return queries.shipment_out(row)


@router.post(
    "/shipments/bulk",
    summary="A carrier's feed: up to 1,000 new shipments or status changes (by id or tracking number)",
)
def post_shipments(body: ShipmentsIn, app: AppDep, actor: Writer) -> Json:
    return Json(_summary(_loader(shipments.load_shipments, body.shipments, "shipments[{i}].", app, actor)))


@router.get("/shipments/{shipment_id}", summary="One shipment with its status history")
def get_shipment(shipment_id: str, app: AppDep, _: Reader) -> Json:
    return Json(_shipment(app, shipment_id))


@router.patch(
    "/shipments/{shipment_id}", summary="Move a shipment on (dispatched, delivered …) or fix tracking"
)
def patch_shipment(shipment_id: str, body: ShipmentPatch, app: AppDep, actor: Writer) -> Json:
    perform(app, actor, fulfilment.update_shipment, app, shipment_id, body)
    return Json(_shipment(app, shipment_id))


@router.post(
    "/orders/{order_id}/returns", status_code=201, summary="Record a return of some of the order's lines"
)
def post_return(order_id: str, body: ReturnIn, app: AppDep, actor: Writer) -> Json:
    perform(app, actor, fulfilment.add_return, app, order_id, body)
    return Json(_order(app, order_id), status_code=201)


@router.patch("/returns/{return_id}", summary="Received, refunded or rejected")
def patch_return(return_id: str, body: ReturnPatch, app: AppDep, actor: Writer) -> Json:
    row = perform(app, actor, fulfilment.update_return, app, return_id, body)
    return Json(_order(app, row.order_id))


@router.post("/orders/{order_id}/refunds", status_code=201, summary="Record a refund the shop made")
def post_refund(order_id: str, body: RefundIn, app: AppDep, actor: Writer) -> Json:
    perform(app, actor, fulfilment.record_refund, app, order_id, body)
    return Json(_order(app, order_id), status_code=201)


# ---- the rest of the profile ---------------------------------------------------------------------
def _loader(
    fn: Callable[..., list[dict[str, Any]]], items: list[Any], prefix: str, app: App, actor: Actor
) -> list[dict[str, Any]]:
    def run(ctx: ActionContext) -> list[dict[str, Any]]:
        return fn(ctx, app, items, prefix)

    return perform(app, actor, run)


@router.post("/subscriptions", status_code=201, summary="Record or update one subscription (by external_id)")
def post_subscription(body: SubscriptionIn, app: AppDep, actor: Writer) -> Json:
    return _single(_loader(profile.load_subscriptions, [body], "", app, actor))


@router.post("/subscriptions/bulk", summary="Load up to 1,000 subscriptions")
def post_subscriptions(body: SubscriptionsIn, app: AppDep, actor: Writer) -> Json:
    return Json(
        _summary(_loader(profile.load_subscriptions, body.subscriptions, "subscriptions[{i}].", app, actor))
    )


@router.post(
    "/appointments", status_code=201, summary="Record or update an installation, appointment or visit"
)
def post_appointment(body: AppointmentIn, app: AppDep, actor: Writer) -> Json:
    return _single(_loader(profile.load_appointments, [body], "", app, actor))


@router.post("/appointments/bulk", summary="Load up to 1,000 appointments")
def post_appointments(body: AppointmentsIn, app: AppDep, actor: Writer) -> Json:
    return Json(
        _summary(_loader(profile.load_appointments, body.appointments, "appointments[{i}].", app, actor))
    )


@router.post("/devices", status_code=201, summary="Record a device or what it last reported (by serial)")
def post_device(body: DeviceIn, app: AppDep, actor: Writer) -> Json:
    return _single(_loader(profile.load_devices, [body], "", app, actor))


@router.post("/devices/bulk", summary="Load up to 1,000 devices or device states")
def post_devices(body: DevicesIn, app: AppDep, actor: Writer) -> Json:
    return Json(_summary(_loader(profile.load_devices, body.devices, "devices[{i}].", app, actor)))


@router.post("/coupons", status_code=201, summary="Issue a coupon to a customer (by code)")
def post_coupon(body: CouponIn, app: AppDep, actor: Writer) -> Json:
    return _single(_loader(members.load_coupons, [body], "", app, actor))


@router.post("/coupons/bulk", summary="Issue up to 1,000 coupons")
def post_coupons(body: CouponsIn, app: AppDep, actor: Writer) -> Json:
    return Json(_summary(_loader(members.load_coupons, body.coupons, "coupons[{i}].", app, actor)))


@router.post(
    "/loyalty/programmes", status_code=201, summary="Add a loyalty programme with its tiers and benefits"
)
def post_programme(body: ProgrammeIn, app: AppDep, actor: Writer) -> Json:
    row = perform(app, actor, loyalty.create_programme, body)
    with app.db.read() as s:
        return Json(loyalty.programme_out(s, row), status_code=201)


@router.get("/loyalty/programmes", summary="Every loyalty programme with its tiers")
def get_programmes(app: AppDep, _: Reader) -> Json:
    with app.db.read() as s:
        rows = s.scalars(select(LoyaltyProgramme).order_by(LoyaltyProgramme.name))
        return Json({"items": [loyalty.programme_out(s, p) for p in rows]})


@router.post(
    "/loyalty/memberships", status_code=201, summary="Record or update one membership (tier, points)"
)
def post_membership(body: MembershipIn, app: AppDep, actor: Writer) -> Json:
    return _single(_loader(members.load_memberships, [body], "", app, actor))


@router.post("/loyalty/memberships/bulk", summary="Load up to 1,000 memberships")
def post_memberships(body: MembershipsIn, app: AppDep, actor: Writer) -> Json:
    return Json(
        _summary(_loader(members.load_memberships, body.memberships, "memberships[{i}].", app, actor))
    )
