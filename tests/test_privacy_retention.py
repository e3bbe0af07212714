"""Retention with a frozen clock: traits by their schema's retention_days, events per type, messages
per channel type; what is not yet due stays, and every sweep is recorded."""

from __future__ import annotations

import base64
import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from amity.conversations.models import Attachment, Message
from amity.core.actions import App
from amity.customers.models import Customer, Event, TraitHistory
from amity.privacy import retention
from amity.privacy.models import AuditEntry
from amity.privacy.request_models import RetentionRun
from tests.conftest import auth
from tests.conversation_helpers import api_channel, write_in
from tests.test_privacy_kit import declare, ingest

T0 = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


def _rules(client: TestClient, admin: str, *rules: dict[str, object]) -> None:
    r = client.put("/api/v1/privacy/retention", json={"rules": list(rules)}, headers=auth(admin))
    assert r.status_code == 200, r.text


def test_a_trait_past_its_retention_leaves_the_profile_and_its_history(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    declare(client, tokens["admin"], "last_search", retention_days=30)
    declare(client, tokens["admin"], "shoe_size", "number")
    [r] = ingest(
        app,
        {
            "type": "search",
            "timestamp": T0.isoformat(),
            "identities": [{"type": "email", "value": "r@example.com"}],
            "traits": {"last_search": "trail shoes", "shoe_size": 6.5},
        },
    )
    cid = r["customer_id"]
    assert retention.run(app, T0 + dt.timedelta(days=29))["traits"] == 0  # not yet
    counts = retention.run(app, T0 + dt.timedelta(days=31))
    assert counts["traits"] >= 1
    with app.db.read() as s:
        traits = s.scalar(select(Customer.traits).where(Customer.id == cid))
        names = set(s.scalars(select(TraitHistory.name).where(TraitHistory.customer_id == cid)))
    assert traits == {"shoe_size": 6.5} and names == {"shoe_size"}


def test_events_and_messages_expire_by_their_rules_and_others_stay(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    _rules(
        client,
        tokens["admin"],
        {"kind": "event", "target": "page.viewed", "days": 90},
        {"kind": "event", "target": "*", "days": 3650},
        {"kind": "message", "target": "api", "days": 365},
    )
    ident = [{"type": "email", "value": "old@example.com"}]
    ingest(
        app,
        {"type": "page.viewed", "timestamp": T0.isoformat(), "identities": ident},
        {
            "type": "order.placed",
            "timestamp": T0.isoformat(),
            "identities": ident,
            "properties": {"amount": 9},
        },
    )
    kiosk = api_channel(client, tokens["admin"])
    sent = write_in(
        client,
        kiosk["id"],
        ("email", "old@example.com"),
        "my old question",
        attachments=[{"filename": "x.txt", "content_base64": base64.b64encode(b"old file").decode()}],
    )
    conv = sent.json()["conversation_id"]
    with app.db.read() as s:
        path = s.scalars(select(Attachment.storage_path)).one()
    now = dt.datetime.now(dt.UTC)
    # 100 days after T0: page views (90 days) go, the order stays; the message (written now) stays.
    counts = retention.run(app, T0 + dt.timedelta(days=100))
    assert counts["events"] == 1 and counts["messages"] == 0
    with app.db.read() as s:
        types = set(s.scalars(select(Event.type).where(Event.timestamp <= T0)))
    assert types == {"order.placed"}
    # A year and a day after the message: its words and file go, the row stays for the counts.
    counts = retention.run(app, now + dt.timedelta(days=366))
    assert counts["messages"] == 1
    with app.db.read() as s:
        [m] = s.scalars(select(Message).where(Message.conversation_id == conv)).all()
        assert m.text == "" and m.address is None and m.direction == "in"
        assert s.scalar(select(func.count()).select_from(Attachment)) == 0
        runs = s.scalars(select(RetentionRun).order_by(RetentionRun.id)).all()
        audits = s.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "privacy.retention.swept")
        ).all()
    assert not (app.settings.home / path).exists()
    assert [r.counts["messages"] for r in runs] == [0, 1] and len(audits) == 2


def test_retention_rules_are_the_admins_and_checked(client: TestClient, tokens: dict[str, str]) -> None:
    bad = client.put(
        "/api/v1/privacy/retention",
        json={"rules": [{"kind": "event", "target": "Page Viewed", "days": 3}]},
        headers=auth(tokens["admin"]),
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "rules[0].target"
    twice = client.put(
        "/api/v1/privacy/retention",
        json={
            "rules": [
                {"kind": "message", "target": "*", "days": 3},
                {"kind": "message", "target": "*", "days": 4},
            ]
        },
        headers=auth(tokens["admin"]),
    )
    assert twice.status_code == 422 and twice.json()["errors"][0]["field"] == "rules[1].target"
    assert (
        client.put(
            "/api/v1/privacy/retention", json={"rules": []}, headers=auth(tokens["supervisor"])
        ).status_code
        == 403
    )
    ok = client.put(
        "/api/v1/privacy/retention",
        json={"rules": [{"kind": "message", "target": "*", "days": 30}]},
        headers=auth(tokens["admin"]),
    )
    assert ok.json()["rules"][0]["days"] == 30
    assert (
        client.get("/api/v1/privacy/retention", headers=auth(tokens["admin"])).json()["rules"][0]["target"]
        == "*"
    )


def test_the_sweep_runs_retention_at_most_hourly(app: App) -> None:
    from amity.privacy.wiring import jobs_of

    jobs = jobs_of(app)
    assert retention.due(app, T0)
    retention.run(app, T0)
    assert not retention.due(app, T0 + dt.timedelta(minutes=59))
    assert retention.due(app, T0 + dt.timedelta(minutes=61))
    assert jobs.sweep in app.cache["jobs"].sweepers
