"""Approvals: asking for what is beyond one's authority, deciding, carrying it out, telling the customer.

- A request within the requester's own tier limit (kind and currency) is approved at once; anything
  else waits for an approver: a supervisor or admin, or a person whose tier ``may_approve`` (who may
  approve only up to their own limit). Nobody decides their own request.
- A decision audits itself, notes the outcome on the conversation, runs the executor registered for
  the kind (``register_executor``; the commerce capability registers ``refund``), and tells the
  customer on their own channel, signed by the brand.
- The executor and the customer message each run in a SAVEPOINT: if either fails, the decision
  still stands, and the note says what must be done by hand.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from amity.accounts.roles import Perm, allowed
from amity.conversations.actions import add_message
from amity.conversations.changes import get_conversation
from amity.core.actions import ActionContext, ActionError, Actor, Conflict, Invalid, NotFound
from amity.customers.queries import resolve_customer
from amity.ids import new_id
from amity.service import notices
from amity.service.facts import display_name
from amity.service.macros import context as macro_context
from amity.service.models import APPROVAL_KINDS, AgentProfile, Approval, Tier

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class ApprovalRequest:
    """What an executor is given: the approved request, as data (not the row, which it must not edit)."""

    id: str
    conversation_id: str
    customer_id: str
    kind: str
    amount_minor: int
    currency: str
    reason: str
    payload: dict[str, Any]
    requested_by: str
    decided_by: str


Executor = Callable[[ActionContext, ApprovalRequest], dict[str, Any] | None]
Applies = Callable[[dict[str, Any]], bool]
# kind -> owner -> (executor, which payloads it takes; None: every one), first registered first asked.
# Several capabilities may carry out one kind: commerce refunds the requests it made itself (their
# payload names the order), while a refund asked for by hand stays someone else's (or manual) work.
_EXECUTORS: dict[str, dict[str, tuple[Executor, Applies | None]]] = {}


def register_executor(
    kind: str, fn: Executor, *, applies: Applies | None = None, owner: str | None = None
) -> None:
    """Carry out approved requests of ``kind`` whose payload ``applies`` accepts (in the decision's
    transaction, within a savepoint). Registering again under the same ``owner`` (default: the
    function's qualified name) replaces the earlier one."""
    if kind not in APPROVAL_KINDS:
        raise ValueError(f"unknown approval kind {kind!r}; one of {', '.join(APPROVAL_KINDS)}")
    key = owner or str(getattr(fn, "__qualname__", repr(fn)))
    _EXECUTORS.setdefault(kind, {})[key] = (fn, applies)


def unregister_executor(kind: str, owner: str | None = None) -> None:
    """Forget ``owner``'s executor of ``kind``, or every executor of it."""
    if owner is None:
        _EXECUTORS.pop(kind, None)
    else:
        _EXECUTORS.get(kind, {}).pop(owner, None)


def executor_for(kind: str, payload: dict[str, Any] | None = None) -> Executor | None:
    for fn, applies in _EXECUTORS.get(kind, {}).values():
        if applies is None or applies(payload or {}):
            return fn
    return None


def tier_of(ctx: ActionContext, actor: Actor) -> Tier | None:
    if actor.kind != "user":
        return None
    profile = ctx.session.get(AgentProfile, actor.id)
    return ctx.session.get(Tier, profile.tier_id) if profile and profile.tier_id else None


def limit_of(tier: Tier | None, kind: str, currency: str) -> int | None:
    if tier is None:
        return None
    value = (tier.limits.get(kind) or {}).get(currency.upper())
    return int(value) if value is not None else None


def _attempt(ctx: ActionContext, fn: Callable[[], T], catch: type[Exception]) -> tuple[T | None, str | None]:
    """Run ``fn`` in a SAVEPOINT; on failure undo its writes, audit rows and events, and say why."""
    audits, events = len(ctx._audit_rows), len(ctx.events)
    try:
        with ctx.session.begin_nested():
            return fn(), None
    except catch as exc:
        del ctx._audit_rows[audits:]
        del ctx.events[events:]
        if not isinstance(exc, ActionError):
            log.exception("approval step failed")
        return None, exc.message if isinstance(exc, ActionError) else f"{type(exc).__name__}: {exc}"


def request_approval(
    ctx: ActionContext,
    conversation_id: str,
    kind: str,
    amount_minor: int,
    currency: str,
    reason: str,
    payload: dict[str, Any] | None,
    now: dt.datetime,
) -> Approval:
    conv = get_conversation(ctx, conversation_id)
    if conv.merged_into_id or conv.status == "closed":
        raise Conflict("approvals are asked on a live conversation", field="conversation_id")
    if kind not in APPROVAL_KINDS:
        raise Invalid(f"one of {', '.join(APPROVAL_KINDS)}", field="kind")
    currency = currency.upper()
    limit = limit_of(tier_of(ctx, ctx.actor), kind, currency)
    row = Approval(
        id=new_id("apr"),
        conversation_id=conv.id,
        customer_id=resolve_customer(ctx.session, conv.customer_id),
        kind=kind,
        amount_minor=amount_minor,
        currency=currency,
        reason=reason.strip(),
        payload=payload or {},
        status="pending",
        auto=False,
        requested_by=ctx.actor.label,
        limit_minor=limit,
        execution={},
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    within = limit is not None and amount_minor <= limit
    ctx.audit(
        "approval.requested",
        "approval",
        row.id,
        conversation_id=conv.id,
        kind=kind,
        amount_minor=amount_minor,
        currency=currency,
        limit_minor=limit,
        within_limit=within,
    )
    ctx.publish(
        "approval.requested",
        approval_id=row.id,
        conversation_id=conv.id,
        kind=kind,
        amount_minor=amount_minor,
        currency=currency,
        within_limit=within,
    )
    if within:
        _decide(ctx, row, "approved", "within the requester's own authority", now, auto=True)
    else:
        who = display_name(ctx.session, ctx.actor)
        add_message(
            ctx,
            conv.id,
            text=notices.requested_note(kind, amount_minor, currency, row.reason, limit, who),
            note=True,
        )
    return row


def check_approver(ctx: ActionContext, actor: Actor, row: Approval, decision: str) -> None:
    if actor.label == row.requested_by:
        raise ActionError(403, "forbidden", "nobody decides their own request", field="approval_id")
    if allowed(actor.role, Perm.APPROVALS_DECIDE):
        return
    tier = tier_of(ctx, actor)
    if tier is None or not tier.may_approve:
        raise ActionError(
            403, "forbidden", f"role '{actor.role}' may not decide approvals", field="approval_id"
        )
    limit = limit_of(tier, row.kind, row.currency)
    if decision == "approved" and (limit is None or row.amount_minor > limit):
        raise ActionError(
            403,
            "forbidden",
            f"{notices.money(row.amount_minor, row.currency)} is above what tier '{tier.name}' may approve",
            field="approval_id",
        )


def decide_approval(
    ctx: ActionContext, approval_id: str, decision: str, comment: str | None, now: dt.datetime
) -> Approval:
    row = ctx.session.get(Approval, approval_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no approval {approval_id}", field="approval_id")
    if decision not in ("approved", "denied"):
        raise Invalid("approved or denied", field="decision")
    if row.status != "pending":
        raise Conflict(f"the request was already {row.status}", field="decision")
    check_approver(ctx, ctx.actor, row, decision)
    return _decide(ctx, row, decision, comment, now, auto=False)


def _decide(
    ctx: ActionContext, row: Approval, decision: str, comment: str | None, now: dt.datetime, *, auto: bool
) -> Approval:
    row.status = decision
    row.auto = auto
    row.decided_by = ctx.actor.label
    row.decided_at = now
    row.comment = (comment or "").strip() or None
    row.updated_at = now
    ctx.session.flush()
    ctx.audit(f"approval.{decision}", "approval", row.id, conversation_id=row.conversation_id, auto=auto)
    execution: dict[str, Any] = {"status": "not_run"}
    if decision == "approved":
        execution = _execute(ctx, row)
    mc = macro_context(ctx.session, row.conversation_id, ctx.actor)
    text = notices.customer_reply(
        decision,
        row.kind,
        row.amount_minor,
        row.currency,
        mc["customer"]["first_name"],
        mc["brand"],
        execution.get("status") == "executed",
    )
    sent, why_not = _attempt(ctx, lambda: add_message(ctx, row.conversation_id, text=text), ActionError)
    execution["customer_message_id"] = sent.id if sent else None
    row.execution = execution
    ctx.audit(
        "approval.customer_notified" if sent else "approval.customer_not_notified",
        "approval",
        row.id,
        conversation_id=row.conversation_id,
        message_id=sent.id if sent else None,
        reason=why_not,
    )
    who = "the requester's own authority" if auto else display_name(ctx.session, ctx.actor)
    note = notices.decided_note(
        decision, row.kind, row.amount_minor, row.currency, who, row.comment, execution, why_not
    )
    add_message(ctx, row.conversation_id, text=note, note=True)
    ctx.publish(
        "approval.decided",
        approval_id=row.id,
        conversation_id=row.conversation_id,
        kind=row.kind,
        decision=decision,
        auto=auto,
        execution=execution.get("status"),
    )
    return row


def _execute(ctx: ActionContext, row: Approval) -> dict[str, Any]:
    fn = executor_for(row.kind, dict(row.payload))
    if fn is None:
        ctx.audit("approval.manual", "approval", row.id, kind=row.kind)
        return {"status": "manual"}
    request = ApprovalRequest(
        id=row.id,
        conversation_id=row.conversation_id,
        customer_id=row.customer_id,
        kind=row.kind,
        amount_minor=row.amount_minor,
        currency=row.currency,
        reason=row.reason,
        payload=dict(row.payload),
        requested_by=row.requested_by,
        decided_by=row.decided_by or ctx.actor.label,
    )
    name = getattr(fn, "__qualname__", row.kind)
    result, error = _attempt(ctx, lambda: fn(ctx, request), Exception)
    if error is not None:
        ctx.audit("approval.execution_failed", "approval", row.id, executor=name, error=error)
        return {"status": "failed", "executor": name, "error": error}
    ctx.audit("approval.executed", "approval", row.id, executor=name, result=result or {})
    return {"status": "executed", "executor": name, "result": result or {}}
