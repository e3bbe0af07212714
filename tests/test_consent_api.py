"""The consent ledger through the API: recorded, never overwritten, derived state, purposes, events,
merges, and what privacy requests export and erase."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.consent import queries
from amity.consent.models import ConsentRecord
from amity.consent.proof import keyed_hash
from amity.core.actions import App
from amity.privacy import holders
from amity.privacy.models import AuditEntry
from tests.conftest import auth
from tests.helpers import ev, merge, one, undo


@pytest.fixture
def ana(app: App) -> str:
    return one(app, ev("order.placed", "email:ana@example.com"))


def post(client: TestClient, token: str, cid: str, **body: Any) -> Any:
    body = {"status": "granted", "lawful_basis": "consent", "source": "api", **body}
    return client.post(f"/api/v1/customers/{cid}/consents", json=body, headers=auth(token))


def records(app: App) -> list[ConsentRecord]:
    with app.db.read() as s:
        return list(s.scalars(select(ConsentRecord).order_by(ConsentRecord.id)))


def test_a_grant_is_recorded_with_its_proof_and_audited(
    client: TestClient, app: App, tokens: dict[str, str], ana: str
) -> None:
    r = post(
        client,
        tokens["integration"],
        ana,
        purpose="marketing",
        channel="email",
        source="widget",
        policy_version="2026-11",
        text="Yes, send me offers by email.",
        ip="203.0.113.7",
        user_agent="Mozilla/5.0",
    )
    assert r.status_code == 201, r.text
    [row] = records(app)
    assert (row.customer_id, row.purpose, row.channel, row.status, row.source) == (
        ana,
        "marketing",
        "email",
        "granted",
        "widget",
    )
    assert row.text_sha256 == hashlib.sha256(b"Yes, send me offers by email.").hexdigest()
    secret = app.cache["secret_key"]
    assert row.ip_hash == keyed_hash(secret, "ip", "203.0.113.7") and "203.0.113.7" not in str(r.json())
    assert row.user_agent_hash == keyed_hash(secret, "ua", "Mozilla/5.0")
    assert row.recorded_by.startswith("token:")
    with app.db.read() as s:
        [audit] = s.scalars(select(AuditEntry).where(AuditEntry.action == "consent.recorded"))
    assert audit.subject_id == ana and audit.details["purpose"] == "marketing"


def test_a_withdrawal_appends_and_the_current_state_follows_the_latest(
    client: TestClient, tokens: dict[str, str], app: App, ana: str
) -> None:
    assert post(client, tokens["agent"], ana, purpose="marketing", source="agent").status_code == 201
    r = post(client, tokens["agent"], ana, purpose="marketing", status="withdrawn", source="agent")
    assert r.status_code == 201
    got = client.get(f"/api/v1/customers/{ana}/consents", headers=auth(tokens["agent"])).json()
    assert [h["status"] for h in got["history"]] == ["withdrawn", "granted"]  # newest first, both kept
    [current] = got["current"]
    assert (current["purpose"], current["channel"], current["status"]) == ("marketing", None, "withdrawn")
    assert len(records(app)) == 2


def test_a_channel_record_beats_every_channel_unless_a_newer_blanket_refusal(
    client: TestClient, tokens: dict[str, str], ana: str
) -> None:
    t = tokens["admin"]
    post(client, t, ana, purpose="marketing", status="withdrawn", channel="sms")
    post(client, t, ana, purpose="marketing")  # a later grant for every channel
    post(client, t, ana, purpose="marketing", channel="email")
    got = client.get(f"/api/v1/customers/{ana}/consents", headers=auth(t)).json()["current"]
    eff = {c["channel"]: c["effective_status"] for c in got}
    assert eff == {None: "granted", "sms": "withdrawn", "email": "granted"}  # the sms refusal stands
    post(client, t, ana, purpose="marketing", status="withdrawn")  # "stop all marketing"
    got = client.get(f"/api/v1/customers/{ana}/consents", headers=auth(t)).json()["current"]
    assert {c["channel"]: c["effective_status"] for c in got} == {
        None: "withdrawn",
        "sms": "withdrawn",
        "email": "withdrawn",
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"purpose": "astrology"}, "purpose"),
        ({"purpose": "partner_sharing", "lawful_basis": "legitimate_interest"}, "lawful_basis"),
        ({"purpose": "marketing", "status": "maybe"}, "status"),
        ({"purpose": "marketing", "channel": "pigeon"}, "channel"),
        ({"purpose": "marketing", "source": "rumour"}, "source"),
        ({"purpose": "marketing", "extra": 1}, "extra"),
    ],
)
def test_a_record_that_could_not_be_one_is_refused_naming_the_field(
    client: TestClient, tokens: dict[str, str], app: App, ana: str, body: dict[str, Any], field: str
) -> None:
    r = post(client, tokens["admin"], ana, **body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field
    if field == "purpose":
        assert "astrology" in r.json()["errors"][0]["message"]
    assert records(app) == []


def test_an_unknown_customer_is_a_404(client: TestClient, tokens: dict[str, str]) -> None:
    r = post(client, tokens["admin"], "cus_nobody", purpose="marketing")
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "customer_id"
    r = client.get("/api/v1/customers/cus_nobody/consents", headers=auth(tokens["admin"]))
    assert r.status_code == 404


def test_admins_add_purposes_with_their_bases_and_others_may_not(
    client: TestClient, tokens: dict[str, str], ana: str
) -> None:
    body = {"key": "loyalty_offers", "name": "Loyalty offers", "lawful_bases": ["consent"]}
    assert (
        client.post("/api/v1/consent/purposes", json=body, headers=auth(tokens["agent"])).status_code == 403
    )
    r = client.post("/api/v1/consent/purposes", json=body, headers=auth(tokens["admin"]))
    assert r.status_code == 201, r.text
    again = client.post("/api/v1/consent/purposes", json=body, headers=auth(tokens["admin"]))
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "key"
    bad = {**body, "key": "x_assumed", "default_basis": "consent"}
    r = client.post("/api/v1/consent/purposes", json=bad, headers=auth(tokens["admin"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "default_basis"
    items = client.get("/api/v1/consent/purposes", headers=auth(tokens["agent"])).json()["items"]
    keys = [p["key"] for p in items]
    assert keys[:5] == ["service", "marketing", "personalisation", "analytics", "partner_sharing"]
    assert "loyalty_offers" in keys
    assert post(client, tokens["admin"], ana, purpose="loyalty_offers").status_code == 201
    wrong = post(client, tokens["admin"], ana, purpose="loyalty_offers", lawful_basis="contract")
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "lawful_basis"


def test_consent_events_from_ingest_land_in_the_ledger_with_their_time(
    client: TestClient, tokens: dict[str, str], app: App
) -> None:
    events = {
        "events": [
            {
                "id": "c-1",
                "type": "consent.granted",
                "timestamp": "2026-03-01T10:00:00Z",
                "identities": [{"type": "email", "value": "bo@example.com"}],
                "properties": {"purpose": "marketing", "channel": "sms", "policy_version": "v3"},
            },
            {
                "id": "c-2",
                "type": "consent.withdrawn",
                "timestamp": "2026-04-01T10:00:00Z",
                "identities": [{"type": "email", "value": "bo@example.com"}],
                "properties": {"purpose": "marketing", "channel": "sms"},
            },
        ]
    }
    r = client.post("/api/v1/events", json=events, headers=auth(tokens["integration"]))
    assert r.status_code == 200 and r.json()["accepted"] == 2, r.text
    cid = r.json()["results"][0]["customer_id"]
    rows = records(app)
    assert [(x.status, x.source, x.event_id, x.at.isoformat()) for x in rows] == [
        ("granted", "event", "c-1", "2026-03-01T10:00:00+00:00"),
        ("withdrawn", "event", "c-2", "2026-04-01T10:00:00+00:00"),
    ]
    assert rows[0].policy_version == "v3" and rows[0].customer_id == cid
    # the same events again are duplicates: the ledger does not grow
    again = client.post("/api/v1/events", json=events, headers=auth(tokens["integration"]))
    assert again.json()["duplicate"] == 2 and len(records(app)) == 2


def test_a_consent_event_for_an_unknown_purpose_is_rejected_naming_it(
    client: TestClient, tokens: dict[str, str], app: App
) -> None:
    batch = {
        "events": [
            {"type": "page.viewed", "identities": [{"type": "email", "value": "cy@example.com"}]},
            {
                "type": "consent.granted",
                "identities": [{"type": "email", "value": "cy@example.com"}],
                "properties": {"purpose": "telepathy"},
            },
        ]
    }
    r = client.post("/api/v1/events", json=batch, headers=auth(tokens["integration"]))
    assert r.status_code == 200, r.text
    good, bad = r.json()["results"]
    assert good["status"] == "accepted" and bad["status"] == "rejected"
    [err] = bad["errors"]
    assert err["field"] == "events[1].properties.purpose" and "telepathy" in err["message"]
    single = client.post("/api/v1/events", json=batch["events"][1], headers=auth(tokens["integration"]))
    assert single.status_code == 422 and "telepathy" in single.json()["results"][0]["errors"][0]["message"]
    assert records(app) == []


def test_a_merged_profiles_history_counts_and_an_unmerge_gives_it_back(
    client: TestClient, tokens: dict[str, str], app: App, ana: str
) -> None:
    other = one(app, ev("page.viewed", "phone:+447911123456"))
    post(client, tokens["admin"], other, purpose="marketing", channel="sms")
    merge_id = merge(app, ana, other)
    with app.db.read() as s:
        assert [c["channel"] for c in queries.current_state(s, ana)] == ["sms"]
        assert [h["customer_id"] for h in queries.history(s, other)] == [other]  # a merged-away id answers
    undo(app, merge_id)
    with app.db.read() as s:
        assert queries.current_state(s, ana) == []
        assert len(queries.current_state(s, other)) == 1


def test_export_gives_the_history_and_erasure_keeps_only_withdrawals_without_proof(
    client: TestClient, tokens: dict[str, str], app: App, ana: str
) -> None:
    post(client, tokens["admin"], ana, purpose="marketing", source="widget", ip="198.51.100.1", text="ok")
    post(
        client,
        tokens["admin"],
        ana,
        purpose="marketing",
        status="withdrawn",
        source="widget",
        ip="198.51.100.1",
    )
    [holder] = [h for h in holders.holders() if h.name == "consent"]
    assert "consent_records" in holders.covered_tables()
    with app.db.read() as s:
        exported = holder.export(s, [ana])["consent_records"]
    assert [e["status"] for e in exported] == ["granted", "withdrawn"]
    with app.db.write_session() as s, s.begin():
        holder.erase(s, [ana])
    [kept] = records(app)
    assert kept.status == "withdrawn" and kept.purpose == "marketing" and kept.erased_at is not None
    assert (kept.ip_hash, kept.user_agent_hash, kept.text_sha256) == (None, None, None)
