"""What the catalogue holds about a person, for access and erasure requests: their reservations and
the reviews they wrote.

Erasure keeps the rows without the person: a reservation keeps its SKU, location, times and status
(stock history and counts stay right) and a review keeps its product, rating and fit vote (the fit
summary and average rating are aggregates, not personal), while the customer and conversation links
and the review's own words go. A hold still running is given back to available stock first: nobody
is left to collect it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from amity.catalog import queries
from amity.catalog.models import Reservation, Review, Stock
from amity.db import utcnow
from amity.privacy.holders import DataHolder
from amity.privacy.holders import register as register_holder


def export(session: Session, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    reviews = session.scalars(select(Review).where(Review.customer_id.in_(ids)).order_by(Review.created_at))
    return {
        "catalog_reservations": queries.reservations_of(session, ids, limit=100_000),
        "catalog_reviews": [queries.review_out(r) for r in reviews],
    }


def erase(session: Session, ids: list[str]) -> None:
    now = utcnow()
    held = session.scalars(
        select(Reservation).where(Reservation.customer_id.in_(ids), Reservation.status == "held")
    ).all()
    for r in held:
        session.execute(
            update(Stock)
            .where(
                Stock.variant_id == r.variant_id,
                Stock.location_id == r.location_id,
                Stock.reserved >= r.quantity,
            )
            .values(reserved=Stock.reserved - r.quantity, updated_at=now)
        )
        r.status, r.ended_at, r.ended_by = "released", now, "system:privacy"
    session.flush()
    session.execute(
        update(Reservation)
        .where(Reservation.customer_id.in_(ids))
        .values(customer_id=None, conversation_id=None)
    )
    session.execute(
        update(Review).where(Review.customer_id.in_(ids)).values(customer_id=None, title="", text="")
    )


HOLDER = DataHolder(
    name="catalog",
    tables=("catalog_reservations", "catalog_reviews"),
    export=export,
    erase=erase,
)


def register() -> None:
    register_holder(HOLDER)
