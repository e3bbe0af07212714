"""The rest of the commercial profile, loaded in bulk from the business's systems: subscriptions,
appointments (installations, engineer visits) and devices here; loyalty memberships and coupons in
:mod:`amity.commerce.members`, which shares the shape of a load (:class:`Step`, :func:`_run`).

Each load is an upsert by the other system's key (``external_id``, ``serial``, ``code``, programme +
customer) and each item stands alone: a refused one is reported with its field and never loses the
others. What changed lands on the customer's timeline (``subscription.renewed``, ``device.offline``,
``coupon.issued`` …); a load that changes nothing adds nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from amity.commerce.models import Appointment, Device, Subscription
from amity.commerce.orders import utc
from amity.commerce.schemas import AppointmentIn, DeviceIn, SubscriptionIn
from amity.commerce.timeline import Fact, record_many, whose
from amity.core.actions import ActionContext, App
from amity.db import utcnow
from amity.ids import new_id


@dataclass
class Step:
    """One item of a load: the fact to record (None: nothing to say) and how to store the item."""

    index: int
    fact: Fact | None
    apply: Callable[[str | None], str]  # customer id (None when the row already knows it) -> row id
    status: str = "accepted"


def _run(
    ctx: ActionContext, app: App, n: int, steps: list[Step], refused: dict[int, list[tuple[str, str]]]
) -> list[dict[str, Any]]:
    results: dict[int, dict[str, Any]] = {
        i: {
            "index": i,
            "id": None,
            "status": "rejected",
            "customer_id": None,
            "errors": [{"field": f, "message": m} for f, m in errs],
        }
        for i, errs in refused.items()
    }
    with_fact = [st for st in steps if st.fact is not None]
    placed = record_many(ctx, app, [st.fact for st in with_fact if st.fact is not None])
    by_index = {st.index: p for st, p in zip(with_fact, placed, strict=True)}
    for st in steps:
        p = by_index.get(st.index)
        if p is not None and p.customer_id is None:
            field, message = p.error or ("", "refused")
            results[st.index] = {
                "index": st.index,
                "id": None,
                "status": "rejected",
                "customer_id": None,
                "errors": [{"field": field or "body", "message": message}],
            }
            continue
        row_id = st.apply(p.customer_id if p else None)
        results[st.index] = {
            "index": st.index,
            "id": row_id,
            "status": st.status,
            "customer_id": p.customer_id if p else None,
            "errors": [],
        }
    return [results[i] for i in range(n) if i in results]


def _when(value: dt.datetime | None, field: str, errs: list[tuple[str, str]]) -> dt.datetime | None:
    try:
        return utc(value, utcnow()) if value is not None else None
    except OverflowError:
        errs.append((field, "outside the range of representable times"))
        return None


def _need_customer(item: Any, prefix: str, errs: list[tuple[str, str]]) -> None:
    if not item.customer_id and not item.identities:
        errs.append((f"{prefix}identities", "give customer_id or at least one identity"))


# ---- subscriptions -------------------------------------------------------------------------------
def load_subscriptions(
    ctx: ActionContext, app: App, items: list[SubscriptionIn], prefix: str = "subscriptions[{i}]."
) -> list[dict[str, Any]]:
    s, now = ctx.session, utcnow()
    have = {
        r.external_id: r
        for r in s.scalars(
            select(Subscription).where(Subscription.external_id.in_([i.external_id for i in items]))
        )
    }
    steps: list[Step] = []
    refused: dict[int, list[tuple[str, str]]] = {}
    twice: set[str] = set()
    for n, item in enumerate(items):
        pre = prefix.format(i=n)
        errs: list[tuple[str, str]] = []
        renews, started = (
            _when(item.renews_at, f"{pre}renews_at", errs),
            _when(item.started_at, f"{pre}started_at", errs),
        )
        if (item.price_minor is None) != (item.currency is None):
            errs.append((f"{pre}currency", "a price needs its currency, and a currency its price"))
        row = have.get(item.external_id)
        if row is None:
            _need_customer(item, pre, errs)
        if item.external_id in twice:
            errs.append((f"{pre}external_id", "appears twice in this load"))
        twice.add(item.external_id)
        if errs:
            refused[n] = errs
            continue
        steps.append(_subscription_step(ctx, n, pre, item, row, renews, started or now, now, have))
    return _run(ctx, app, len(items), steps, refused)


def _subscription_step(
    ctx: ActionContext,
    n: int,
    pre: str,
    item: SubscriptionIn,
    row: Subscription | None,
    renews: dt.datetime | None,
    started: dt.datetime,
    now: dt.datetime,
    have: dict[str | None, Subscription],
) -> Step:
    props = {
        "external_id": item.external_id,
        "plan": item.plan,
        "status": item.status,
        "renews_at": renews.isoformat() if renews else None,
    }
    if row is None:

        def create(cid: str | None) -> str:
            new = Subscription(
                id=new_id("sub"),
                external_id=item.external_id,
                customer_id=cid or "",
                plan=item.plan,
                status=item.status,
                price_minor=item.price_minor,
                currency=item.currency,
                renews_at=renews,
                started_at=started,
                updated_at=now,
            )
            ctx.session.add(new)
            have[item.external_id] = new
            ctx.audit("subscription.started", "subscription", new.id, customer_id=cid)
            return new.id

        started_fact = Fact(
            "subscription.started", whose(item.customer_id, item.identities), props, prefix=pre
        )
        return Step(n, started_fact, create)
    existing = row
    kind: str | None = None
    if item.status != existing.status:
        kind = "resumed" if item.status == "active" else item.status
    elif renews and existing.renews_at and renews > existing.renews_at and item.status == "active":
        kind = "renewed"

    def update(_: str | None) -> str:
        before = {
            "status": existing.status,
            "renews_at": existing.renews_at.isoformat() if existing.renews_at else None,
            "plan": existing.plan,
        }
        existing.plan, existing.status, existing.renews_at = (
            item.plan,
            item.status,
            renews or existing.renews_at,
        )
        existing.price_minor, existing.currency, existing.updated_at = item.price_minor, item.currency, now
        ctx.audit("subscription.updated", "subscription", existing.id, before=before)
        return existing.id

    fact: Fact | None = (
        Fact(
            f"subscription.{kind}",
            {"customer_id": existing.customer_id},
            {**props, "subscription_id": existing.id},
        )
        if kind
        else None
    )
    return Step(n, fact, update, status="accepted" if kind else "unchanged")


# ---- appointments --------------------------------------------------------------------------------
def load_appointments(
    ctx: ActionContext, app: App, items: list[AppointmentIn], prefix: str = "appointments[{i}]."
) -> list[dict[str, Any]]:
    s, now = ctx.session, utcnow()
    have = {
        r.external_id: r
        for r in s.scalars(
            select(Appointment).where(Appointment.external_id.in_([i.external_id for i in items]))
        )
    }
    steps: list[Step] = []
    refused: dict[int, list[tuple[str, str]]] = {}
    twice: set[str] = set()
    for n, item in enumerate(items):
        pre = prefix.format(i=n)
        errs: list[tuple[str, str]] = []
        at = _when(item.scheduled_at, f"{pre}scheduled_at", errs)
        row = have.get(item.external_id)
        if row is None:
            _need_customer(item, pre, errs)
        if item.external_id in twice:
            errs.append((f"{pre}external_id", "appears twice in this load"))
        twice.add(item.external_id)
        if errs or at is None:
            refused[n] = errs
            continue
        steps.append(_appointment_step(ctx, n, pre, item, row, at, now, have))
    return _run(ctx, app, len(items), steps, refused)


def _appointment_step(
    ctx: ActionContext,
    n: int,
    pre: str,
    item: AppointmentIn,
    row: Appointment | None,
    at: dt.datetime,
    now: dt.datetime,
    have: dict[str | None, Appointment],
) -> Step:
    props = {
        "external_id": item.external_id,
        "kind": item.kind,
        "status": item.status,
        "scheduled_at": at.isoformat(),
        "engineer": item.engineer,
    }
    address = item.address.model_dump() if item.address else {}

    def store(cid: str | None) -> str:
        target = row or have.get(item.external_id)
        if target is None:
            target = Appointment(
                id=new_id("apt"), external_id=item.external_id, customer_id=cid or "", created_at=now
            )
            ctx.session.add(target)
            have[item.external_id] = target
        target.kind, target.status, target.scheduled_at = item.kind, item.status, at
        target.engineer, target.address, target.notes, target.updated_at = (
            item.engineer,
            address,
            item.notes,
            now,
        )
        ctx.audit(f"appointment.{'created' if row is None else 'updated'}", "appointment", target.id)
        return target.id

    if row is None:
        return Step(
            n,
            Fact(f"{item.kind}.{item.status}", whose(item.customer_id, item.identities), props, prefix=pre),
            store,
        )
    changed = row.status != item.status or row.scheduled_at != at
    kind = item.status if row.status != item.status else "rescheduled"
    fact = (
        Fact(f"{item.kind}.{kind}", {"customer_id": row.customer_id}, {**props, "appointment_id": row.id})
        if changed
        else None
    )
    return Step(n, fact, store, status="accepted" if changed else "unchanged")


# ---- devices -------------------------------------------------------------------------------------
def load_devices(
    ctx: ActionContext, app: App, items: list[DeviceIn], prefix: str = "devices[{i}]."
) -> list[dict[str, Any]]:
    s, now = ctx.session, utcnow()
    have = {
        r.serial: r for r in s.scalars(select(Device).where(Device.serial.in_([i.serial for i in items])))
    }
    steps: list[Step] = []
    refused: dict[int, list[tuple[str, str]]] = {}
    twice: set[str] = set()
    for n, item in enumerate(items):
        pre = prefix.format(i=n)
        errs: list[tuple[str, str]] = []
        seen = _when(item.last_seen_at, f"{pre}last_seen_at", errs)
        row = have.get(item.serial)
        if row is None:
            _need_customer(item, pre, errs)
        if item.serial in twice:
            errs.append((f"{pre}serial", "appears twice in this load"))
        twice.add(item.serial)
        if errs:
            refused[n] = errs
            continue
        steps.append(_device_step(ctx, n, pre, item, row, seen, now, have))
    return _run(ctx, app, len(items), steps, refused)


def _device_step(
    ctx: ActionContext,
    n: int,
    pre: str,
    item: DeviceIn,
    row: Device | None,
    seen: dt.datetime | None,
    now: dt.datetime,
    have: dict[str, Device],
) -> Step:
    props = {
        "serial": item.serial,
        "model": item.model,
        "state": item.state,
        "last_seen_at": seen.isoformat() if seen else None,
    }

    def store(cid: str | None) -> str:
        target = row or have.get(item.serial)
        if target is None:
            target = Device(id=new_id("dev"), serial=item.serial, customer_id=cid or "", created_at=now)
            ctx.session.add(target)
            have[item.serial] = target
        target.model, target.sku, target.name, target.state = item.model, item.sku, item.name, item.state
        target.last_seen_at, target.updated_at = seen or target.last_seen_at, now
        ctx.audit("device.updated", "device", target.id, state=item.state)
        return target.id

    if row is None:
        return Step(
            n, Fact("device.registered", whose(item.customer_id, item.identities), props, prefix=pre), store
        )
    # Only a change of state is news; a device that keeps saying "online" is not a timeline event.
    changed = row.state != item.state and item.state != "unknown"
    fact = (
        Fact(f"device.{item.state}", {"customer_id": row.customer_id}, {**props, "device_id": row.id})
        if changed
        else None
    )
    return Step(n, fact, store, status="accepted" if changed else "unchanged")
