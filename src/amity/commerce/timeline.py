"""Commerce facts on the customer's timeline, written in the commerce action's own transaction.

An order is resolved to its customer the way every event is: the ``order.placed`` event carries the
identities (or ``customer_id``), the customer core's ingest resolves (and, when the identities prove
it, merges) them, and the order row takes the resolved id. Both happen in one transaction, so there is
never an order without its event, nor an event for an order that was refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from amity.core.actions import ActionContext, App, Invalid, NotFound
from amity.customers import actions as customer_actions
from amity.customers import queries as customer_queries
from amity.customers import service as customer_service
from amity.customers.prepare import Prepared, Rejected, prepare_item
from amity.db import utcnow

SOURCE = "commerce"


@dataclass(frozen=True)
class Fact:
    """One event to put on a timeline; ``prefix`` names the request item it came from (``orders[3].``)."""

    type: str
    whose: dict[str, Any]  # {"customer_id": ...} or {"identities": [...]}
    properties: dict[str, Any]
    id: str | None = None
    timestamp: dt.datetime | None = None
    source: str | None = None
    prefix: str = ""


@dataclass(frozen=True)
class Placed:
    customer_id: str | None  # None: refused (see error)
    duplicate: bool = False
    error: tuple[str, str] | None = None


def _raw(f: Fact) -> dict[str, Any]:
    raw: dict[str, Any] = {"type": f.type, "properties": f.properties, "source": f.source or SOURCE}
    if f.id:
        raw["id"] = f.id
    if f.timestamp:
        raw["timestamp"] = f.timestamp
    if f.whose.get("customer_id"):
        raw["customer_id"] = f.whose["customer_id"]
    if f.whose.get("identities"):
        raw["identities"] = f.whose["identities"]
    return raw


def record_many(ctx: ActionContext, app: App, facts: list[Fact]) -> list[Placed]:
    """Put facts on their customers' timelines; each answer says whose it became or why it was refused."""
    if not facts:
        return []
    now = utcnow()
    schema = customer_queries.trait_schema(ctx.session)
    policy = customer_service.policy(app)
    out: list[Placed | None] = [None] * len(facts)
    prepared: list[Prepared] = []
    for i, f in enumerate(facts):
        item = prepare_item(
            i,
            _raw(f),
            schema=schema,
            policy=policy,
            now=now,
            max_future=dt.timedelta(seconds=app.settings.max_future_skew_seconds),
            max_properties_bytes=app.settings.max_properties_bytes,
        )
        if isinstance(item, Rejected):
            first = item.errors[0]
            field = {"timestamp": "placed_at"}.get(first.field, first.field)
            out[i] = Placed(None, error=(f"{f.prefix}{field}", first.message))
        else:
            prepared.append(item)
    if prepared:
        outcomes = customer_actions.ingest_events(ctx, prepared, policy)
        for p, o in zip(prepared, outcomes, strict=True):
            if o.status == "rejected":
                field, message = o.error or ("customer_id", "refused")
                out[p.index] = Placed(None, error=(f"{facts[p.index].prefix}{field}", message))
            else:
                out[p.index] = Placed(o.customer_id, duplicate=o.status == "duplicate")
    return [p if p is not None else Placed(None, error=("", "not recorded")) for p in out]


def record(ctx: ActionContext, app: App, fact: Fact) -> str:
    """One fact; a refusal raises (422 naming the field, 404 for an unknown customer)."""
    placed = record_many(ctx, app, [fact])[0]
    if placed.customer_id is None:
        field, message = placed.error or ("customer_id", "refused")
        if field.endswith("customer_id") and message.startswith("no customer"):
            raise NotFound(message, field=field)
        raise Invalid(message, field=field or "identities")
    return placed.customer_id


def whose(customer_id: str | None, identities: list[Any] | None) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "identities": [i if isinstance(i, dict) else i.model_dump() for i in identities or []],
    }
