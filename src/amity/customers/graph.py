"""Merging and un-merging customer profiles at the row level.

Invariant: every customer-owned row's ``customer_id`` is a live customer (the root of its merge tree).
``origin_customer_id`` never changes, so undoing a merge is a matter of moving back the rows whose
origin lies in the merged-away subtree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from amity.core.actions import Conflict, NotFound
from amity.customers.models import Customer, Event, Identity, Merge, TraitHistory
from amity.ids import new_id

OWNED = (Identity, Event, TraitHistory)
TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width, so times compare correctly as strings


def ts_key(ts: dt.datetime) -> str:
    return ts.astimezone(dt.UTC).strftime(TS_FORMAT)


def lock_identity_graph(session: Session) -> None:
    """Serialise writers of the identity graph on PostgreSQL (SQLite's BEGIN IMMEDIATE already does).

    Resolution reads identifiers and then writes rows pointing at the customers it found; a concurrent
    merge in between would leave rows pointing at a merged-away profile. One transaction-scoped advisory
    lock is simpler and cheaper than row locks on every customer a batch touches.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(4242001)"))


def root_of(session: Session, customer_id: str) -> str | None:
    """The live customer an id stands for today (ids stay valid forever), or None if unknown."""
    current = customer_id
    for _ in range(1000):
        row = session.execute(select(Customer.merged_into_id).where(Customer.id == current)).first()
        if row is None:
            return None
        if row[0] is None:
            return current
        current = row[0]
    raise RuntimeError(f"merge chain from {customer_id} does not end")


def subtree(session: Session, customer_id: str) -> list[str]:
    """The customer and every profile (transitively) merged into it."""
    out = [customer_id]
    frontier = [customer_id]
    while frontier:
        frontier = list(session.scalars(select(Customer.id).where(Customer.merged_into_id.in_(frontier))))
        out.extend(frontier)
    return out


def identity_counts(session: Session, customer_id: str) -> dict[str, int]:
    from sqlalchemy import func

    rows = session.execute(
        select(Identity.type, func.count()).where(Identity.customer_id == customer_id).group_by(Identity.type)
    )
    return {t: n for t, n in rows}  # noqa: C416 -- rows are Row objects, not pairs, for mypy


def recompute_traits(
    session: Session, customer_ids: list[str], now: dt.datetime
) -> dict[str, tuple[dict[str, Any], dict[str, str]]]:
    """Current traits from the history: per trait the newest observation wins (ties: the later write)."""
    state: dict[str, tuple[dict[str, Any], dict[str, str]]] = {cid: ({}, {}) for cid in customer_ids}
    rows = session.execute(
        select(TraitHistory.customer_id, TraitHistory.name, TraitHistory.value, TraitHistory.observed_at)
        .where(TraitHistory.customer_id.in_(customer_ids))
        .order_by(TraitHistory.observed_at, TraitHistory.id)
    )
    for cid, name, value, observed in rows:
        traits, times = state[cid]
        times[name] = ts_key(observed)
        if value is None:
            traits.pop(name, None)
        else:
            traits[name] = value
    if state:
        # ORM bulk UPDATE by primary key: one executemany however many customers
        session.execute(
            update(Customer),
            [
                {
                    "id": cid,
                    "traits": traits,
                    "trait_times": times,
                    "name_key": name_key(traits),
                    "updated_at": now,
                }
                for cid, (traits, times) in state.items()
            ],
        )
    return state


def name_key(traits: dict[str, Any]) -> str | None:
    name = traits.get("name")
    return name.strip().lower()[:255] if isinstance(name, str) and name.strip() else None


def limit_violations(a: dict[str, int], b: dict[str, int], limit_for: Any) -> list[str]:
    """Identifier types whose combined count would pass its limit if two profiles became one."""
    out = []
    for t in set(a) | set(b):
        limit = limit_for(t)
        if limit is not None and a.get(t, 0) + b.get(t, 0) > limit:
            out.append(t)
    return sorted(out)


def was_unmerged(session: Session, a: str, b: str) -> bool:
    """True if a merge between these two was undone: someone decided they are different people."""
    row = session.execute(
        select(Merge.id)
        .where(
            Merge.undone_at.is_not(None),
            ((Merge.survivor_id == a) & (Merge.merged_id == b))
            | ((Merge.survivor_id == b) & (Merge.merged_id == a)),
        )
        .limit(1)
    ).first()
    return row is not None


def move_rows(session: Session, survivor_id: str, merged_id: str, now: dt.datetime) -> None:
    """Point the merged profile at the survivor and move every row it owns (origins stay)."""
    session.execute(
        update(Customer)
        .where(Customer.id == merged_id)
        .values(merged_into_id=survivor_id, merged_at=now, updated_at=now)
    )
    for model in OWNED:
        session.execute(update(model).where(model.customer_id == merged_id).values(customer_id=survivor_id))


def merge_rows(
    session: Session,
    survivor_id: str,
    merged_id: str,
    *,
    reason: str,
    evidence: dict[str, Any],
    actor: str,
    now: dt.datetime,
) -> str:
    """Fold live customer ``merged_id`` into live customer ``survivor_id``; returns the merge id."""
    move_rows(session, survivor_id, merged_id, now)
    merge_id = new_id("mrg")
    session.add(
        Merge(
            id=merge_id,
            survivor_id=survivor_id,
            merged_id=merged_id,
            reason=reason,
            evidence=evidence,
            actor=actor,
            created_at=now,
        )
    )
    session.flush()
    recompute_traits(session, [survivor_id], now)
    return merge_id


def undo_rows(session: Session, merge_id: str, *, actor: str, reason: str | None, now: dt.datetime) -> Merge:
    merge = session.get(Merge, merge_id)
    if merge is None:
        raise NotFound(f"no merge {merge_id}", field="merge_id")
    if merge.undone_at is not None:
        raise Conflict(
            f"merge {merge_id} was already undone at {merge.undone_at.isoformat()}", field="merge_id"
        )
    merged = session.get(Customer, merge.merged_id)
    if merged is None or merged.merged_into_id != merge.survivor_id:
        raise Conflict(f"merge {merge_id} is no longer in effect", field="merge_id")
    root = root_of(session, merge.survivor_id)
    assert root is not None
    side = subtree(session, merge.merged_id)
    merged.merged_into_id = None
    merged.merged_at = None
    merged.updated_at = now
    for model in OWNED:
        session.execute(
            update(model)
            .where(model.customer_id == root, model.origin_customer_id.in_(side))
            .values(customer_id=merge.merged_id)
        )
    merge.undone_at = now
    merge.undone_by = actor
    merge.undo_reason = reason
    session.flush()
    recompute_traits(session, [root, merge.merged_id], now)
    return merge
