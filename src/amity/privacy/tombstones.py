"""Tombstones: keyed hashes of an erased person's identifiers, so re-ingested data cannot silently
bring them back (docs/privacy.md, "Tombstones").

The rule, applied to every event before it is stored (a guard in the customer core's ingest):

- an event that carries a tombstoned identifier (or names an erased profile's id) is refused, naming
  ``identities`` (or ``customer_id``), unless it carries a new lawful basis in
  ``properties.lawful_basis`` (one of ``LAWFUL_BASES``);
- a message the person sends us themselves on a channel counts as a new basis: they contacted us,
  and we need their address to answer. Their new record starts empty;
- either way the tombstones of that event's identifiers are lifted (audited), so later events about
  the person are stored normally.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from amity.core.actions import ActionContext, Actor, App, perform
from amity.customers.prepare import Prepared
from amity.customers.schemas import FieldError
from amity.db import utcnow
from amity.privacy.request_models import Tombstone

LAWFUL_BASES = (
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interests",
)
CUSTOMER_ID = "customer_id"  # the tombstone type of an erased profile's own id


def digest(secret: str, type_: str, value: str) -> str:
    return hmac.new(secret.encode(), f"{type_}\x1f{value}".encode(), hashlib.sha256).hexdigest()


def bury(
    session: Session, secret: str, identifiers: Iterable[tuple[str, str]], request_id: str | None
) -> int:
    """Tombstones for these identifiers (idempotent: one already there is renewed, not doubled)."""
    now = utcnow()
    n = 0
    for type_, value in sorted(set(identifiers)):
        d = digest(secret, type_, value)
        row = session.scalar(select(Tombstone).where(Tombstone.digest == d, Tombstone.type == type_))
        if row is None:
            session.add(Tombstone(type=type_, digest=d, request_id=request_id, created_at=now))
        else:
            row.lifted_at, row.lifted_reason, row.request_id = None, None, request_id
        n += 1
    session.flush()
    return n


def _keys(p: Prepared) -> list[tuple[str, str]]:
    keys = [(i.type, i.value) for i in p.usable]
    if p.customer_id:
        keys.append((CUSTOMER_ID, p.customer_id))
    return keys


def _basis(p: Prepared, actor: Actor) -> str | None:
    given = p.properties.get("lawful_basis") if isinstance(p.properties, dict) else None
    if isinstance(given, str) and given in LAWFUL_BASES:
        return given
    if actor.kind == "channel":
        return "contacted_us"
    return None


def lift(ctx: ActionContext, ids: list[int], reason: str) -> None:
    ctx.session.execute(
        update(Tombstone).where(Tombstone.id.in_(ids)).values(lifted_at=utcnow(), lifted_reason=reason)
    )
    ctx.audit("privacy.tombstone.lifted", "tombstone", ",".join(map(str, ids)), reason=reason)


def guard(app: App, actor: Actor, items: list[Prepared]) -> dict[int, list[FieldError]]:
    """The ingest guard: which items are refused, and why (see the module's rule)."""
    with app.db.read() as s:
        # Most installs have erased nobody: one indexed probe spares every batch its hashing.
        if s.scalar(select(Tombstone.id).where(Tombstone.lifted_at.is_(None)).limit(1)) is None:
            return {}
    secret = str(app.cache["secret_key"])
    wanted: dict[str, list[tuple[int, str]]] = {}
    for p in items:
        for type_, value in _keys(p):
            wanted.setdefault(digest(secret, type_, value), []).append((p.index, type_))
    if not wanted:
        return {}
    with app.db.read() as s:
        hits = s.execute(
            select(Tombstone.id, Tombstone.digest, Tombstone.type).where(
                Tombstone.digest.in_(list(wanted)), Tombstone.lifted_at.is_(None)
            )
        ).all()
    if not hits:
        return {}
    by_index: dict[int, list[tuple[int, str]]] = {}
    for tid, d, type_ in hits:
        for index, t in wanted.get(d, []):
            if t == type_:
                by_index.setdefault(index, []).append((tid, type_))
    refused: dict[int, list[FieldError]] = {}
    lifted: dict[str, list[int]] = {}
    for p in items:
        found = by_index.get(p.index)
        if not found:
            continue
        basis = _basis(p, actor)
        if basis is not None:
            lifted.setdefault(basis, []).extend(tid for tid, _ in found)
            continue
        fields = sorted({CUSTOMER_ID if t == CUSTOMER_ID else "identities" for _, t in found})
        refused[p.index] = [
            FieldError(
                field=f,
                message=(
                    "belongs to a person whose data was erased; to record them again send "
                    f"properties.lawful_basis (one of {', '.join(LAWFUL_BASES)})"
                ),
            )
            for f in fields
        ]
    for basis, tids in lifted.items():
        perform(app, actor, lift, sorted(set(tids)), f"new lawful basis: {basis}")
    return refused
