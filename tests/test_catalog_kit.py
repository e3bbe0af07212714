"""What the catalogue tests share: a small shoe shop (products, stores with coordinates, stock) and
a customer with a conversation. No tests of its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.conversations.actions import start_conversation
from amity.core.actions import SYSTEM, App, perform
from amity.privacy.models import AuditEntry
from tests.conftest import auth
from tests.helpers import ev, one

# name, code, city, lat, lon
STORES = (
    ("London Covent Garden", "lon-cg", "London", 51.5117, -0.1240),
    ("Manchester Northern Quarter", "man-nq", "Manchester", 53.4840, -2.2360),
    ("Lisbon Chiado", "lis-ch", "Lisbon", 38.7107, -9.1420),
    ("Porto Santa Catarina", "opo-sc", "Porto", 41.1496, -8.6060),
)
SIZES = ("5", "5.5", "6", "6.5", "7")


def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


@dataclass
class Shop:
    product: dict[str, Any]
    stores: dict[str, str]  # code -> location id
    admin: dict[str, str]
    agent: dict[str, str]


def shop(client: TestClient, tokens: dict[str, str], stock: dict[tuple[str, str], int] | None = None) -> Shop:
    """The Ridgeline trail shoe in sizes 5-7 and four stores; ``stock`` maps (size, store code) -> quantity."""
    admin = auth(tokens["admin"])
    product = ok(
        client.post(
            "/api/v1/products",
            json={
                "name": "Ridgeline Trail Runner",
                "code": "NW-TRL-01",
                "brand": "Northwind",
                "category": "shoes",
                "variants": [{"sku": f"NW-TRL-01-{s}", "size": s, "colour": "moss"} for s in SIZES],
            },
            headers=admin,
        ),
        201,
    )
    body = {
        "locations": [
            {
                "name": n,
                "code": c,
                "city": city,
                "latitude": lat,
                "longitude": lon,
                "timezone": "Europe/London",
            }
            for n, c, city, lat, lon in STORES
        ]
    }
    locs = ok(client.post("/api/v1/locations", json=body, headers=admin), 201)["items"]
    stores = {loc["code"]: loc["id"] for loc in locs}
    rows = [
        {"sku": f"NW-TRL-01-{size}", "location_id": stores[code], "quantity": q}
        for (size, code), q in (stock or {}).items()
    ]
    if rows:
        ok(client.put("/api/v1/inventory", json=rows, headers=admin))
    return Shop(product, stores, admin, auth(tokens["agent"]))


def customer(app: App, email: str = "ana@example.com", **kw: Any) -> str:
    return one(app, ev("page.viewed", f"email:{email}", **kw))


def allow_personalisation(app: App, customer_id: str) -> None:
    """Record the customer's consent to personal advice, where the consent capability is installed
    (size advice asks ``amity.consent.policy.may_profile``)."""
    try:
        from amity.consent.actions import record_consent
    except ImportError:
        return
    perform(
        app, SYSTEM, record_consent, customer_id, purpose="personalisation", status="granted", source="api"
    )


def conversation(app: App, customer_id: str, subject: str = "Trail shoes in 6.5?") -> str:
    return perform(app, SYSTEM, start_conversation, customer_id, subject, None, [])


def audit_of(app: App, action_prefix: str) -> list[AuditEntry]:
    with app.db.read() as s:
        return list(
            s.scalars(
                select(AuditEntry).where(AuditEntry.action.startswith(action_prefix)).order_by(AuditEntry.id)
            )
        )


def notes(client: TestClient, headers: dict[str, str], conversation_id: str) -> list[str]:
    conv = ok(client.get(f"/api/v1/conversations/{conversation_id}", headers=headers))
    return [m["text"] for m in conv["messages"] if m.get("is_note")]


def timeline_types(client: TestClient, headers: dict[str, str], customer_id: str) -> list[str]:
    items = ok(client.get(f"/api/v1/customers/{customer_id}/events", headers=headers, params={"limit": 100}))
    return [e["type"] for e in items["items"]]
