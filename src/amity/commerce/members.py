"""Loading loyalty memberships and coupons from the business's systems (the loads' shared shape is
in :mod:`amity.commerce.profile`): upserts by programme + customer and by code, one result per item."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from amity.commerce.models import Coupon, LoyaltyProgramme, LoyaltyTier, Membership
from amity.commerce.orders import utc
from amity.commerce.profile import Step, _need_customer, _run, _when
from amity.commerce.schemas import CouponIn, MembershipIn
from amity.commerce.timeline import Fact, whose
from amity.core.actions import ActionContext, App
from amity.customers import queries as customer_queries
from amity.customers import service as customer_service
from amity.db import utcnow
from amity.ids import new_id


# ---- loyalty memberships -------------------------------------------------------------------------
def _existing_customer(ctx: ActionContext, app: App, item: MembershipIn) -> str | None:
    s = ctx.session
    if item.customer_id:
        try:
            return customer_queries.resolve_customer(s, item.customer_id)
        except Exception:  # unknown: the fact below refuses it with the field named
            return None
    for ident in item.identities:
        try:
            found = customer_queries.find_by_identity(
                s, customer_service.policy(app), f"{ident.type}:{ident.value}"
            )
        except Exception:  # a malformed identifier: the fact below names it
            return None
        if found:
            return str(found[0]["id"])
    return None


def load_memberships(
    ctx: ActionContext, app: App, items: list[MembershipIn], prefix: str = "memberships[{i}]."
) -> list[dict[str, Any]]:
    s, now = ctx.session, utcnow()
    tiers = {
        (t.programme_id, t.name): t
        for t in s.scalars(
            select(LoyaltyTier).where(LoyaltyTier.programme_id.in_({i.programme_id for i in items}))
        )
    }
    programmes = {p for p, _ in tiers} | set(s.scalars(select(LoyaltyTier.programme_id).distinct()))
    programmes |= set(
        s.scalars(select(LoyaltyProgramme.id).where(LoyaltyProgramme.id.in_({i.programme_id for i in items})))
    )
    steps: list[Step] = []
    refused: dict[int, list[tuple[str, str]]] = {}
    for n, item in enumerate(items):
        pre = prefix.format(i=n)
        errs: list[tuple[str, str]] = []
        _need_customer(item, pre, errs)
        if item.programme_id not in programmes:
            errs.append((f"{pre}programme_id", f"no loyalty programme {item.programme_id}"))
        tier = tiers.get((item.programme_id, item.tier)) if item.tier else None
        if item.tier and tier is None and not errs:
            errs.append((f"{pre}tier", f"programme {item.programme_id} has no tier {item.tier!r}"))
        if errs:
            refused[n] = errs
            continue
        cid = _existing_customer(ctx, app, item)
        row = (
            s.scalar(
                select(Membership).where(
                    Membership.programme_id == item.programme_id, Membership.customer_id == cid
                )
            )
            if cid
            else None
        )
        steps.append(_membership_step(ctx, n, pre, item, row, tier, now))
    return _run(ctx, app, len(items), steps, refused)


def _membership_step(
    ctx: ActionContext,
    n: int,
    pre: str,
    item: MembershipIn,
    row: Membership | None,
    tier: LoyaltyTier | None,
    now: dt.datetime,
) -> Step:
    props = {"programme_id": item.programme_id, "tier": item.tier, "points": item.points}

    def store(cid: str | None) -> str:
        target = row
        if target is None:
            target = ctx.session.scalar(
                select(Membership).where(
                    Membership.programme_id == item.programme_id, Membership.customer_id == cid
                )
            )
        if target is None:
            target = Membership(
                id=new_id("mem"), programme_id=item.programme_id, customer_id=cid or "", joined_at=now
            )
            ctx.session.add(target)
        target.tier_id, target.number, target.points, target.updated_at = (
            tier.id if tier else None,
            item.number,
            item.points,
            now,
        )
        ctx.session.flush()
        ctx.audit("loyalty.membership", "membership", target.id, tier=item.tier, points=item.points)
        return target.id

    if row is None:
        return Step(
            n, Fact("loyalty.joined", whose(item.customer_id, item.identities), props, prefix=pre), store
        )
    changed = row.tier_id != (tier.id if tier else None)
    fact = (
        Fact("loyalty.tier_changed", {"customer_id": row.customer_id}, {**props, "membership_id": row.id})
        if changed
        else None
    )
    return Step(n, fact, store, status="accepted" if changed or row.points != item.points else "unchanged")


# ---- coupons -------------------------------------------------------------------------------------
def coupon_problems(item: CouponIn, pre: str) -> list[tuple[str, str]]:
    errs: list[tuple[str, str]] = []
    if (item.amount_minor is None) == (item.percent is None):
        errs.append((f"{pre}amount_minor", "give exactly one of amount_minor or percent"))
    if item.amount_minor is not None and item.currency is None:
        errs.append((f"{pre}currency", "an amount needs its currency"))
    _when(item.expires_at, f"{pre}expires_at", errs)
    return errs


def load_coupons(
    ctx: ActionContext,
    app: App,
    items: list[CouponIn],
    prefix: str = "coupons[{i}].",
    *,
    goodwill: bool = False,
    fact_ids: dict[int, str] | None = None,
) -> list[dict[str, Any]]:
    s, now = ctx.session, utcnow()
    have = dict(
        s.execute(select(Coupon.code, Coupon.id).where(Coupon.code.in_([i.code for i in items]))).all()
    )
    steps: list[Step] = []
    refused: dict[int, list[tuple[str, str]]] = {}
    for n, item in enumerate(items):
        pre = prefix.format(i=n)
        errs = coupon_problems(item, pre)
        _need_customer(item, pre, errs)
        if errs:
            refused[n] = errs
            continue
        if item.code in have:
            known = have[item.code]
            steps.append(Step(n, None, _constant(known), status="duplicate"))
            continue
        have[item.code] = "pending"
        steps.append(
            Step(n, _coupon_fact(item, pre, (fact_ids or {}).get(n)), _coupon_store(ctx, item, goodwill, now))
        )
    return _run(ctx, app, len(items), steps, refused)


def _constant(value: str) -> Callable[[str | None], str]:
    return lambda _customer_id: value


def _coupon_fact(item: CouponIn, pre: str, event_id: str | None = None) -> Fact:
    props = {
        "code": item.code,
        "amount_minor": item.amount_minor,
        "percent": item.percent,
        "currency": item.currency,
        "expires_at": utc(item.expires_at, utcnow()).isoformat() if item.expires_at else None,
    }
    return Fact("coupon.issued", whose(item.customer_id, item.identities), props, prefix=pre, id=event_id)


def _coupon_store(
    ctx: ActionContext, item: CouponIn, goodwill: bool, now: dt.datetime
) -> Callable[[str | None], str]:
    def store(cid: str | None) -> str:
        row = Coupon(
            id=new_id("cpn"),
            code=item.code,
            customer_id=cid or "",
            amount_minor=item.amount_minor,
            percent=item.percent,
            currency=item.currency,
            expires_at=utc(item.expires_at, now) if item.expires_at else None,
            goodwill=goodwill,
            created_at=now,
        )
        ctx.session.add(row)
        ctx.audit("coupon.issued", "coupon", row.id, customer_id=cid, code=item.code, goodwill=goodwill)
        ctx.publish("coupon.issued", coupon_id=row.id, customer_id=cid)
        return row.id

    return store
