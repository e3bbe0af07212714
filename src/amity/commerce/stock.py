"""What the orders half asks of the catalogue: which SKUs exist, and taking stock for an order.

One narrow seam, so the catalogue's tables stay its own: everything goes through
``amity.catalog.queries`` and ``amity.catalog.actions``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from amity.catalog import queries as catalog
from amity.core.actions import ActionContext, ActionError
from amity.customers.queries import profile_ids


def variants(session: Session, skus: Iterable[str]) -> dict[str, dict[str, Any]]:
    """SKU -> the catalogue's variant (size, colour, product) for every SKU that exists."""
    return catalog.variants_by_skus(session, skus)


def take(
    ctx: ActionContext,
    *,
    sku: str,
    location_id: str,
    customer_id: str,
    quantity: int,
    field: str,
) -> list[str]:
    """Take ``quantity`` of ``sku`` out of stock at ``location_id`` for the customer's order; 409 when
    it is gone (a pair held for someone else is gone too). Returns the reservations used.

    A hold the customer already has there (an agent reserved the pair during the chat) is used first.
    Otherwise the catalogue's reserve claims the item with its conditional UPDATE, so two agents
    racing for the last pair cannot both sell it. The hold is then ended and on hand lowered by one:
    the item is sold, not held. All in the caller's transaction, so a refused line leaves no order.
    """
    from amity.catalog.actions import apply_deltas
    from amity.catalog.holds import release, reserve
    from amity.catalog.schemas import DeltaIn

    s = ctx.session
    people = profile_ids(s, customer_id)
    mine = [
        r["id"]
        for r in catalog.reservations_of(s, people, status="held", limit=200)
        if r["sku"] == sku and r["location_id"] == location_id
    ]
    used: list[str] = []
    try:
        for _ in range(quantity):
            rid = mine.pop(0) if mine else str(reserve(ctx, sku, location_id, customer_id)["id"])
            release(ctx, rid)
            used.append(rid)
        apply_deltas(ctx, [DeltaIn(sku=sku, location_id=location_id, delta=-quantity)])
    except ActionError as exc:
        raise ActionError(exc.status, exc.code, exc.message, field=field) from None
    return used
