"""Reading the audit trail: who touched what, when."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from amity.accounts.roles import Perm
from amity.core.actions import Actor, App
from amity.privacy.models import AuditEntry
from amity.web.auth import get_app, require
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
