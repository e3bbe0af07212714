"""Loyalty programmes and their tiers, and what a customer's memberships entitle them to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amity.commerce.models import LoyaltyProgramme, LoyaltyTier, Membership
from amity.commerce.schemas import ProgrammeIn
from amity.core.actions import ActionContext, Conflict, Invalid
from amity.customers.queries import profile_ids
from amity.db import utcnow
from amity.ids import new_id

# Benefits the actions act on; any other lower_snake_case benefit is kept and shown, nothing more.
FREE_SHIPPING = {"expedited": "free_expedited_shipping", "next_day": "free_next_day_shipping"}
KNOWN_BENEFITS = (*FREE_SHIPPING.values(), "priority_routing")


def create_programme(ctx: ActionContext, body: ProgrammeIn) -> LoyaltyProgramme:
    s = ctx.session
    if s.scalar(select(LoyaltyProgramme.id).where(LoyaltyProgramme.name == body.name)):
        raise Conflict(f"a programme named {body.name!r} exists", field="name")
    names = [t.name for t in body.tiers]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise Invalid(f"tier {name!r} appears twice", field=f"tiers[{i}].name")
    row = LoyaltyProgramme(id=new_id("lpg"), name=body.name, created_at=utcnow())
    s.add(row)
    s.flush()
    for t in body.tiers:
        s.add(
            LoyaltyTier(
                id=new_id("ltr"),
                programme_id=row.id,
                name=t.name,
                rank=t.rank,
                benefits=list(dict.fromkeys(t.benefits)),
            )
        )
    ctx.audit("loyalty.programme_created", "loyalty_programme", row.id, name=body.name, tiers=names)
    ctx.publish("loyalty.programme_created", programme_id=row.id)
    return row


def programme_out(s: Session, p: LoyaltyProgramme) -> dict[str, Any]:
    tiers = s.scalars(
        select(LoyaltyTier)
        .where(LoyaltyTier.programme_id == p.id)
        .order_by(LoyaltyTier.rank, LoyaltyTier.name)
    )
    return {
        "id": p.id,
        "name": p.name,
        "created_at": p.created_at.isoformat(),
        "tiers": [{"id": t.id, "name": t.name, "rank": t.rank, "benefits": t.benefits} for t in tiers],
    }


def memberships_of(s: Session, customer_id: str) -> list[dict[str, Any]]:
    rows = s.execute(
        select(Membership, LoyaltyProgramme.name, LoyaltyTier)
        .join(LoyaltyProgramme, LoyaltyProgramme.id == Membership.programme_id)
        .outerjoin(LoyaltyTier, LoyaltyTier.id == Membership.tier_id)
        .where(Membership.customer_id.in_(profile_ids(s, customer_id)))
        .order_by(Membership.joined_at)
    )
    return [
        {
            "id": m.id,
            "programme_id": m.programme_id,
            "programme": name,
            "tier": t.name if t else None,
            "benefits": list(t.benefits) if t else [],
            "number": m.number,
            "points": m.points,
            "joined_at": m.joined_at.isoformat(),
        }
        for m, name, t in rows
    ]


def benefits_of(s: Session, customer_id: str) -> dict[str, str]:
    """benefit -> the programme and tier that grants it (the first membership that does)."""
    out: dict[str, str] = {}
    for m in memberships_of(s, customer_id):
        for b in m["benefits"]:
            out.setdefault(b, f"{m['programme']} {m['tier']}")
    return out
