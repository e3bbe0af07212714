"""Data-subject requests over the API: lifecycle, due dates, who may do what, no enumeration."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.core.actions import App, perform
from amity.customers.queries import customer_360
from amity.privacy import requests, runner
from amity.privacy.models import AuditEntry
from amity.privacy.schemas import RequestIn
from tests.conftest import auth
from tests.test_privacy_kit import file, now_app, now_client, person, read_zip, request_row

__all__ = ["now_app", "now_client"]  # fixtures used by name below

ANA = ("ana.access@example.com", "+447911100101", "Ana Lima")


def _audit(app: App, request_id: str) -> list[AuditEntry]:
    with app.db.read() as s:
        return list(
            s.scalars(select(AuditEntry).where(AuditEntry.subject_id == request_id).order_by(AuditEntry.id))
        )


def test_an_agent_files_a_verified_access_request_and_it_runs_to_completion(
    now_client: TestClient, now_app: App, tokens: dict[str, str]
) -> None:
    cid = person(now_app, *ANA)
    r = file(
        now_client,
        tokens["agent"],
        type="access",
        customer_id=cid,
        verification_method="replied from the email address on file",
    )
    got = now_client.get(f"/api/v1/privacy/requests/{r['id']}", headers=auth(tokens["agent"])).json()
    assert got["status"] == "completed"
    assert got["verified_by"].startswith("token:") and got["verification_method"].startswith("replied")
    assert got["download_url"] == f"/api/v1/privacy/requests/{r['id']}/export"
    assert [a.action for a in _audit(now_app, r["id"])] == [
        "privacy.request.filed",
        "privacy.request.started",
        "privacy.request.completed",
    ]
    # Agents file; leads download.
    assert now_client.get(got["download_url"], headers=auth(tokens["agent"])).status_code == 403
    z = now_client.get(got["download_url"], headers=auth(tokens["supervisor"]))
    assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
    with now_app.db.read() as s:
        seen = s.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.export.downloaded")).all()
    assert [(a.subject_id, a.details["request_id"]) for a in seen] == [(cid, r["id"])]
    data, files = read_zip(z.content)
    customers = data["data"]["customers"]
    assert {i["value"] for i in customers["identities"]} == {ANA[0], ANA[1]}
    assert any(c["traits"].get("name") == "Ana Lima" for c in customers["customers"])
    assert (
        "csv/customers.identities.csv" in files
        and b"ana.access@example.com" in files["csv/customers.identities.csv"]
    )


def test_without_a_verification_the_request_waits_until_someone_records_one(
    now_client: TestClient, now_app: App, tokens: dict[str, str]
) -> None:
    cid = person(now_app, *ANA)
    r = file(now_client, tokens["agent"], type="access", customer_id=cid)
    assert r["status"] == "received" and r["verified_by"] is None
    v = now_client.post(
        f"/api/v1/privacy/requests/{r['id']}/verify",
        json={"verification_method": "ID shown in store", "verified_by": "Clerk Bo"},
        headers=auth(tokens["agent"]),
    )
    assert v.status_code == 200, v.text
    assert v.json()["status"] == "completed" and v.json()["verified_by"] == "Clerk Bo"
    again = now_client.post(
        f"/api/v1/privacy/requests/{r['id']}/verify",
        json={"verification_method": "twice"},
        headers=auth(tokens["agent"]),
    )
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "request_id"


def test_due_one_month_after_receipt_and_extended_once_with_its_reason(
    client: TestClient, tokens: dict[str, str]
) -> None:
    r = file(client, tokens["admin"], type="access", customer_id="cus_x")
    received = dt.datetime.fromisoformat(r["received_at"])
    due = dt.datetime.fromisoformat(r["due_at"])
    assert due == requests.add_months(received, 1) and 28 <= (due - received).days <= 31
    assert r["days_left"] in (28, 29, 30, 31)
    e = client.post(
        f"/api/v1/privacy/requests/{r['id']}/extend",
        json={"reason": "many systems to search", "months": 2},
        headers=auth(tokens["admin"]),
    )
    assert e.status_code == 200, e.text
    assert dt.datetime.fromisoformat(e.json()["due_at"]) == requests.add_months(received, 3)
    assert e.json()["extension_reason"] == "many systems to search"
    twice = client.post(
        f"/api/v1/privacy/requests/{r['id']}/extend", json={"reason": "more"}, headers=auth(tokens["admin"])
    )
    assert twice.status_code == 409 and twice.json()["errors"][0]["field"] == "months"


def test_month_arithmetic_keeps_to_the_calendar() -> None:
    t = dt.datetime(2027, 1, 31, 9, tzinfo=dt.UTC)
    assert requests.add_months(t, 1) == dt.datetime(2027, 2, 28, 9, tzinfo=dt.UTC)
    assert requests.add_months(dt.datetime(2026, 12, 15, tzinfo=dt.UTC), 1).month == 1


def _shape(body: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in body.items()
        if k
        not in ("id", "customer_id", "received_at", "due_at", "verified_at", "started_at", "completed_at")
    }


def test_a_request_about_nobody_is_answered_exactly_like_one_about_a_customer(
    now_client: TestClient, now_app: App, tokens: dict[str, str]
) -> None:
    cid = person(now_app, *ANA)
    body = {"type": "erasure", "verification_method": "letter with ID"}
    known = now_client.post(
        "/api/v1/privacy/requests", json={**body, "customer_id": cid}, headers=auth(tokens["admin"])
    )
    unknown = now_client.post(
        "/api/v1/privacy/requests", json={**body, "customer_id": "cus_nobody"}, headers=auth(tokens["admin"])
    )
    assert known.status_code == unknown.status_code == 201
    assert _shape(known.json()) == _shape(unknown.json())
    assert request_row(now_app, unknown.json()["id"]).status == "completed"


def test_an_agents_erasure_waits_for_a_lead_who_approves_it(
    now_client: TestClient, now_app: App, tokens: dict[str, str]
) -> None:
    cid = person(now_app, *ANA)
    r = file(now_client, tokens["agent"], type="erasure", customer_id=cid, verification_method="called back")
    assert r["status"] == "identity_verified" and r["awaiting_approval"] is True
    with now_app.db.read() as s:
        assert customer_360(s, cid, limit=1)["traits"]["name"] == "Ana Lima"  # nothing erased yet
    assert (
        now_client.post(
            f"/api/v1/privacy/requests/{r['id']}/approve", headers=auth(tokens["agent"])
        ).status_code
        == 403
    )
    ok = now_client.post(f"/api/v1/privacy/requests/{r['id']}/approve", headers=auth(tokens["supervisor"]))
    assert ok.status_code == 200 and ok.json()["status"] == "completed"
    with now_app.db.read() as s:
        assert customer_360(s, cid, limit=1)["traits"] == {}


def test_the_open_list_shows_time_left_soonest_first_and_denied_ones_leave_it(
    client: TestClient, tokens: dict[str, str]
) -> None:
    a = file(client, tokens["admin"], type="access", customer_id="cus_a")
    b = file(client, tokens["admin"], type="restriction", customer_id="cus_b")
    d = client.post(
        f"/api/v1/privacy/requests/{a['id']}/deny",
        json={"reason": "not the customer"},
        headers=auth(tokens["admin"]),
    )
    assert (
        d.status_code == 200
        and d.json()["status"] == "denied"
        and d.json()["denied_reason"] == "not the customer"
    )
    listed = client.get("/api/v1/privacy/requests?status=open", headers=auth(tokens["supervisor"])).json()
    assert [i["id"] for i in listed["items"]] == [b["id"]] and listed["items"][0]["days_left"] >= 28
    denied = client.get("/api/v1/privacy/requests?status=denied", headers=auth(tokens["admin"])).json()
    assert [i["id"] for i in denied["items"]] == [a["id"]]
    assert client.get("/api/v1/privacy/requests", headers=auth(tokens["agent"])).status_code == 403


def test_bad_requests_are_refused_naming_the_field(client: TestClient, tokens: dict[str, str]) -> None:
    h = auth(tokens["admin"])
    for body, field in (
        ({"type": "forget", "customer_id": "cus_a"}, "type"),
        ({"type": "access"}, "customer_id"),
        ({"type": "access", "customer_id": "cus a;"}, "customer_id"),
        ({"type": "access", "customer_id": "cus_a", "changes": {"name": "x"}}, "changes"),
        ({"type": "rectification", "customer_id": "cus_a"}, "changes"),
        ({"type": "rectification", "customer_id": "cus_a", "changes": {"nope": 1}}, "changes.nope"),
        ({"type": "access", "customer_id": "cus_a", "colour": "red"}, "colour"),
    ):
        r = client.post("/api/v1/privacy/requests", json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["field"] == field, (body, r.json())
    assert client.get("/api/v1/privacy/requests/dsr_nothing", headers=h).status_code == 404


def test_rectification_sets_the_traits_it_names(
    now_client: TestClient, now_app: App, tokens: dict[str, str]
) -> None:
    cid = person(now_app, *ANA)
    r = file(
        now_client,
        tokens["agent"],
        type="rectification",
        customer_id=cid,
        verification_method="email from the address on file",
        changes={"name": "Ana Lima Souza"},
    )
    assert request_row(now_app, r["id"]).status == "completed"
    with now_app.db.read() as s:
        assert customer_360(s, cid, limit=1)["traits"]["name"] == "Ana Lima Souza"


def test_restriction_withdraws_every_purpose_but_service(
    now_client: TestClient, now_app: App, tokens: dict[str, str]
) -> None:
    from amity.consent import queries as consent

    cid = person(now_app, *ANA)
    r = file(now_client, tokens["admin"], type="restriction", customer_id=cid, verification_method="in store")
    assert request_row(now_app, r["id"]).status == "completed"
    with now_app.db.read() as s:
        state = {e["purpose"]: e["status"] for e in consent.current_state(s, cid)}
    assert "service" not in state and state and set(state.values()) == {"withdrawn"}
    assert "marketing" in state


def test_a_request_runs_once_however_often_its_job_runs(
    app: App, client: TestClient, tokens: dict[str, str]
) -> None:
    cid = person(app, *ANA)
    r = file(client, tokens["admin"], type="access", customer_id=cid, verification_method="in store")
    assert request_row(app, r["id"]).status == "identity_verified"  # no worker in this app: it waits
    assert runner.due(app, dt.datetime.now(dt.UTC)) == [r["id"]]
    assert runner.run(app, r["id"]) == "completed"
    assert runner.run(app, r["id"]) == "skipped"
    assert runner.due(app, dt.datetime.now(dt.UTC)) == []


def test_an_export_past_its_download_period_is_gone(
    now_client: TestClient, now_app: App, tokens: dict[str, str]
) -> None:
    cid = person(now_app, *ANA)
    r = file(now_client, tokens["admin"], type="access", customer_id=cid, verification_method="in store")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=8)
    from amity.privacy import retention

    assert retention.run(now_app, later)["exports"] == 1
    got = now_client.get(f"/api/v1/privacy/requests/{r['id']}", headers=auth(tokens["admin"])).json()
    assert got["download_url"] is None
    gone = now_client.get(f"/api/v1/privacy/requests/{r['id']}/export", headers=auth(tokens["admin"]))
    assert gone.status_code == 410
    assert not list((now_app.settings.home / "privacy" / "exports").glob("*.zip"))


def test_filing_is_an_action_with_its_audit_row(app: App) -> None:
    from amity.core.actions import Actor

    agent = Actor("user", "usr_1", "agent", "Bo")
    body = RequestIn(type="access", customer_id="cus_q", verification_method="phone call")
    r = perform(app, agent, requests.file_request, body, dt.datetime.now(dt.UTC))
    [row] = _audit(app, r.id)
    assert row.actor == "user:usr_1" and row.details["verified_by"] == "user:usr_1"


def test_the_workers_sweep_runs_a_verified_request_whose_job_was_lost(
    app: App, client: TestClient, tokens: dict[str, str]
) -> None:
    from amity.privacy.wiring import jobs_of

    cid = person(app, *ANA)
    r = file(client, tokens["admin"], type="access", customer_id=cid, verification_method="in store")
    assert request_row(app, r["id"]).status == "identity_verified"  # queued, but no consumer runs here
    assert jobs_of(app).sweep() == 1
    assert request_row(app, r["id"]).status == "completed"
    assert jobs_of(app).sweep() == 0
