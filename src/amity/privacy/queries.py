"""Reading data-subject requests and what the pages and the API show of them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amity.core.actions import NotFound
from amity.privacy.request_models import OPEN_STATUSES, STATUSES, PrivacyRequest


def _iso(t: dt.datetime | None) -> str | None:
    return t.isoformat() if t else None


def export_ready(r: PrivacyRequest, home: Path, now: dt.datetime) -> bool:
    return bool(
        r.type == "access"
        and r.status == "completed"
        and r.export_path
        and r.export_expires_at
        and r.export_expires_at > now
        and (home / r.export_path).is_file()
    )


def request_out(r: PrivacyRequest, home: Path, now: dt.datetime) -> dict[str, Any]:
    left = r.due_at - now
    ready = export_ready(r, home, now)
    return {
        "id": r.id,
        "type": r.type,
        "customer_id": r.customer_id,
        "status": r.status,
        "source": r.source,
        "filed_by": r.filed_by,
        "verified_by": r.verified_by,
        "verification_method": r.verification_method,
        "verified_at": _iso(r.verified_at),
        "awaiting_approval": bool(r.result.get("awaiting_approval")) and r.status == "identity_verified",
        "note": r.note,
        "changes": r.changes,
        "received_at": r.received_at.isoformat(),
        "due_at": r.due_at.isoformat(),
        "days_left": left.days + (1 if left.seconds else 0) if r.status in OPEN_STATUSES else None,
        "overdue": r.status in OPEN_STATUSES and left.total_seconds() < 0,
        "extension_reason": r.extension_reason,
        "extended_at": _iso(r.extended_at),
        "started_at": _iso(r.started_at),
        "completed_at": _iso(r.completed_at),
        "denied_reason": r.denied_reason,
        "result": {k: v for k, v in r.result.items() if k != "awaiting_approval"},
        "download_url": f"/api/v1/privacy/requests/{r.id}/export" if ready else None,
        "download_expires_at": _iso(r.export_expires_at) if ready else None,
    }


def get(session: Session, request_id: str) -> PrivacyRequest:
    r = session.get(PrivacyRequest, request_id)
    if r is None:
        raise NotFound(f"no privacy request {request_id}", field="request_id")
    return r


def listing(session: Session, status: str, limit: int, offset: int) -> tuple[list[PrivacyRequest], int]:
    q = select(PrivacyRequest)
    if status == "open":
        q = q.where(PrivacyRequest.status.in_(OPEN_STATUSES))
    elif status in STATUSES:
        q = q.where(PrivacyRequest.status == status)
    total = int(session.scalar(select(func.count()).select_from(q.subquery())) or 0)
    rows = list(
        session.scalars(q.order_by(PrivacyRequest.due_at, PrivacyRequest.id).limit(limit).offset(offset))
    )
    return rows, total


def of_customer(session: Session, customer_ids: list[str]) -> list[PrivacyRequest]:
    return list(
        session.scalars(
            select(PrivacyRequest)
            .where(PrivacyRequest.customer_id.in_(customer_ids))
            .order_by(PrivacyRequest.received_at.desc())
        )
    )
