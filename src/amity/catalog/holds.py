"""Reservations: holding one item at a location for a customer, releasing it, and letting it expire.

Two agents racing for the last pair: the hold is taken by a conditional
``UPDATE catalog_stock SET reserved = reserved + 1 WHERE … AND quantity - reserved >= 1``, and the
reservation row is written only when exactly one stock row changed. On PostgreSQL the second UPDATE
waits for the first one's row lock and re-checks the condition against the committed row (READ
COMMITTED), so it changes nothing; on SQLite writers are serialised by BEGIN IMMEDIATE. Either way
exactly one wins and the other gets 409.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update

from amity.catalog import queries
from amity.catalog.actions import require_location
from amity.catalog.models import Location, Reservation, Stock, Variant
from amity.conversations.actions import add_message
from amity.conversations.changes import get_conversation
from amity.core.actions import ActionContext, ActionError, Conflict, NotFound
from amity.customers.queries import resolve_customer
from amity.db import utcnow
from amity.ids import new_id

DEFAULT_HOLD_HOURS = 48.0
SWEEP_BATCH = 200


def _note(ctx: ActionContext, conversation_id: str | None, text: str, *, required: bool) -> None:
    """An internal note on the conversation. When the conversation is only where a hold was made
    (release, expiry), a conversation merged away since must not stop the release."""
    if not conversation_id:
        return
    try:
        add_message(ctx, conversation_id, text=text, note=True)
    except ActionError:
        if required:
            raise


def reserve(
    ctx: ActionContext,
    sku: str,
    location_id: str,
    customer_id: str,
    conversation_id: str | None = None,
    hold_hours: float | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Hold one item of ``sku`` at ``location_id`` for the customer; 409 when none is left there.
    With ``conversation_id`` the hold is written to that conversation as an internal note."""
    s = ctx.session
    variant_id = s.execute(select(Variant.id).where(Variant.sku == sku)).scalar()
    if variant_id is None:
        raise NotFound(f"no variant with SKU {sku}", field="sku")
    loc = require_location(s, location_id)
    person = resolve_customer(s, customer_id)
    if conversation_id:
        conv = get_conversation(ctx, conversation_id)
        if conv.merged_into_id:
            raise Conflict(
                f"conversation {conv.id} was merged into {conv.merged_into_id}", field="conversation_id"
            )
    now = now or utcnow()
    held = queries.changed(
        s.execute(
            update(Stock)
            .where(
                Stock.variant_id == variant_id,
                Stock.location_id == location_id,
                Stock.quantity - Stock.reserved >= 1,
            )
            .values(reserved=Stock.reserved + 1, updated_at=now)
        )
    )
    if held != 1:
        raise Conflict(f"no {sku} left to reserve at {loc.name}", field="sku")
    r = Reservation(
        id=new_id("rsv"),
        variant_id=variant_id,
        location_id=location_id,
        customer_id=person,
        conversation_id=conversation_id,
        quantity=1,
        status="held",
        expires_at=now + dt.timedelta(hours=hold_hours or DEFAULT_HOLD_HOURS),
        created_by=ctx.actor.label,
        created_at=now,
    )
    s.add(r)
    s.flush()
    out = queries.reservation_out(r, sku, loc.name)
    ctx.audit(
        "catalog.reservation.created",
        "reservation",
        r.id,
        sku=sku,
        location_id=location_id,
        customer_id=person,
        conversation_id=conversation_id,
    )
    until = r.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    text = f"Reserved 1 x {sku} at {loc.name} for the customer until {until} (reservation {r.id})."
    _note(ctx, conversation_id, text, required=True)
    ctx.publish("reservation.created", **_event(out, loc))
    return out


def _event(out: dict[str, Any], loc: Location) -> dict[str, Any]:
    return {
        "reservation_id": out["id"],
        "customer_id": out["customer_id"],
        "conversation_id": out["conversation_id"],
        "sku": out["sku"],
        "location_id": loc.id,
        "location_name": loc.name,
        "status": out["status"],
        "expires_at": out["expires_at"],
        "at": out["ended_at"] or out["created_at"],
        "by": out["ended_by"] or out["created_by"],
    }


def _end(ctx: ActionContext, r: Reservation, status: str, now: dt.datetime) -> dict[str, Any] | None:
    """Claim the hold (held -> released/expired) and give the item back; None if someone else did."""
    s = ctx.session
    claimed = queries.changed(
        s.execute(
            update(Reservation)
            .where(Reservation.id == r.id, Reservation.status == "held")
            .values(status=status, ended_at=now, ended_by=ctx.actor.label)
        )
    )
    if claimed != 1:
        return None
    s.execute(
        update(Stock)
        .where(
            Stock.variant_id == r.variant_id, Stock.location_id == r.location_id, Stock.reserved >= r.quantity
        )
        .values(reserved=Stock.reserved - r.quantity, updated_at=now)
    )
    s.refresh(r)
    loc = s.get(Location, r.location_id)
    sku = s.execute(select(Variant.sku).where(Variant.id == r.variant_id)).scalar()
    assert loc is not None
    out = queries.reservation_out(r, sku, loc.name)
    ctx.audit(f"catalog.reservation.{status}", "reservation", r.id, sku=sku, location_id=r.location_id)
    verb = "Released" if status == "released" else "Expired"
    _note(ctx, r.conversation_id, f"{verb}: reservation {r.id} of {sku} at {loc.name}.", required=False)
    ctx.publish(f"reservation.{status}", **_event(out, loc))
    return out


def release(ctx: ActionContext, reservation_id: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """Give a held item back to available stock; 409 if the hold has already ended."""
    r = ctx.session.get(Reservation, reservation_id)
    if r is None:
        raise NotFound(f"no reservation {reservation_id}", field="reservation_id")
    out = _end(ctx, r, "released", now or utcnow())
    if out is None:
        raise Conflict(f"reservation {reservation_id} has already ended ({r.status})", field="reservation_id")
    return out


def expire_due(ctx: ActionContext, now: dt.datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """End holds whose time is up. Idempotent: each hold is claimed with a conditional UPDATE, so a
    sweep running twice (two workers) expires each one once."""
    now = now or utcnow()
    due = ctx.session.scalars(
        select(Reservation)
        .where(Reservation.status == "held", Reservation.expires_at <= now)
        .order_by(Reservation.expires_at)
        .limit(limit)
    ).all()
    return sum(1 for r in due if _end(ctx, r, "expired", now) is not None)
