"""Reads of the customer core: the Customer 360, lookups, search and the trait schema."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import orjson
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from amity.core.actions import Invalid, NotFound
from amity.customers import graph
from amity.customers.identities import IdentifierError, IdentityPolicy, check_type
from amity.customers.models import Customer, Event, Identity, Merge, TraitDefinition, TraitHistory
from amity.customers.traits import TraitSpec

_SPEC_COLUMNS = (
    TraitDefinition.name,
    TraitDefinition.type,
    TraitDefinition.pii,
    TraitDefinition.purpose,
    TraitDefinition.retention_days,
    TraitDefinition.description,
    TraitDefinition.enum_values,
    TraitDefinition.builtin,
)


def trait_schema(session: Session) -> dict[str, TraitSpec]:
    # Plain columns, not ORM objects: every ingest batch reads the schema, and building and
    # identity-mapping the objects cost more than the query.
    return {
        name: TraitSpec(
            name=name,
            type=type_,
            pii=pii,
            purpose=purpose,
            retention_days=retention,
            description=description,
            enum_values=tuple(enum_values) if enum_values else None,
            builtin=builtin,
        )
        for name, type_, pii, purpose, retention, description, enum_values, builtin in session.execute(
            select(*_SPEC_COLUMNS)
        )
    }


def spec_of(r: TraitDefinition) -> TraitSpec:
    return TraitSpec(
        name=r.name,
        type=r.type,
        pii=r.pii,
        purpose=r.purpose,
        retention_days=r.retention_days,
        description=r.description,
        enum_values=tuple(r.enum_values) if r.enum_values else None,
        builtin=r.builtin,
    )


def trait_out(r: TraitDefinition) -> dict[str, Any]:
    return {
        "name": r.name,
        "type": r.type,
        "pii": r.pii,
        "purpose": r.purpose,
        "retention_days": r.retention_days,
        "description": r.description,
        "enum_values": r.enum_values,
        "builtin": r.builtin,
    }


def list_traits(session: Session) -> list[dict[str, Any]]:
    return [trait_out(r) for r in session.scalars(select(TraitDefinition).order_by(TraitDefinition.name))]


# ---- cursors -------------------------------------------------------------------------------------
def encode_cursor(ts: dt.datetime, event_id: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([graph.ts_key(ts), event_id])).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        ts_s, event_id = orjson.loads(raw)
        ts = dt.datetime.strptime(ts_s, graph.TS_FORMAT).replace(tzinfo=dt.UTC)
        if not isinstance(event_id, str) or "\x00" in event_id:
            raise TypeError
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise Invalid("not a cursor this API gave out", field="cursor") from None
    return ts, event_id


def event_out(e: Any) -> dict[str, Any]:
    out = {
        "id": e.id,
        "type": e.type,
        "timestamp": e.timestamp.isoformat(),
        "source": e.source,
        "identities": e.identities,
        "properties": e.properties,
    }
    if e.traits:
        out["traits"] = e.traits
    if e.flags:
        out["flags"] = e.flags
    return out


def timeline(
    session: Session,
    customer_id: str,
    *,
    limit: int = 20,
    cursor: str | None = None,
    type_: str | None = None,
) -> dict[str, Any]:
    """Newest first, cursor-paged over the (customer_id, timestamp) index."""
    q = select(
        Event.id,
        Event.type,
        Event.timestamp,
        Event.source,
        Event.identities,
        Event.properties,
        Event.traits,
        Event.flags,
    ).where(Event.customer_id == customer_id)
    if type_:
        q = q.where(Event.type == type_)
    if cursor:
        ts, eid = decode_cursor(cursor)
        q = q.where(or_(Event.timestamp < ts, and_(Event.timestamp == ts, Event.id < eid)))
    rows = session.execute(q.order_by(Event.timestamp.desc(), Event.id.desc()).limit(limit + 1)).all()
    items = [event_out(r) for r in rows[:limit]]
    nxt = encode_cursor(rows[limit - 1].timestamp, rows[limit - 1].id) if len(rows) > limit else None
    return {"items": items, "next_cursor": nxt}


def merge_out(m: Merge) -> dict[str, Any]:
    return {
        "id": m.id,
        "survivor_id": m.survivor_id,
        "merged_id": m.merged_id,
        "reason": m.reason,
        "evidence": m.evidence,
        "actor": m.actor,
        "created_at": m.created_at.isoformat(),
        "undone_at": m.undone_at.isoformat() if m.undone_at else None,
        "undone_by": m.undone_by,
        "undo_reason": m.undo_reason,
    }


def customer_360(
    session: Session, customer_id: str, *, limit: int = 20, cursor: str | None = None
) -> dict[str, Any]:
    root = graph.root_of(session, customer_id)
    if root is None:
        raise NotFound(f"no customer {customer_id}", field="id")
    c = session.get(Customer, root)
    assert c is not None
    idents = session.execute(
        select(Identity.type, Identity.value, Identity.created_at, Identity.event_id)
        .where(Identity.customer_id == root)
        .order_by(Identity.type, Identity.id)
    ).all()
    members = graph.subtree(session, root)
    merges = session.scalars(
        select(Merge)
        .where(or_(Merge.survivor_id.in_(members), Merge.merged_id.in_(members)))
        .order_by(Merge.created_at.desc())
        .limit(50)
    ).all()
    grouped = session.execute(
        select(Event.type, func.count()).where(Event.customer_id == root).group_by(Event.type)
    )
    by_type: dict[str, int] = {row[0]: row[1] for row in grouped}
    last = session.execute(select(func.max(Event.timestamp)).where(Event.customer_id == root)).scalar()
    out: dict[str, Any] = {
        "id": root,
        "created_at": c.created_at.isoformat(),
        "updated_at": c.updated_at.isoformat(),
        "last_seen_at": last.isoformat() if last else None,
        "traits": c.traits,
        "trait_updated_at": c.trait_times,
        "identities": [
            {"type": t, "value": v, "created_at": at.isoformat(), "first_event_id": ev}
            for t, v, at, ev in idents
        ],
        "merged_profiles": [m for m in members if m != root],
        "merges": [merge_out(m) for m in merges],
        "counts": {
            "events": sum(by_type.values()),
            "events_by_type": by_type,
            "identities": len(idents),
        },
        "events": timeline(session, root, limit=limit, cursor=cursor),
    }
    if root != customer_id:
        out["requested_id"] = customer_id
        out["resolved_from_merged_id"] = True
        out["note"] = f"{customer_id} was merged into {root}; this is the surviving profile"
    return out


def trait_history(session: Session, customer_id: str, name: str | None = None) -> list[dict[str, Any]]:
    root = graph.root_of(session, customer_id)
    if root is None:
        raise NotFound(f"no customer {customer_id}", field="id")
    q = select(TraitHistory).where(TraitHistory.customer_id == root)
    if name:
        q = q.where(TraitHistory.name == name)
    rows = session.scalars(q.order_by(TraitHistory.observed_at.desc(), TraitHistory.id.desc()).limit(500))
    return [
        {"name": r.name, "value": r.value, "observed_at": r.observed_at.isoformat(), "event_id": r.event_id}
        for r in rows
    ]


def customer_brief(session: Session, ids: list[str]) -> list[dict[str, Any]]:
    if not ids:
        return []
    rows = session.execute(
        select(Customer.id, Customer.traits, Customer.created_at).where(Customer.id.in_(ids))
    ).all()
    idents: dict[str, list[dict[str, str]]] = {}
    for cid, t, v in session.execute(
        select(Identity.customer_id, Identity.type, Identity.value).where(Identity.customer_id.in_(ids))
    ):
        idents.setdefault(cid, []).append({"type": t, "value": v})
    by_id = {
        cid: {
            "id": cid,
            "name": (traits or {}).get("name"),
            "created_at": created.isoformat(),
            "identities": idents.get(cid, []),
        }
        for cid, traits, created in rows
    }
    return [by_id[i] for i in ids if i in by_id]


def find_by_identity(session: Session, policy: IdentityPolicy, spec: str) -> list[dict[str, Any]]:
    """``TYPE:VALUE`` (e.g. ``email:Ana@Example.com``, ``social:telegram:12345``) -> that customer."""
    if spec.startswith(("social:", "external:")):
        fam, _, rest = spec.partition(":")
        ns, sep, value = rest.partition(":")
        type_part = f"{fam}:{ns}"
    else:
        type_part, sep, value = spec.partition(":")
    if not sep:
        raise Invalid("expected TYPE:VALUE, e.g. email:ana@example.com", field="identity")
    try:
        t = check_type(type_part)
        norm, _blocked = policy.classify(t, value)
    except IdentifierError as exc:
        raise Invalid(exc.message, field="identity") from None
    cid = session.execute(
        select(Identity.customer_id).where(Identity.value == norm, Identity.type == t)
    ).scalar()
    return customer_brief(session, [cid] if cid else [])


def search(session: Session, policy: IdentityPolicy, text: str, limit: int = 20) -> list[dict[str, Any]]:
    """Prefix search over names, email addresses and phone numbers (index range scans, not LIKE '%…%')."""
    q = text.strip().lower()
    if not q:
        raise Invalid("empty search", field="q")
    hi = q + "\uffff"
    ids: list[str] = []
    name_hits = session.scalars(
        select(Customer.id)
        .where(Customer.name_key >= q, Customer.name_key < hi, Customer.merged_into_id.is_(None))
        .limit(limit)
    )
    ids.extend(name_hits)
    probes = [q]
    digits = "".join(ch for ch in q if ch.isdigit() or ch == "+")
    if len(digits) >= 6:
        try:
            probes.append(policy.classify("phone", digits)[0])
        except IdentifierError:
            probes.append(digits if digits.startswith("+") else "+" + digits)
    for probe in probes:
        rows = session.scalars(
            select(Identity.customer_id)
            .where(
                Identity.value >= probe,
                Identity.value < probe + "\uffff",
                Identity.type.in_(("email", "phone")),
            )
            .limit(limit)
        )
        ids.extend(rows)
    unique = list(dict.fromkeys(ids))[:limit]
    return customer_brief(session, unique)


def get_merge(session: Session, merge_id: str) -> dict[str, Any]:
    m = session.get(Merge, merge_id)
    if m is None:
        raise NotFound(f"no merge {merge_id}", field="merge_id")
    return merge_out(m)


# ---- for other capabilities: what a customer id stands for today ------------------------------------
def resolve_customer(session: Session, customer_id: str) -> str:
    """The live profile an id stands for (a merged-away id answers with its survivor)."""
    root = graph.root_of(session, customer_id)
    if root is None:
        raise NotFound(f"no customer {customer_id}", field="customer_id")
    return root


def profile_ids(session: Session, customer_id: str) -> list[str]:
    """Every profile id that stands for the same person today: the live one first, then those merged
    into it. Rows other capabilities keep under any of these ids belong to this person."""
    return graph.subtree(session, resolve_customer(session, customer_id))


def current_traits(session: Session, customer_id: str) -> dict[str, Any]:
    """The live profile's current trait values: what rules, policies and templates read. One indexed
    read per merge level; far cheaper than the whole Customer 360 on hot paths (every inbound message)."""
    root = resolve_customer(session, customer_id)
    traits: dict[str, Any] = session.scalar(select(Customer.traits).where(Customer.id == root)) or {}
    return traits


def identities_of(session: Session, customer_id: str, types: tuple[str, ...]) -> list[dict[str, str]]:
    """The person's identities of the given types, oldest first (the first is the primary one)."""
    root = resolve_customer(session, customer_id)
    rows = session.execute(
        select(Identity.type, Identity.value)
        .where(Identity.customer_id == root, Identity.type.in_(types))
        .order_by(Identity.id)
    )
    return [{"type": t, "value": v} for t, v in rows]


def resolve_many(session: Session, ids: list[str]) -> dict[str, str]:
    """``resolve_customer`` for a page of ids at once: one query per merge level, not one per id."""
    out: dict[str, str] = {}
    pending = {i: i for i in set(ids)}  # asked id -> current position in its chain
    for _ in range(100):
        if not pending:
            break
        found = session.execute(
            select(Customer.id, Customer.merged_into_id).where(Customer.id.in_(set(pending.values())))
        )
        rows: dict[str, str | None] = {r[0]: r[1] for r in found}
        nxt: dict[str, str] = {}
        for asked, at in pending.items():
            if at not in rows:
                continue  # unknown id: left out
            parent = rows[at]
            if parent is None:
                out[asked] = at
            else:
                nxt[asked] = parent
        pending = nxt
    return out
