"""Data-subject requests: filing, verifying, extending, denying, approving; and their lifecycle.

    received -> identity_verified -> in_progress -> completed
            \\-> denied (from any open state)

A request filed with a verification (who checked it is the person, and how) starts verified and,
once committed, is run by a job on its own (``privacy.request.ready``). One exception, by design
(docs/privacy.md, "Who may do what"): an erasure filed by someone without ``privacy:manage`` waits for
a lead to approve it, because it cannot be undone.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from sqlalchemy import update

from amity.accounts.roles import Perm, allowed
from amity.core.actions import ActionContext, Conflict, Invalid, NotFound
from amity.customers.queries import trait_schema
from amity.customers.traits import TraitValueError, validate_value
from amity.ids import new_id
from amity.privacy.request_models import OPEN_STATUSES, PrivacyRequest
from amity.privacy.schemas import RequestIn

READY = "privacy.request.ready"
LEASE = dt.timedelta(minutes=10)  # a worker that has not finished by then is presumed dead


def add_months(t: dt.datetime, months: int) -> dt.datetime:
    """Calendar months, the last day of a shorter month standing in (31 Jan + 1 month = 28/29 Feb)."""
    y, m = divmod(t.month - 1 + months, 12)
    year, month = t.year + y, m + 1
    return t.replace(year=year, month=month, day=min(t.day, calendar.monthrange(year, month)[1]))


def needs_approval(r: PrivacyRequest) -> bool:
    return r.status == "identity_verified" and bool(r.result.get("awaiting_approval"))


def _get(ctx: ActionContext, request_id: str) -> PrivacyRequest:
    r = ctx.session.get(PrivacyRequest, request_id, with_for_update=True)
    if r is None:
        raise NotFound(f"no privacy request {request_id}", field="request_id")
    return r


def _open(r: PrivacyRequest) -> None:
    if r.status not in OPEN_STATUSES:
        raise Conflict(f"the request is already {r.status}", field="request_id")


def _check_changes(ctx: ActionContext, data: RequestIn) -> dict[str, Any]:
    if data.type != "rectification":
        if data.changes:
            raise Invalid("changes only go with a rectification request", field="changes")
        return {}
    if not data.changes:
        raise Invalid("a rectification needs changes: the trait values to set", field="changes")
    schema = trait_schema(ctx.session)
    out: dict[str, Any] = {}
    for name, value in data.changes.items():
        spec = schema.get(name)
        if spec is None:
            raise Invalid(f"trait '{name}' is not declared", field=f"changes.{name}")
        try:
            out[name] = validate_value(spec, value)
        except TraitValueError as exc:
            raise Invalid(f"{exc} (trait type {spec.type})", field=f"changes.{name}") from None
    return out


def file_request(
    ctx: ActionContext, data: RequestIn, now: dt.datetime, *, source: str = "staff"
) -> PrivacyRequest:
    """File a request. The person need not exist: the answer is the same either way."""
    changes = _check_changes(ctx, data)
    verified = data.verification_method is not None
    r = PrivacyRequest(
        id=new_id("dsr"),
        type=data.type,
        customer_id=data.customer_id,
        status="identity_verified" if verified else "received",
        source=source,
        filed_by=ctx.actor.label,
        verified_by=(data.verified_by or ctx.actor.label) if verified else None,
        verification_method=data.verification_method,
        verified_at=now if verified else None,
        note=data.note,
        changes=changes,
        received_at=now,
        due_at=add_months(now, 1),
        result={},
        updated_at=now,
    )
    # The customer's own erasure (verified by their magic link) runs; an agent's waits for a lead.
    if (
        verified
        and data.type == "erasure"
        and source == "staff"
        and not allowed(ctx.actor.role, Perm.PRIVACY_MANAGE)
    ):
        r.result = {"awaiting_approval": True}
    ctx.session.add(r)
    ctx.session.flush()
    ctx.audit(
        "privacy.request.filed",
        "privacy_request",
        r.id,
        type=r.type,
        customer_id=r.customer_id,
        source=source,
        verified_by=r.verified_by,
        verification_method=r.verification_method,
    )
    if verified and not needs_approval(r):
        ctx.publish(READY, request_id=r.id)
    return r


def verify_request(
    ctx: ActionContext, request_id: str, verified_by: str | None, method: str, now: dt.datetime
) -> PrivacyRequest:
    r = _get(ctx, request_id)
    if r.status != "received":
        raise Conflict(f"the request is {r.status}, not waiting for verification", field="request_id")
    r.status, r.verified_by, r.verification_method, r.verified_at = (
        "identity_verified",
        verified_by or ctx.actor.label,
        method,
        now,
    )
    if r.type == "erasure" and not allowed(ctx.actor.role, Perm.PRIVACY_MANAGE):
        r.result = {**r.result, "awaiting_approval": True}
    r.updated_at = now
    ctx.audit("privacy.request.verified", "privacy_request", r.id, verified_by=r.verified_by, method=method)
    if not needs_approval(r):
        ctx.publish(READY, request_id=r.id)
    return r


def approve_request(ctx: ActionContext, request_id: str, now: dt.datetime) -> PrivacyRequest:
    r = _get(ctx, request_id)
    if not needs_approval(r):
        raise Conflict("the request is not waiting for approval", field="request_id")
    r.result = {k: v for k, v in r.result.items() if k != "awaiting_approval"} | {
        "approved_by": ctx.actor.label
    }
    r.updated_at = now
    ctx.audit("privacy.request.approved", "privacy_request", r.id)
    ctx.publish(READY, request_id=r.id)
    return r


def extend_request(
    ctx: ActionContext, request_id: str, reason: str, months: int, now: dt.datetime
) -> PrivacyRequest:
    r = _get(ctx, request_id)
    _open(r)
    if r.extended_at is not None:
        raise Conflict("the request was already extended; two further months is the most", field="months")
    r.due_at = add_months(r.received_at, 1 + months)
    r.extension_reason, r.extended_at, r.updated_at = reason, now, now
    ctx.audit("privacy.request.extended", "privacy_request", r.id, months=months, reason=reason)
    return r


def deny_request(ctx: ActionContext, request_id: str, reason: str, now: dt.datetime) -> PrivacyRequest:
    r = _get(ctx, request_id)
    _open(r)
    if r.status == "in_progress":
        raise Conflict("the request is being carried out; it can no longer be denied", field="request_id")
    r.status, r.denied_reason, r.completed_at, r.updated_at = "denied", reason, now, now
    ctx.audit("privacy.request.denied", "privacy_request", r.id, reason=reason)
    return r


def claim(ctx: ActionContext, request_id: str, now: dt.datetime) -> bool:
    """Take the request for running; False if someone else has it, or it is not ready."""
    s = ctx.session
    r = s.get(PrivacyRequest, request_id)
    if r is None or needs_approval(r):
        return False
    res = s.execute(
        update(PrivacyRequest)
        .where(
            PrivacyRequest.id == request_id,
            (PrivacyRequest.status == "identity_verified")
            | ((PrivacyRequest.status == "in_progress") & (PrivacyRequest.claimed_until < now)),
        )
        .values(status="in_progress", started_at=now, claimed_until=now + LEASE, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    won = bool(getattr(res, "rowcount", 0) == 1)
    if won:
        ctx.audit("privacy.request.started", "privacy_request", request_id, type=r.type)
    return won


def release(ctx: ActionContext, request_id: str, error: str, now: dt.datetime) -> None:
    """A run failed: back to verified so the sweep tries again; the reason is kept on the request."""
    r = _get(ctx, request_id)
    if r.status == "in_progress":
        r.status, r.claimed_until, r.updated_at = "identity_verified", None, now
        r.result = {**r.result, "last_error": error[:500]}
        ctx.audit("privacy.request.failed", "privacy_request", r.id, error=error[:500])


def complete(
    ctx: ActionContext,
    request_id: str,
    now: dt.datetime,
    result: dict[str, Any],
    *,
    export_path: str | None = None,
    export_days: int = 0,
) -> PrivacyRequest:
    r = _get(ctx, request_id)
    r.status, r.completed_at, r.claimed_until, r.updated_at = "completed", now, None, now
    r.result = {k: v for k, v in r.result.items() if k != "last_error"} | result
    if export_path:
        r.export_path = export_path
        r.export_expires_at = now + dt.timedelta(days=export_days)
    ctx.audit("privacy.request.completed", "privacy_request", r.id, type=r.type, **result)
    ctx.publish("privacy.request.completed", request_id=r.id, type=r.type)
    return r


def record_download(ctx: ActionContext, request_id: str, customer_id: str) -> None:
    """A download of an export is a view of everything held about the person: who, when."""
    ctx.audit("privacy.export.downloaded", "customer", customer_id, request_id=request_id)
