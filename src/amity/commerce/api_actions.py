"""HTTP API of what agents do for a customer (docs/commerce.md, "Agent actions").

Each answers 201 ``{"status": "done", ...}`` when it ran, or 202 ``{"status": "approval_requested",
"approval_id": ...}`` when it was beyond the agent's authority and now waits for an approver.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from amity.accounts.roles import Perm
from amity.commerce import agent, agent_money
from amity.commerce.schemas import ApplyCouponAct, CreateOrderAct, GoodwillAct, RefundAct, UpgradeShippingAct
from amity.core.actions import ActionContext, Actor, App, perform
from amity.web.auth import get_app, require
from amity.web.responses import Json

router = APIRouter(prefix="/api/v1/commerce/actions", tags=["commerce: agent actions"])
AppDep = Annotated[App, Depends(get_app)]
Actor_ = Annotated[Actor, Depends(require(Perm.COMMERCE_ACT))]


def run(app: App, actor: Actor, fn: Callable[..., dict[str, Any]], body: BaseModel) -> dict[str, Any]:
    def action(ctx: ActionContext) -> dict[str, Any]:
        return fn(ctx, app, body)

    action.__name__ = fn.__name__  # so a retry's log line names the real action
    return perform(app, actor, action)


def _answer(result: dict[str, Any]) -> Json:
    return Json(result, status_code=202 if result["status"] == "approval_requested" else 201)


@router.post(
    "/order", status_code=201, summary="Create an order for the customer (new, replacement, exchange)"
)
def post_order(body: CreateOrderAct, app: AppDep, actor: Actor_) -> Json:
    return _answer(run(app, actor, agent.create_order, body))


@router.post("/apply-coupon", status_code=201, summary="Apply a coupon the customer holds to their order")
def post_apply_coupon(body: ApplyCouponAct, app: AppDep, actor: Actor_) -> Json:
    return _answer(run(app, actor, agent.apply_coupon_act, body))


@router.post(
    "/goodwill", status_code=201, summary="Issue a goodwill coupon or store credit (within your limit)"
)
def post_goodwill(body: GoodwillAct, app: AppDep, actor: Actor_) -> Json:
    return _answer(run(app, actor, agent_money.goodwill, body))


@router.post(
    "/refund", status_code=201, summary="Refund on an order (within your limit, never more than paid)"
)
def post_refund(body: RefundAct, app: AppDep, actor: Actor_) -> Json:
    return _answer(run(app, actor, agent_money.refund_act, body))


@router.post(
    "/upgrade-shipping",
    status_code=201,
    summary="Upgrade shipping: free with a loyalty benefit, else by authority",
)
def post_upgrade(body: UpgradeShippingAct, app: AppDep, actor: Actor_) -> Json:
    return _answer(run(app, actor, agent_money.upgrade_shipping, body))
