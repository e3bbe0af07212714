"""Reading the audit trail: who touched what, when."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from amity.accounts.roles import Perm
from amity.core.actions import Actor, App
from amity.privacy import access_log
from amity.privacy.models import AuditEntry
from amity.web.auth import get_app, require
from amity.web.errors import ApiError
from amity.web.responses import Json

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit", summary="Audit log entries, newest first")
def get_audit(
    app: Annotated[App, Depends(get_app)],
    _: Annotated[Actor, Depends(require(Perm.AUDIT_READ))],
    subject_type: Annotated[str | None, Query(max_length=50)] = None,
    subject_id: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Json:
    q = select(AuditEntry)
    if subject_type:
        q = q.where(AuditEntry.subject_type == subject_type)
    if subject_id:
        q = q.where(AuditEntry.subject_id == subject_id)
    if action:
        q = q.where(AuditEntry.action == action)
    with app.db.read() as s:
        rows = s.scalars(q.order_by(AuditEntry.id.desc()).limit(limit)).all()
        items = [
            {
                "id": r.id,
                "at": r.at.isoformat(),
                "actor": r.actor,
                "action": r.action,
                "subject_type": r.subject_type,
                "subject_id": r.subject_id,
                "details": r.details,
                "request_id": r.request_id,
            }
            for r in rows
        ]
    return Json({"items": items})


@router.get("/access-log", summary="Who viewed which customer or conversation, newest first (hash-chained)")
def get_access_log(
    app: Annotated[App, Depends(get_app)],
    _: Annotated[Actor, Depends(require(Perm.ACCESS_LOG_READ))],
    actor: Annotated[str | None, Query(max_length=200, description="e.g. user:usr_…")] = None,
    subject_type: Annotated[str | None, Query(pattern="^(customer|conversation)$")] = None,
    subject_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[dt.datetime | None, Query(description="ISO time with zone; inclusive")] = None,
    until: Annotated[dt.datetime | None, Query(description="ISO time with zone; exclusive")] = None,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="seq to page back from")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Json:
    filters = access_log.Filters(
        actor, subject_type, subject_id, _aware(since, "since"), _aware(until, "until"), before
    )
    with app.db.read() as s:
        items = access_log.entries(s, filters, limit)
    nxt = items[-1]["seq"] if len(items) == limit else None
    return Json({"items": items, "next_before": nxt})


def _aware(t: dt.datetime | None, field: str) -> dt.datetime | None:
    # A time without a zone is taken as UTC, like every time Amity stores.
    if t is None:
        return None
    try:
        return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise ApiError(422, "invalid", "outside the years 1-9999 in UTC", field) from None
