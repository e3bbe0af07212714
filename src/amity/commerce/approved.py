"""Carrying out commerce actions that waited for an approver.

An over-limit action asked for approval with itself as the payload (``{"commerce": action, "body":
{...}}``). When it is approved:

goodwill, credit, shipping upgrades, replacement orders and refunds run as the service capability's
registered executors, inside the decision's transaction (a failure is a savepoint rolled back, and the
decision's note says what must be done by hand), so the one decision note says what happened. The
executors take only the requests commerce made itself (their payload names the action): a ``refund``
asked for by hand from the conversation page, with no order behind it, stays manual work.
"""

from __future__ import annotations

import logging
from typing import Any

from amity.commerce import agent, agent_money
from amity.commerce.schemas import CreateOrderAct, GoodwillAct, RefundAct, UpgradeShippingAct
from amity.core.actions import ActionContext, ActionError, App
from amity.service.approvals import ApprovalRequest, register_executor

log = logging.getLogger(__name__)


def _run(
    ctx: ActionContext, app: App, action: str, payload: dict[str, Any], approval_id: str
) -> dict[str, Any]:
    body = payload.get("body") or {}
    if action == "create_order":
        return agent.create_order(ctx, app, CreateOrderAct.model_validate(body), approved=approval_id)
    if action == "goodwill":
        return agent_money.goodwill(ctx, app, GoodwillAct.model_validate(body), approved=approval_id)
    if action == "upgrade_shipping":
        return agent_money.upgrade_shipping(
            ctx, app, UpgradeShippingAct.model_validate(body), approved=approval_id
        )
    if action == "refund":
        return agent_money.refund_act(ctx, app, RefundAct.model_validate(body), approved=approval_id)
    raise ActionError(422, "invalid", f"unknown commerce action {action!r}", field="payload")


def _executor(app: App) -> Any:
    def execute(ctx: ActionContext, request: ApprovalRequest) -> dict[str, Any] | None:
        action = request.payload.get("commerce")
        if not isinstance(action, str):
            raise ActionError(
                422, "invalid", "this request names no commerce action to carry out", field="payload"
            )
        return _run(ctx, app, action, request.payload, request.id)

    execute.__qualname__ = "commerce"
    return execute


def _ours(payload: dict[str, Any]) -> bool:
    """Requests commerce made itself name their action; a refund asked for by hand names none."""
    return isinstance(payload.get("commerce"), str)


def install(app: App) -> None:
    ex = _executor(app)
    for kind in ("goodwill", "credit", "shipping", "replacement", "refund"):
        register_executor(kind, ex, applies=_ours, owner="commerce")
