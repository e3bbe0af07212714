"""The access log: every view of a customer's data, append-only and hash-chained.

Who looked at which customer or conversation, when, through which route, in which request. Views are
recorded by the HTTP layer (amity.web.middleware) after a 2xx answer from one of the WATCHED routes,
so the pages and API routes themselves need no code for it, and a route that is not watched fails
tests/test_access_log.py. Another capability that adds a read route for customer data calls
:func:`watch` from its ``install(app)`` (or :func:`exempt`, with the reason, for a route under a
customer or conversation that shows neither).

Chain: ``hash = sha256(prev_hash + canonical(row))`` where the canonical row is a JSON array of every
column but the hashes. The first row's prev_hash is 64 zeros. Writers take the chain lock (a
PostgreSQL advisory lock held to the end of the transaction; SQLite serialises writers with
BEGIN IMMEDIATE already), read the head row, append and move the head: the chain never forks.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
from sqlalchemy import Select, select, text
from sqlalchemy.orm import Session

from amity.core.actions import ActionContext
from amity.db import utcnow
from amity.privacy.models import AccessLogEntry, AccessLogHead

GENESIS = "0" * 64
HEAD_ID = 1
# Any fixed 64-bit number unique to this lock in the database (the bytes spell "amityacl").
PG_LOCK_KEY = 0x616D69747961636C & 0x7FFFFFFFFFFFFFFF
ID_RE = re.compile(r"^[a-z]{2,4}_[0-9a-z]{26}$")


@dataclass(frozen=True)
class Watched:
    method: str
    template: str  # the route's path template, e.g. "/customers/{customer_id}"
    subject_type: str  # "customer" | "conversation"
    param: str  # the path parameter holding the subject's id
    pattern: re.Pattern[str]


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[a-z_]+\})", template)
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{regex}$")


_WATCHED: dict[tuple[str, str], Watched] = {}


def watch(method: str, template: str, subject_type: str, param: str) -> None:
    """Record every 2xx answer of this route as a view of ``subject_type`` ``path[param]``."""
    if f"{{{param}}}" not in template:
        raise ValueError(f"{template} has no {{{param}}}")
    _WATCHED[(method, template)] = Watched(method, template, subject_type, param, _compile(template))


# The routes that show a customer's profile or a conversation (docs/security.md lists them too).
for _template in (
    "/customers/{customer_id}",
    "/customers/{customer_id}/traits",
    "/api/v1/customers/{customer_id}",
    "/api/v1/customers/{customer_id}/events",
    "/api/v1/customers/{customer_id}/traits/history",
    # what other capabilities show of a person: consents, orders and the rest of the commerce profile
    "/customers/{customer_id}/consents",
    "/api/v1/customers/{customer_id}/consents",
    "/api/v1/customers/{customer_id}/commerce",
    "/api/v1/customers/{customer_id}/orders",
):
    watch("GET", _template, "customer", "customer_id")
for _template in (
    "/conversations/{conversation_id}",
    "/api/v1/conversations/{conversation_id}",
    "/api/v1/conversations/{conversation_id}/escalations",
    "/api/v1/conversations/{conversation_id}/service-levels",
    # the stock dialog beside a conversation shows the customer's size advice and reservations
    "/conversations/{conversation_id}/stock",
):
    watch("GET", _template, "conversation", "conversation_id")


_EXEMPT: dict[tuple[str, str], str] = {}


def exempt(method: str, template: str, reason: str) -> None:
    """Declare a GET route under a customer or conversation that shows neither (an inbox row, a stock
    lookup): tests/test_access_log.py then lets it be unwatched, and docs show the reason."""
    _EXEMPT[(method, template)] = reason


def exemptions() -> dict[tuple[str, str], str]:
    return dict(_EXEMPT)


# One inbox row (subject, status, SLA due) refreshed live: part of the inbox list, not the conversation.
exempt("GET", "/inbox/rows/{conversation_id}", "an inbox list row, refreshed live")


def watched() -> list[Watched]:
    return sorted(_WATCHED.values(), key=lambda w: (w.template, w.method))


def match(method: str, path: str) -> tuple[Watched, str] | None:
    """The watched route this request is, and the subject id, if it is one. Only well-formed ids
    count, so a literal route beside a template (``/customers/new``) is never taken for a view."""
    for w in _WATCHED.values():
        if w.method != method:
            continue
        m = w.pattern.match(path)
        if m is not None and ID_RE.match(m.group(w.param)):
            return w, m.group(w.param)
    return None


# ---- writing -------------------------------------------------------------------------------------
def canonical(row: AccessLogEntry) -> bytes:
    return orjson.dumps(
        [
            row.seq,
            row.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            row.actor,
            row.actor_role,
            row.subject_type,
            row.subject_id,
            row.route,
            row.request_id,
        ]
    )


def row_hash(prev_hash: str, row: AccessLogEntry) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(row)).hexdigest()


def _lock_chain(session: Session) -> AccessLogHead | None:
    if session.get_bind().dialect.name == "postgresql":
        # Held until commit or rollback; covers the first append too, when there is no head row to lock.
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK_KEY})
    return session.get(AccessLogHead, HEAD_ID, populate_existing=True)


def record_view(
    ctx: ActionContext, subject_type: str, subject_id: str, route: str, request_id: str | None
) -> int:
    """Append one view; returns its seq. Writes no audit row: the access log is its own trail."""
    head = _lock_chain(ctx.session)
    prev = head.hash if head else GENESIS
    # Microseconds only: what both databases store exactly, so the hash recomputes from what was kept.
    row = AccessLogEntry(
        seq=(head.seq if head else 0) + 1,
        at=utcnow(),
        actor=ctx.actor.label,
        actor_role=ctx.actor.role,
        subject_type=subject_type,
        subject_id=subject_id,
        route=route[:200],
        request_id=request_id,
        prev_hash=prev,
    )
    row.hash = row_hash(prev, row)
    ctx.session.add(row)
    if head is None:
        ctx.session.add(AccessLogHead(id=HEAD_ID, seq=row.seq, hash=row.hash))
    else:
        head.seq, head.hash = row.seq, row.hash
    ctx.session.flush()
    return row.seq


# ---- verifying -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    ok: bool
    rows: int  # rows checked
    broken_seq: int | None = None  # the first row that does not fit the chain
    reason: str = ""


def verify(session: Session, batch: int = 5000) -> Verdict:
    """Walk the whole chain; the first row whose seq, prev_hash or hash is not what it must be."""
    expected_seq, prev, n = 1, GENESIS, 0
    last = session.scalar(select(AccessLogEntry.seq).order_by(AccessLogEntry.seq.desc()).limit(1))
    after = 0
    while True:
        rows = session.scalars(
            select(AccessLogEntry).where(AccessLogEntry.seq > after).order_by(AccessLogEntry.seq).limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                return Verdict(False, n, expected_seq, f"row {expected_seq} is missing (next is {row.seq})")
            if row.prev_hash != prev:
                return Verdict(False, n, row.seq, "prev_hash does not match the row before it")
            if row_hash(prev, row) != row.hash:
                return Verdict(False, n, row.seq, "the row's content does not match its hash")
            prev, expected_seq, n = row.hash, expected_seq + 1, n + 1
        after = rows[-1].seq
    head = session.get(AccessLogHead, HEAD_ID)
    if head is None:
        if last is None:
            return Verdict(True, 0)
        return Verdict(False, n, 1, "the chain head is missing")
    if head.seq != n or head.hash != prev:
        return Verdict(False, n, n + 1, f"the chain head says {head.seq} rows; rows after {n} were deleted")
    return Verdict(True, n)


# ---- reading -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    actor: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    before_seq: int | None = None  # paging, newest first


def _query(f: Filters) -> Select[AccessLogEntry]:
    q = select(AccessLogEntry)
    if f.actor:
        q = q.where(AccessLogEntry.actor == f.actor)
    if f.subject_type:
        q = q.where(AccessLogEntry.subject_type == f.subject_type)
    if f.subject_id:
        q = q.where(AccessLogEntry.subject_id == f.subject_id)
    if f.since:
        q = q.where(AccessLogEntry.at >= f.since)
    if f.until:
        q = q.where(AccessLogEntry.at < f.until)
    if f.before_seq:
        q = q.where(AccessLogEntry.seq < f.before_seq)
    return q.order_by(AccessLogEntry.seq.desc())


def as_dict(r: AccessLogEntry) -> dict[str, object]:
    return {
        "seq": r.seq,
        "at": r.at.isoformat(),
        "actor": r.actor,
        "actor_role": r.actor_role,
        "subject_type": r.subject_type,
        "subject_id": r.subject_id,
        "route": r.route,
        "request_id": r.request_id,
        "prev_hash": r.prev_hash,
        "hash": r.hash,
    }


def entries(session: Session, f: Filters, limit: int = 100) -> list[dict[str, object]]:
    return [as_dict(r) for r in session.scalars(_query(f).limit(limit))]


CSV_COLUMNS = (
    "seq",
    "at",
    "actor",
    "actor_role",
    "subject_type",
    "subject_id",
    "route",
    "request_id",
    "hash",
)


def _csv_cell(value: object) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet; quote it so an export opens safely.
    s = "" if value is None else str(value)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


def csv_lines(session: Session, f: Filters, batch: int = 2000) -> Iterator[str]:
    """The filtered log as CSV, newest first, in pages so a long export needs little memory."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    yield buf.getvalue()
    before = f.before_seq
    while True:
        page = Filters(f.actor, f.subject_type, f.subject_id, f.since, f.until, before)
        rows = session.scalars(_query(page).limit(batch)).all()
        if not rows:
            return
        buf.seek(0)
        buf.truncate()
        for r in rows:
            d = as_dict(r)
            writer.writerow([_csv_cell(d[c]) for c in CSV_COLUMNS])
        yield buf.getvalue()
        before = rows[-1].seq
