"""Helpers the service tests share (no tests here): people, a signed API channel, a fixed clock.

Customers and conversations are made the way they are in production: a message posted to the API
channel's webhook, signed with ``amity.channels.signing.sign``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.accounts.actions import create_user
from amity.channels import signing
from amity.core.actions import SYSTEM, App, perform
from amity.core.bus import DomainEvent
from amity.privacy.models import AuditEntry
from amity.service.sla import CLOCK
from tests.conftest import auth

PASSWORD = "correct horse battery staple"
SECRET = "kiosk-shared-secret-0123456789"


class FixedClock:
    """The service clock, injected through ``app.cache[CLOCK]``; moves only when told to."""

    def __init__(self, app: App, now: dt.datetime) -> None:
        self.now = now
        app.cache[CLOCK] = self

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now

    def set(self, now: dt.datetime) -> None:
        self.now = now


def person(app: App, email: str, role: str = "agent", name: str = "") -> str:
    user = perform(app, SYSTEM, create_user, email, PASSWORD, role, name or email.split("@")[0].title())
    return str(user.id)


def session_headers(client: TestClient, email: str) -> dict[str, str]:
    """Sign a person in and hand back their cookie as a header, so one client can act as many people."""
    r = client.post("/api/v1/session", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    cookie = client.cookies["amity_session"]
    client.cookies.clear()
    return {"Cookie": f"amity_session={cookie}"}


def api_channel(client: TestClient, admin: str, name: str = "kiosk", brand_id: str | None = None) -> str:
    body: dict[str, Any] = {
        "type": "api",
        "name": name,
        "config": {"secret": SECRET, "outbound_url": "https://kiosk.example.com/replies"},
    }
    if brand_id:
        body["brand_id"] = brand_id
    r = client.post("/api/v1/channels", json=body, headers=auth(admin))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def inbound(
    client: TestClient, channel_id: str, text: str, sender: str = "ana@example.com", **extra: Any
) -> dict[str, Any]:
    body = orjson.dumps({"from": {"type": "email", "value": sender}, "text": text, **extra})
    r = client.post(
        f"/hooks/{channel_id}/api",
        content=body,
        headers={"Content-Type": "application/json", signing.HEADER: signing.sign(SECRET, body)},
    )
    assert r.status_code in (200, 201), r.text
    out: dict[str, Any] = r.json()
    return out


def declare(client: TestClient, admin: str, name: str, type_: str) -> None:
    r = client.post(
        "/api/v1/traits",
        json={"name": name, "type": type_, "purpose": "service"},
        headers=auth(admin),
    )
    assert r.status_code == 201, r.text


def set_traits(client: TestClient, admin: str, email: str, **traits: Any) -> str:
    r = client.post(
        "/api/v1/events",
        json={"type": "profile.updated", "identities": [{"type": "email", "value": email}], "traits": traits},
        headers=auth(admin),
    )
    assert r.status_code in (200, 201), r.text
    return str(r.json()["results"][0]["customer_id"])


def record_events(app: App) -> list[DomainEvent]:
    seen: list[DomainEvent] = []
    app.bus.subscribe("*", seen.append)
    return seen


def audit_actions(app: App, subject_id: str) -> list[str]:
    with app.db.read() as s:
        return list(
            s.scalars(
                select(AuditEntry.action).where(AuditEntry.subject_id == subject_id).order_by(AuditEntry.id)
            )
        )


def conversation(client: TestClient, token: str, conversation_id: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/conversations/{conversation_id}", headers=auth(token))
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()
