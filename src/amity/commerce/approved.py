"""Carrying out commerce actions that waited for an approver.

An over-limit action asked for approval with itself as the payload (``{"commerce": action, "body":
{...}}``). When it is approved:

- goodwill, credit, shipping upgrades and replacement orders run as the service capability's
  registered executors, inside the decision's transaction (a failure is a savepoint rolled back, and
  the decision's note says what must be done by hand);
- refunds run from the bus, on ``approval.decided``, in a transaction of their own. The ``refund``
  kind is also asked for by hand from the conversation page without any order behind it, which the
  service capability treats as manual work, so commerce takes only the refunds it asked for itself.
"""

from __future__ import annotations

import logging
from typing import Any

from amity.commerce import agent
from amity.commerce.schemas import CreateOrderAct, GoodwillAct, RefundAct, UpgradeShippingAct
from amity.conversations.actions import add_message
from amity.core.actions import ActionContext, ActionError, Actor, App, perform
from amity.core.bus import DomainEvent
from amity.service import queries as service_queries
from amity.service.approvals import ApprovalRequest, register_executor
from amity.service.notices import money

log = logging.getLogger(__name__)

COMMERCE = Actor(kind="system", id="commerce", role="admin", name="Commerce")


def _run(
    ctx: ActionContext, app: App, action: str, payload: dict[str, Any], approval_id: str
) -> dict[str, Any]:
    body = payload.get("body") or {}
    if action == "create_order":
        return agent.create_order(ctx, app, CreateOrderAct.model_validate(body), approved=approval_id)
    if action == "goodwill":
        return agent.goodwill(ctx, app, GoodwillAct.model_validate(body), approved=approval_id)
    if action == "upgrade_shipping":
        return agent.upgrade_shipping(ctx, app, UpgradeShippingAct.model_validate(body), approved=approval_id)
    if action == "refund":
        return agent.refund_act(ctx, app, RefundAct.model_validate(body), approved=approval_id)
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


def on_decided(app: App, event: DomainEvent) -> None:
    if event.data.get("decision") != "approved" or event.data.get("kind") != "refund":
        return
    with app.db.read() as s:
        approval = service_queries.get_approval(s, str(event.data["approval_id"]))
    if approval["payload"].get("commerce") != "refund":
        return  # a refund asked for by hand: the approver's note already says it is manual work
    try:
        perform(app, COMMERCE, _run, app, "refund", approval["payload"], approval["id"])
    except ActionError as exc:
        why = exc.message
        log.warning("approved refund %s could not be carried out: %s", approval["id"], why)
        what = money(approval["amount_minor"], approval["currency"])
        perform(
            app,
            COMMERCE,
            lambda ctx: add_message(
                ctx,
                approval["conversation_id"],
                text=f"The approved refund of {what} could not be carried out ({why}); please do it by hand.",
                note=True,
            ),
        )


def install(app: App) -> None:
    ex = _executor(app)
    for kind in ("goodwill", "credit", "shipping", "replacement"):
        register_executor(kind, ex)
    app.bus.subscribe("approval.decided", lambda event: on_decided(app, event))
