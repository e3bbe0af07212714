"""The commerce card beside a conversation, and the forms of its action dialogs.

The card (registered with :mod:`amity.web.panels`) shows orders with shipments and tracking links,
subscriptions, appointments, devices, coupons, loyalty tier and benefits, store credit. When it is
shown beside a conversation, its forms post here (``/conversations/{id}/commerce/...``) and run the
same actions as the API; success returns to the conversation, a refusal shows what was wrong.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from amity.accounts.roles import Perm, allowed
from amity.commerce import agent, agent_money, queries
from amity.commerce.api_actions import run
from amity.commerce.schemas import ApplyCouponAct, CreateOrderAct, GoodwillAct, RefundAct, UpgradeShippingAct
from amity.core.actions import ActionError, Actor
from amity.service.notices import EXPONENTS
from amity.web.panels import Panel, register
from amity.web.ui_base import checked, redirect, render

router = APIRouter(include_in_schema=False)


def load_card(s: Session, customer_id: str, actor: Actor) -> dict[str, Any] | None:
    if not allowed(actor.role, Perm.COMMERCE_READ):
        return None
    data = queries.profile(s, customer_id, orders=5)
    data["can_act"] = allowed(actor.role, Perm.COMMERCE_ACT)
    data["currency"] = next((o["currency"] for o in data["orders"]), "EUR")
    return data


PANEL = Panel(
    key="commerce", title="Orders and loyalty", template="commerce_card.html", load=load_card, order=20
)


def install() -> None:
    register(PANEL)


def minor(amount: str, currency: str) -> int | None:
    """'12.50' EUR -> 1250; None when it is not an amount in that currency's decimals."""
    exp = EXPONENTS.get(currency.upper(), 2)
    try:
        value = decimal.Decimal(amount.strip().replace(",", ""))
    except decimal.InvalidOperation:
        return None
    if not value.is_finite() or value <= 0 or value > 10**12:
        return None
    scaled = value.scaleb(exp)
    return int(scaled) if scaled == scaled.to_integral_value() else None


def _act(
    request: Request,
    conversation_id: str,
    csrf: str,
    fn: Callable[..., dict[str, Any]],
    build: Callable[[], BaseModel | str],
) -> Response:
    page = checked(request, Perm.COMMERCE_ACT, csrf)
    if isinstance(page, Response):
        return page
    try:
        body = build()
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        body = f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    if isinstance(body, str):
        return render(
            request,
            "commerce_refused.html",
            422,
            page=page,
            title="Not done",
            conversation_id=conversation_id,
            message=body,
        )
    try:
        result = run(page.app, page.actor, fn, body)
    except ActionError as exc:
        where = f"{exc.field}: " if exc.field else ""
        return render(
            request,
            "commerce_refused.html",
            exc.status,
            page=page,
            title="Not done",
            conversation_id=conversation_id,
            message=f"{where}{exc.message}",
        )
    notice = "requested" if result["status"] == "approval_requested" else "updated"
    return redirect(f"/conversations/{conversation_id}?notice={notice}#panel-commerce")


Field = Annotated[str, Form()]


@router.post("/conversations/{conversation_id}/commerce/apply-coupon")
def apply_coupon_submit(
    request: Request, conversation_id: str, order_id: Field = "", code: Field = "", csrf: Field = ""
) -> Response:
    return _act(
        request,
        conversation_id,
        csrf,
        agent.apply_coupon_act,
        lambda: ApplyCouponAct(order_id=order_id, code=code.strip(), conversation_id=conversation_id),
    )


@router.post("/conversations/{conversation_id}/commerce/upgrade-shipping")
def upgrade_submit(
    request: Request,
    conversation_id: str,
    order_id: Field = "",
    service_level: Field = "expedited",
    csrf: Field = "",
) -> Response:
    return _act(
        request,
        conversation_id,
        csrf,
        agent_money.upgrade_shipping,
        lambda: UpgradeShippingAct(
            order_id=order_id, service_level=service_level, conversation_id=conversation_id
        ),
    )


def _money_or_message(amount: str, currency: str) -> int | str:
    value = minor(amount, currency.upper())
    return (
        value
        if value is not None
        else f"amount: {amount!r} is not an amount in {currency.upper() or 'the currency'}"
    )


@router.post("/conversations/{conversation_id}/commerce/refund")
def refund_submit(
    request: Request,
    conversation_id: str,
    order_id: Field = "",
    amount: Field = "",
    currency: Field = "",
    reason: Field = "",
    csrf: Field = "",
) -> Response:
    def build() -> BaseModel | str:
        value = _money_or_message(amount, currency)
        if isinstance(value, str):
            return value
        return RefundAct(
            order_id=order_id,
            amount_minor=value,
            currency=currency.strip().upper(),
            reason=reason,
            conversation_id=conversation_id,
        )

    return _act(request, conversation_id, csrf, agent_money.refund_act, build)


@router.post("/conversations/{conversation_id}/commerce/goodwill")
def goodwill_submit(
    request: Request,
    conversation_id: str,
    customer_id: Field = "",
    form: Field = "coupon",
    amount: Field = "",
    currency: Field = "",
    reason: Field = "",
    csrf: Field = "",
) -> Response:
    def build() -> BaseModel | str:
        value = _money_or_message(amount, currency)
        if isinstance(value, str):
            return value
        return GoodwillAct(
            customer_id=customer_id,
            form=form,
            amount_minor=value,
            currency=currency.strip().upper(),
            reason=reason,
            conversation_id=conversation_id,
        )

    return _act(request, conversation_id, csrf, agent_money.goodwill, build)


@router.post("/conversations/{conversation_id}/commerce/order")
def order_submit(
    request: Request,
    conversation_id: str,
    customer_id: Field = "",
    sku: Field = "",
    quantity: Field = "1",
    location_id: Field = "",
    kind: Field = "new",
    currency: Field = "",
    service_level: Field = "standard",
    unit_price: Field = "",
    coupon_code: Field = "",
    replaces_order_id: Field = "",
    csrf: Field = "",
) -> Response:
    def build() -> BaseModel | str:
        price = _money_or_message(unit_price, currency) if unit_price.strip() else None
        if isinstance(price, str):
            return price
        if not quantity.strip().isdigit():
            return f"quantity: {quantity!r} is not a whole number of at least 1"
        line: dict[str, Any] = {
            "sku": sku.strip(),
            "quantity": int(quantity),
            "location_id": location_id.strip() or None,
            "unit_price_minor": price,
        }
        return CreateOrderAct.model_validate(
            {
                "customer_id": customer_id,
                "kind": kind,
                "currency": currency.strip().upper(),
                "lines": [line],
                "service_level": service_level,
                "coupon_code": coupon_code.strip() or None,
                "replaces_order_id": replaces_order_id.strip() or None,
                "conversation_id": conversation_id,
            }
        )

    return _act(request, conversation_id, csrf, agent.create_order, build)
