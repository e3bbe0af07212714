"""Shared by the privacy tests (this module has no tests of its own): an app that runs its jobs at
once, a person seeded through the real ingest and email paths, and reading an export."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.config import Settings
from amity.core.actions import SYSTEM, App
from amity.customers import service
from amity.privacy.request_models import PrivacyRequest
from amity.web.app import build_app, create_app
from tests.conftest import auth


@pytest.fixture
def now_app(app: App, settings: Settings) -> App:
    """The same database as ``app``, with jobs run inline as they are queued (huey immediate)."""
    return build_app(settings.model_copy(update={"jobs_immediate": True}), app.db)


@pytest.fixture
def now_client(now_app: App) -> Iterator[TestClient]:
    with TestClient(create_app(now_app)) as c:
        yield c


def ingest(app: App, *events: dict[str, Any]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = service.ingest(app, SYSTEM, list(events))["results"]
    for r in results:
        assert r["status"] == "accepted", r
    return results


def declare(client: TestClient, admin: str, name: str, type_: str = "string", **extra: Any) -> None:
    r = client.post(
        "/api/v1/traits",
        json={"name": name, "type": type_, "purpose": "service", **extra},
        headers=auth(admin),
    )
    assert r.status_code == 201, r.text


def person(app: App, email: str, phone: str, name: str, note: str = "likes trail shoes") -> str:
    """A customer first seen by email, then by phone, merged by an event carrying both."""
    a = ingest(
        app,
        {
            "type": "page.viewed",
            "identities": [{"type": "email", "value": email}],
            "traits": {"name": name},
            "properties": {"note": note, "amount": 12},
        },
    )
    ingest(app, {"type": "call.ended", "identities": [{"type": "phone", "value": phone}]})
    ingest(
        app,
        {
            "type": "order.placed",
            "identities": [{"type": "email", "value": email}, {"type": "phone", "value": phone}],
            "properties": {"amount": 80, "currency": "EUR", "gift_message": note},
        },
    )
    return str(a[0]["customer_id"])


def file(client: TestClient, token: str, **body: Any) -> dict[str, Any]:
    r = client.post("/api/v1/privacy/requests", json=body, headers=auth(token))
    assert r.status_code == 201, r.text
    return dict(r.json())


def request_row(app: App, request_id: str) -> PrivacyRequest:
    with app.db.read() as s:
        r = s.get(PrivacyRequest, request_id)
    assert r is not None
    return r


def all_requests(app: App) -> list[PrivacyRequest]:
    with app.db.read() as s:
        return list(s.scalars(select(PrivacyRequest)))


def read_zip(data: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        files = {n: z.read(n) for n in z.namelist()}
    return orjson.loads(files["data.json"]), files
