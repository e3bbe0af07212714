"""Carrying out a verified request, as a job: claim it, do it, record the outcome.

A job carries only the request id. Claiming is a conditional UPDATE, so a job that runs twice (a
retry, the sweep finding it too) does the work once; a run that fails releases the request and the
sweep tries again later.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import select

from amity.conversations import privacy as conversation_data
from amity.core.actions import ActionError, Actor, App, NotFound, perform
from amity.customers import queries as customer_queries
from amity.customers import service as customer_service
from amity.db import utcnow
from amity.privacy import erasure, export, requests
from amity.privacy.request_models import PrivacyRequest

log = logging.getLogger(__name__)

ACTOR = Actor(kind="system", id="privacy", role="admin", name="Privacy requests")


def person(app: App, customer_id: str) -> list[str]:
    """Every profile id of the person (live one first); [] for an id that names nobody."""
    with app.db.read() as s:
        try:
            return customer_queries.profile_ids(s, customer_id)
        except NotFound:
            return []


def run(app: App, request_id: str, now: dt.datetime | None = None) -> str:
    now = now or utcnow()
    if not perform(app, ACTOR, requests.claim, request_id, now):
        return "skipped"
    with app.db.read() as s:
        r = s.get(PrivacyRequest, request_id)
    assert r is not None
    try:
        if r.type == "access":
            _access(app, r, now)
        elif r.type == "erasure":
            erased = perform(
                app,
                ACTOR,
                erasure.erase_person,
                r.id,
                person(app, r.customer_id),
                str(app.cache["secret_key"]),
                str(app.settings.home),
                now,
            )
            erasure.after_erasure(app, erased)
        elif r.type == "rectification":
            _rectify(app, r, now)
        else:
            _restrict(app, r, now)
    except Exception as exc:
        log.exception("privacy request %s failed; the sweep will try again", request_id)
        perform(app, ACTOR, requests.release, request_id, f"{type(exc).__name__}: {exc}", now)
        return "failed"
    return "completed"


def _access(app: App, r: PrivacyRequest, now: dt.datetime) -> None:
    ids = person(app, r.customer_id)
    with app.db.read() as s:
        data = export.collect(s, ids)
        files = conversation_data.attachment_files(s, ids) if ids else []
    rel = export.write_zip(Path(app.settings.home), r.id, r.customer_id, data, files, now=now)
    rows = sum(len(rows) for tables in data.values() for rows in tables.values())
    perform(
        app,
        ACTOR,
        requests.complete,
        r.id,
        now,
        {"rows": rows, "files": len(files)},
        export_path=rel,
        export_days=export.EXPORT_DAYS,
    )


def _rectify(app: App, r: PrivacyRequest, now: dt.datetime) -> None:
    ids = person(app, r.customer_id)
    if ids:
        event: dict[str, Any] = {
            "type": "privacy.rectified",
            "source": "privacy",
            "customer_id": ids[0],
            "traits": r.changes,
            # Correcting data we hold is a legal obligation (GDPR art. 16), also for an erased-and-back person.
            "properties": {"lawful_basis": "legal_obligation", "request_id": r.id},
        }
        result = customer_service.ingest(app, ACTOR, [event])["results"][0]
        if result["status"] == "rejected":
            raise ActionError(422, "invalid", "; ".join(e["message"] for e in result["errors"]))
    perform(app, ACTOR, requests.complete, r.id, now, {"traits": sorted(r.changes)})


def _restrict(app: App, r: PrivacyRequest, now: dt.datetime) -> None:
    from amity.privacy import restriction

    ids = person(app, r.customer_id)
    done = restriction.restrict(app, ACTOR, ids, r.id) if ids else []
    perform(app, ACTOR, requests.complete, r.id, now, {"restricted": done})


def due(app: App, now: dt.datetime, limit: int = 50) -> list[str]:
    """Requests ready to run that no live worker holds: lost jobs, failed runs, dead workers."""
    with app.db.read() as s:
        rows = s.execute(
            select(
                PrivacyRequest.id, PrivacyRequest.status, PrivacyRequest.claimed_until, PrivacyRequest.result
            )
            .where(PrivacyRequest.status.in_(("identity_verified", "in_progress")))
            .order_by(PrivacyRequest.due_at)
            .limit(limit)
        ).all()
    out = []
    for rid, status, claimed_until, result in rows:
        if (status == "identity_verified" and not (result or {}).get("awaiting_approval")) or (
            status == "in_progress" and claimed_until is not None and claimed_until < now
        ):
            out.append(rid)
    return out
