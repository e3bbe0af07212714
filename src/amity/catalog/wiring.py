"""What ``amity.catalog.install(app)`` wires up: the timeline, the expiry sweep, privacy, the console card.

Reservations and reviews by a customer go on that customer's timeline through the customer core's
own ingest (``customers.service.ingest``), after the catalogue's transaction has committed: the
event id is derived from the reservation or review id, so a repeated delivery is stored once. Stock
changes (``inventory.updated``) belong to no customer: they stay a domain event (webhooks, live
updates) and an audit row per call.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from amity.catalog import holds
from amity.core.actions import SYSTEM, App, perform
from amity.core.bus import DomainEvent
from amity.db import utcnow

log = logging.getLogger(__name__)

TIMELINE = ("reservation.created", "reservation.released", "reservation.expired", "review.posted")


def timeline_event(event: DomainEvent) -> dict[str, Any] | None:
    """The customer-timeline event for one catalogue domain event (None: nobody's timeline)."""
    d = event.data
    if not d.get("customer_id"):
        return None
    # Never later than now: a sweep told to act "as of" a later time must not write a future event.
    at = min(dt.datetime.fromisoformat(d["at"]), utcnow()).isoformat()
    if event.name == "review.posted":
        return {
            "id": f"review-{d['review_id']}",
            "type": "review.posted",
            "timestamp": at,
            "source": "amity",
            "customer_id": d["customer_id"],
            "properties": {
                "review_id": d["review_id"],
                "product_id": d["product_id"],
                "rating": d["rating"],
                "fit": d["fit"],
            },
        }
    status = event.name.removeprefix("reservation.")
    return {
        "id": f"reservation-{d['reservation_id']}-{status}",
        "type": event.name,
        "timestamp": at,
        "source": "amity",
        "customer_id": d["customer_id"],
        "properties": {
            "reservation_id": d["reservation_id"],
            "sku": d["sku"],
            "location_id": d["location_id"],
            "location": d["location_name"],
            "expires_at": d["expires_at"],
            "conversation_id": d["conversation_id"],
            "by": d["by"],
        },
    }


def install(app: App) -> None:
    from amity import jobs
    from amity.catalog import privacy, ui_panel
    from amity.customers import service

    def to_timeline(event: DomainEvent) -> None:
        item = timeline_event(event)
        if item is None:
            return
        result = service.ingest(app, SYSTEM, [item])
        if result["rejected"]:
            log.warning("catalogue event not put on the timeline: %s", result["results"][0]["errors"])

    for name in TIMELINE:
        app.bus.subscribe(name, to_timeline)

    def expire_reservations() -> int:
        return perform(app, SYSTEM, holds.expire_due)

    expire_reservations.__name__ = "catalog.expire_reservations"
    worker = app.cache.get("jobs") or jobs.install(app)
    worker.sweepers.append(expire_reservations)
    privacy.register()
    ui_panel.register()
