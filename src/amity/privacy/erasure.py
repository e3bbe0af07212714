"""Erasure: every holder's erase in one transaction, tombstones, then files, logs and free pages.

What stays is what no one can be identified by: the profile id, conversation and message rows with
their statuses and times, events' types and times, amounts. Everything else goes (docs/privacy.md,
"Erasure"). On SQLite, ``secure_delete`` zeroes freed space as rows change, and a TRUNCATE checkpoint
after commit leaves no old page copy in the write-ahead log; PostgreSQL's dead row versions are not
readable through SQL and are reclaimed by (auto)vacuum.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Text, cast, or_, select, text, update
from sqlalchemy.orm import Session

from amity.conversations.privacy import HASH_INFO, HOME_KEY, conversation_ids
from amity.core.actions import ActionContext, App
from amity.customers import privacy as customer_data
from amity.privacy import export, holders, logscrub, requests, tombstones
from amity.privacy.models import AuditEntry
from amity.privacy.request_models import PrivacyRequest

REDACTED = "[erased]"

log = logging.getLogger(__name__)


@dataclass
class Erased:
    needles: set[str] = field(default_factory=set)
    exports: list[str] = field(default_factory=list)


def prepare_session(session: Session, app: App) -> None:
    """What holders need beyond the session: the data directory and the app's secret."""
    session.info[HOME_KEY] = str(app.settings.home)
    session.info[HASH_INFO] = str(app.cache["secret_key"])


def erase_person(
    ctx: ActionContext, request_id: str, ids: list[str], secret: str, home: str, now: dt.datetime
) -> Erased:
    s = ctx.session
    s.info[HOME_KEY], s.info[HASH_INFO] = home, secret
    if s.get_bind().dialect.name == "sqlite":
        s.connection().exec_driver_sql("PRAGMA secure_delete=ON")
    out = Erased()
    counts: dict[str, int] = {}
    if ids:
        out.needles = customer_data.personal_strings(s, ids) | set(ids)
        idents = customer_data.identifiers(s, ids)
        for h in holders.holders():
            h.erase(s, ids)
            counts[h.name] = 1
        counts["tombstones"] = tombstones.bury(
            s, secret, [*idents, *((tombstones.CUSTOMER_ID, i) for i in ids)], request_id
        )
        counts["audit"] = redact_audit(s, ids, out.needles)
        out.needles.discard("")
    # Earlier access exports are the person's whole record in one file: they go too.
    prior = s.execute(
        select(PrivacyRequest.id, PrivacyRequest.export_path).where(
            PrivacyRequest.customer_id.in_(ids or ["-"]), PrivacyRequest.export_path.is_not(None)
        )
    ).all()
    out.exports = [p for _, p in prior if p]
    s.execute(
        update(PrivacyRequest)
        .where(PrivacyRequest.id.in_([i for i, _ in prior]))
        .values(export_path=None, export_expires_at=None)
    )
    # The same result whether or not the id named anybody: the answer must not tell.
    requests.complete(ctx, request_id, now, {"holders": sorted(h.name for h in holders.holders())})
    return out


FREE_TEXT = frozenset({"subject", "reason", "note", "text", "comment", "evidence", "traits", "changes"})


def _redact(value: Any, needles: list[str], key: str = "") -> Any:
    if key in FREE_TEXT and value not in (None, "", {}, []):
        return REDACTED
    if isinstance(value, str):
        low = value.lower()
        return REDACTED if any(n in low for n in needles) else value
    if isinstance(value, dict):
        return {k: _redact(v, needles, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, needles) for v in value]
    return value


def redact_audit(session: Session, ids: list[str], needles: set[str]) -> int:
    """The audit trail stays (who did what, when): its details lose what names the person."""
    convs = conversation_ids(session, ids)
    low = sorted({n.lower() for n in needles if n not in ids})
    rows = session.execute(
        select(AuditEntry.id, AuditEntry.details).where(
            ((AuditEntry.subject_type == "customer") & AuditEntry.subject_id.in_(ids))
            | ((AuditEntry.subject_type == "conversation") & AuditEntry.subject_id.in_(convs or ["-"]))
            | or_(*(cast(AuditEntry.details, Text).contains(n, autoescape=True) for n in [*ids, *low]))
        )
    ).all()
    n = 0
    for audit_id, details in rows:
        clean = _redact(details or {}, low)
        if clean != details:
            session.execute(update(AuditEntry).where(AuditEntry.id == audit_id).values(details=clean))
            n += 1
    return n


def privacy_erase(session: Session, ids: list[str]) -> None:
    """The privacy holder's own erase: a request's note and rectification values are personal; the
    request itself (type, dates, who handled it) is the proof that it was carried out and stays."""
    session.execute(
        update(PrivacyRequest).where(PrivacyRequest.customer_id.in_(ids)).values(note=None, changes={})
    )


def privacy_export(session: Session, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    from amity.privacy.rows import as_dicts

    rows = session.scalars(select(PrivacyRequest).where(PrivacyRequest.customer_id.in_(ids)))
    return {"privacy_requests": as_dicts(rows)}


holders.register(
    holders.DataHolder(
        name="privacy", tables=("privacy_requests",), export=privacy_export, erase=privacy_erase
    )
)


def after_erasure(app: App, erased: Erased) -> dict[str, Any]:
    """What cannot be in the transaction: files, logs, and the SQLite write-ahead log."""
    home = Path(app.settings.home)
    for rel in erased.exports:
        export.remove(home, rel)
    lines = logscrub.scrub(home, erased.needles)
    if app.db.is_sqlite:
        with app.db.engine.connect() as conn:
            # TRUNCATE: old copies of the changed pages live in the WAL until it is reset.
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.commit()
    else:
        _vacuum(app)
    return {"log_lines_redacted": sum(lines.values())}


def _vacuum(app: App) -> None:
    # Dead row versions are unreadable through SQL but stay in the table files until vacuumed; do it
    # now for the tables erasure touches rather than whenever autovacuum gets there.
    names = sorted(covered for covered in holders.covered_tables())
    try:
        with app.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM " + ", ".join(names)))
    except Exception:  # an installation without the privilege still erased everything through SQL
        log.warning(
            "VACUUM after erasure failed; autovacuum will reclaim the old row versions", exc_info=True
        )
