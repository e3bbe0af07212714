"""What the customer core holds about a person, for access and erasure requests (docs/privacy.md).

Erasure keeps the profile row and its events, emptied of everything personal, so conversation
counts, order counts and timelines still add up (KPIs stay right) while nothing identifies the person:
traits, trait history and identities go; events keep their type, time and source, and of their
properties only the keys listed in ``NON_PERSONAL_PROPERTIES`` with a number, boolean or short code.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from amity.customers.models import Customer, Event, Identity, Merge, TraitDefinition, TraitHistory
from amity.db import utcnow
from amity.privacy.holders import DataHolder, register
from amity.privacy.rows import as_dicts

# Keys of event properties that describe the business, not the person: kept by erasure so that sums
# and counts (revenue, items, channel mix) stay right. Anything else in properties is dropped.
NON_PERSONAL_PROPERTIES = frozenset(
    {
        "amount",
        "amount_minor",
        "total",
        "total_minor",
        "currency",
        "quantity",
        "items",
        "channel_id",
        "channel_type",
        "status",
        "score",
        "rating",
        "duration_seconds",
    }
)
_CODE_MAX = 40  # a "short code" (currency, status, channel id); longer strings might be free text


def _owned(column: Any, origin: Any, ids: list[str]) -> Any:
    return or_(column.in_(ids), origin.in_(ids))


def export(session: Session, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    return {
        "customers": as_dicts(session.scalars(select(Customer).where(Customer.id.in_(ids)))),
        "identities": as_dicts(
            session.scalars(
                select(Identity).where(_owned(Identity.customer_id, Identity.origin_customer_id, ids))
            )
        ),
        "trait_history": as_dicts(
            session.scalars(
                select(TraitHistory)
                .where(_owned(TraitHistory.customer_id, TraitHistory.origin_customer_id, ids))
                .order_by(TraitHistory.observed_at)
            )
        ),
        "events": as_dicts(
            session.scalars(
                select(Event)
                .where(_owned(Event.customer_id, Event.origin_customer_id, ids))
                .order_by(Event.timestamp)
            )
        ),
        "merges": as_dicts(
            session.scalars(select(Merge).where(or_(Merge.survivor_id.in_(ids), Merge.merged_id.in_(ids))))
        ),
    }


def identifiers(session: Session, ids: list[str]) -> list[tuple[str, str]]:
    """(type, value) of every identity the person has: what erasure tombstones."""
    rows = session.execute(
        select(Identity.type, Identity.value).where(
            _owned(Identity.customer_id, Identity.origin_customer_id, ids)
        )
    )
    return sorted({(t, v) for t, v in rows})


def personal_strings(session: Session, ids: list[str]) -> set[str]:
    """Every identifier and text trait value: what erasure looks for in logs."""
    found = {v for _, v in identifiers(session, ids)}
    for traits in session.scalars(select(Customer.traits).where(Customer.id.in_(ids))):
        found |= {v for v in (traits or {}).values() if isinstance(v, str)}
    return {s for s in found if len(s) >= 4}  # shorter values would match half the log


def _kept(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in properties.items()
        if k in NON_PERSONAL_PROPERTIES
        and (isinstance(v, bool | int | float) or (isinstance(v, str) and len(v) <= _CODE_MAX))
    }


def erase(session: Session, ids: list[str]) -> None:
    now = utcnow()
    session.execute(
        update(Customer)
        .where(Customer.id.in_(ids))
        .values(traits={}, trait_times={}, name_key=None, updated_at=now)
    )
    session.execute(delete(Identity).where(_owned(Identity.customer_id, Identity.origin_customer_id, ids)))
    session.execute(
        delete(TraitHistory).where(_owned(TraitHistory.customer_id, TraitHistory.origin_customer_id, ids))
    )
    events = session.execute(
        select(Event.id, Event.properties).where(_owned(Event.customer_id, Event.origin_customer_id, ids))
    ).all()
    for event_id, props in events:
        session.execute(
            update(Event)
            .where(Event.id == event_id)
            .values(identities=[], traits=None, flags=None, properties=_kept(props or {}))
        )
    # The merge rows say two profile ids were one person: not personal. Their evidence names the
    # identifier that joined them, which is.
    session.execute(
        update(Merge)
        .where(or_(Merge.survivor_id.in_(ids), Merge.merged_id.in_(ids)))
        .values(evidence={}, undo_reason=None)
    )


# ---- retention ---------------------------------------------------------------------------------
def expire_traits(session: Session, now: dt.datetime) -> int:
    """Trait values older than their definition's ``retention_days`` (by when they were observed)
    leave the profile and the trait history."""
    rules: dict[str, int] = {
        name: int(days)
        for name, days in session.execute(
            select(TraitDefinition.name, TraitDefinition.retention_days).where(
                TraitDefinition.retention_days.is_not(None)
            )
        )
        if days is not None
    }
    if not rules:
        return 0
    n = 0
    for name, days in rules.items():
        cutoff = now - dt.timedelta(days=int(days))
        res = session.execute(
            delete(TraitHistory).where(TraitHistory.name == name, TraitHistory.observed_at < cutoff)
        )
        n += int(getattr(res, "rowcount", 0) or 0)
    rows = session.execute(select(Customer.id, Customer.traits, Customer.trait_times)).all()
    for cid, traits, times in rows:
        expired = [
            t
            for t, days in rules.items()
            if t in (traits or {})
            and _older(str((times or {}).get(t, "")), now - dt.timedelta(days=int(days)))
        ]
        if not expired:
            continue
        kept = {k: v for k, v in traits.items() if k not in expired}
        kept_times = {k: v for k, v in (times or {}).items() if k not in expired}
        values: dict[str, Any] = {"traits": kept, "trait_times": kept_times, "updated_at": now}
        if "name" in expired:
            values["name_key"] = None
        session.execute(update(Customer).where(Customer.id == cid).values(**values))
        n += len(expired)
    return n


def _older(stamp: str, cutoff: dt.datetime) -> bool:
    # trait_times holds sortable time keys (graph.ts_key); an unreadable one is kept, not guessed at.
    try:
        t = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return False
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t < cutoff


def expire_events(session: Session, event_type: str | None, cutoff: dt.datetime, keep: list[str]) -> int:
    """Events of a type (None: every type without a rule of its own, ``keep``) older than ``cutoff``
    are deleted: a timeline entry past its retention is not kept, not even emptied."""
    q = delete(Event).where(Event.timestamp < cutoff)
    if event_type is not None:
        q = q.where(Event.type == event_type)
    elif keep:
        q = q.where(Event.type.not_in(keep))
    res = session.execute(q)
    return int(getattr(res, "rowcount", 0) or 0)


HOLDER = DataHolder(
    name="customers",
    tables=("customers", "identities", "trait_history", "events", "merges"),
    export=export,
    erase=erase,
)
register(HOLDER)
