"""Reads of the consent ledger. The history of every profile that is the person today counts.

Stable for other capabilities (docs/consent.md): :func:`current_state`, :func:`history`,
:func:`purposes_list`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amity.consent import purposes, state
from amity.consent.models import ConsentRecord
from amity.customers import queries as customers


def record_out(r: ConsentRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "customer_id": r.customer_id,
        "purpose": r.purpose,
        "channel": r.channel,
        "status": r.status,
        "lawful_basis": r.lawful_basis,
        "source": r.source,
        "at": r.at.isoformat(),
        "recorded_at": r.recorded_at.isoformat(),
        "recorded_by": r.recorded_by,
        "event_id": r.event_id,
        "proof": {
            "policy_version": r.policy_version,
            "text_sha256": r.text_sha256,
            "ip_hash": r.ip_hash,
            "user_agent_hash": r.user_agent_hash,
        },
        "erased": r.erased_at is not None,
    }


def _entry(r: Any) -> state.Entry:
    return state.Entry(
        id=r.id,
        customer_id=r.customer_id,
        purpose=r.purpose,
        channel=r.channel,
        status=r.status,
        lawful_basis=r.lawful_basis,
        source=r.source,
        at=r.at,
        policy_version=r.policy_version,
    )


def entries(s: Session, profile_ids: list[str], purpose: str | None = None) -> list[state.Entry]:
    """Ledger entries of these profiles (the policy's read: the columns it needs, no proof)."""
    c = ConsentRecord
    q = select(
        c.id, c.customer_id, c.purpose, c.channel, c.status, c.lawful_basis, c.source, c.at, c.policy_version
    ).where(c.customer_id.in_(profile_ids))
    if purpose is not None:
        q = q.where(c.purpose == purpose)
    return [_entry(r) for r in s.execute(q)]


def history(
    s: Session, customer_id: str, *, purpose: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Every record of the person (merged profiles included), newest first."""
    people = customers.profile_ids(s, customer_id)
    q = select(ConsentRecord).where(ConsentRecord.customer_id.in_(people))
    if purpose is not None:
        q = q.where(ConsentRecord.purpose == purpose)
    q = q.order_by(ConsentRecord.at.desc(), ConsentRecord.id.desc())
    if limit is not None:
        q = q.limit(limit)
    return [record_out(r) for r in s.scalars(q)]


def current_state(s: Session, customer_id: str) -> list[dict[str, Any]]:
    """The latest record per purpose and channel (``channel`` None: every channel), by purpose then
    channel, all-channels first. Pairs without any record are left out. ``effective`` in each entry
    is what applies on that channel once the all-channels record is taken into account."""
    people = customers.profile_ids(s, customer_id)
    current = state.latest(entries(s, people))
    out = []
    for (purpose, channel), e in sorted(current.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        eff = state.effective(current, purpose, channel)
        out.append(
            {
                "purpose": purpose,
                "channel": channel,
                "status": e.status,
                "lawful_basis": e.lawful_basis,
                "source": e.source,
                "at": e.at.isoformat(),
                "policy_version": e.policy_version,
                "record_id": e.id,
                "effective_status": eff.status if eff else None,
            }
        )
    return out


def summary(s: Session, customer_id: str) -> list[dict[str, Any]]:
    """For the console card: every purpose of the catalogue with its all-channels status and the
    channel types that differ, so an agent reads "marketing: granted, except sms withdrawn"."""
    cat = purposes.catalogue(s)
    people = customers.profile_ids(s, customer_id)
    current = state.latest(entries(s, people))
    rows = []
    for key, spec in cat.items():
        general = current.get((key, None))
        channels = [
            {"channel": ch, "status": e.status, "at": e.at.isoformat()}
            for (p, ch), e in sorted(current.items(), key=lambda kv: kv[0][1] or "")
            if p == key and ch is not None
        ]
        rows.append(
            {
                "purpose": key,
                "name": spec.name,
                "status": general.status if general else None,
                "default_basis": spec.default_basis,
                "channels": channels,
            }
        )
    return rows


def purposes_list(s: Session) -> list[dict[str, Any]]:
    return [p.out() for p in purposes.catalogue(s).values()]
