"""Small helpers shared by tests: ingest events through the real action layer and read state back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from amity.core.actions import SYSTEM, App, perform
from amity.customers import actions, queries, service
from amity.customers.models import Customer, Event, Identity


def ev(type_: str = "page.viewed", *idents: str, **kw: Any) -> dict[str, Any]:
    """ev("order.placed", "email:ana@example.com", "phone:+447911123456", traits={...})"""
    identities = []
    for spec in idents:
        t, _, v = spec.rpartition(":") if spec.startswith(("social:", "external:")) else spec.partition(":")
        identities.append({"type": t, "value": v})
    return {"type": type_, "identities": identities, **kw}


def ingest(app: App, *events: dict[str, Any]) -> list[dict[str, Any]]:
    result = service.ingest(app, SYSTEM, list(events))
    return list(result["results"])


def one(app: App, event: dict[str, Any]) -> str:
    r = ingest(app, event)[0]
    assert r["status"] == "accepted", r
    return str(r["customer_id"])


def live_customers(app: App) -> set[str]:
    with app.db.read() as s:
        return set(s.scalars(select(Customer.id).where(Customer.merged_into_id.is_(None))))


def identity_owner(app: App, type_: str, value: str) -> str | None:
    with app.db.read() as s:
        return s.scalar(select(Identity.customer_id).where(Identity.type == type_, Identity.value == value))


def c360(app: App, cid: str, **kw: Any) -> dict[str, Any]:
    with app.db.read() as s:
        return queries.customer_360(s, cid, **kw)


def event_count(app: App, cid: str) -> int:
    with app.db.read() as s:
        return s.scalar(select(func.count()).select_from(Event).where(Event.customer_id == cid)) or 0


def merge(app: App, a: str, b: str) -> str:
    return perform(app, SYSTEM, actions.merge_customers, a, b, service.policy(app), None)


def undo(app: App, merge_id: str) -> dict[str, str]:
    return perform(app, SYSTEM, actions.undo_merge, merge_id, None)
