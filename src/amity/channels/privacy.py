"""What the channels capability holds about a person, for access and erasure requests.

Outgoing webhook deliveries keep the event they carry (customer and conversation ids, sometimes
more), so they are personal data until delivered and kept for a while after. Chat visitors hold no
server-side state (their tokens are signed and self-contained), so there is nothing else here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, cast, or_, select, update
from sqlalchemy.orm import Session

from amity.channels.models import WebhookDelivery
from amity.conversations.privacy import conversation_ids
from amity.privacy.holders import DataHolder, register
from amity.privacy.rows import as_dicts


def _mentions(session: Session, ids: list[str]) -> Any:
    # Ids are prefixed random strings (cus_…, cnv_…): a substring match on the JSON text finds the
    # payloads that carry them without knowing each event's shape.
    keys = [*ids, *conversation_ids(session, ids)]
    text = cast(WebhookDelivery.payload, Text)
    return or_(*(text.contains(k, autoescape=True) for k in keys))


def export(session: Session, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    rows = session.scalars(
        select(WebhookDelivery).where(_mentions(session, ids)).order_by(WebhookDelivery.id)
    )
    return {"webhook_deliveries": as_dicts(rows)}


def erase(session: Session, ids: list[str]) -> None:
    for did, payload in session.execute(
        select(WebhookDelivery.id, WebhookDelivery.payload).where(_mentions(session, ids))
    ).all():
        kept = {"id": payload.get("id"), "event": payload.get("event"), "erased": True}
        session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == did).values(payload=kept, last_error=None)
        )


HOLDER = DataHolder(name="channels", tables=("webhook_deliveries",), export=export, erase=erase)
register(HOLDER)
