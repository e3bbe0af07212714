"""What the commerce tests share: the catalogue's shoe shop, orders through the API, audit rows and
timeline events read back. No tests of its own."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.core.actions import App
from amity.customers.models import Event
from amity.privacy.models import AuditEntry
from tests.test_catalog_kit import Shop, ok, shop

__all__ = ["Shop", "audit", "events", "ok", "order", "shop"]

EMAIL = "ana@example.com"


def order(client: TestClient, headers: dict[str, str], status: int = 201, **over: Any) -> Any:
    body: dict[str, Any] = {
        "external_id": "10442",
        "identities": [{"type": "email", "value": EMAIL}],
        "currency": "EUR",
        "lines": [{"sku": "NW-TRL-01-6", "quantity": 1, "unit_price_minor": 8900}],
        "payments": [{"amount_minor": 8900, "currency": "EUR"}],
        **over,
    }
    r = client.post("/api/v1/orders", json=body, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


def events(app: App, customer_id: str, prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
    with app.db.read() as s:
        rows = s.scalars(
            select(Event).where(Event.customer_id == customer_id).order_by(Event.timestamp, Event.id)
        )
        return [(e.type, e.properties) for e in rows if e.type.startswith(prefix)]


def audit(app: App, action: str) -> list[AuditEntry]:
    with app.db.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
