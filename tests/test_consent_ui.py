"""Consent pages over plain HTTP: the history page and its form (CSRF, roles, refusals), the admin
page of purposes, and the card beside a conversation."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.consent.models import ConsentRecord, Purpose
from amity.core.actions import App
from tests.helpers import ev, one
from tests.test_ui_console import signed_in


def records(app: App) -> list[ConsentRecord]:
    with app.db.read() as s:
        return list(s.scalars(select(ConsentRecord)))


def test_an_agent_records_a_consent_change_on_the_history_page(client: TestClient, app: App) -> None:
    cid = one(app, ev("order.placed", "email:ana@example.com", traits={"name": "Ana Silva"}))
    browser, token, user_id = signed_in(client, app, "agent")
    page = browser.get(f"/customers/{cid}/consents")
    assert page.status_code == 200 and "Ana Silva" in page.text and "No consent recorded yet" in page.text
    form = {"purpose": "marketing", "channel": "whatsapp", "status": "denied", "lawful_basis": "consent"}
    r = browser.post(f"/customers/{cid}/consents", data={**form, "csrf": token}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"/customers/{cid}/consents?notice=recorded")
    [row] = records(app)
    assert (row.purpose, row.channel, row.status, row.source, row.recorded_by) == (
        "marketing",
        "whatsapp",
        "denied",
        "agent",
        f"user:{user_id}",
    )
    shown = browser.get(f"/customers/{cid}/consents?notice=recorded").text
    assert "Recorded." in shown and "whatsapp" in shown and "denied" in shown


def test_the_form_refuses_forged_posts_bad_bases_and_unknown_customers(client: TestClient, app: App) -> None:
    cid = one(app, ev("order.placed", "email:ana@example.com"))
    browser, token, _ = signed_in(client, app, "agent")
    form = {"purpose": "marketing", "status": "granted", "lawful_basis": "consent"}
    forged = browser.post(f"/customers/{cid}/consents", data={**form, "csrf": "nope"})
    assert forged.status_code == 403
    wrong = {**form, "purpose": "partner_sharing", "lawful_basis": "contract", "csrf": token}
    r = browser.post(f"/customers/{cid}/consents", data=wrong)
    assert r.status_code == 422 and "not a lawful basis for partner_sharing" in r.text
    r = browser.post(f"/customers/{cid}/consents", data={**form, "status": "", "csrf": token})
    assert r.status_code == 422 and "Choose granted, withdrawn or denied." in r.text
    r = browser.post("/customers/cus_nobody/consents", data={**form, "csrf": token})
    assert r.status_code == 404
    assert browser.get("/customers/cus_nobody/consents").status_code == 404
    assert records(app) == []
    stranger = TestClient(client.app).get(f"/customers/{cid}/consents", follow_redirects=False)
    assert stranger.status_code == 303 and stranger.headers["location"].startswith("/login")


def test_admins_add_purposes_on_the_admin_page_and_agents_may_not(client: TestClient, app: App) -> None:
    admin, token, _ = signed_in(client, app, "admin")
    page = admin.get("/admin/consent-purposes")
    assert page.status_code == 200
    for name in ("Marketing", "Sharing with partners", "built in"):
        assert name in page.text
    assert "/admin/consent-purposes" in admin.get("/admin").text
    form = {
        "key": "loyalty_offers",
        "name": "Loyalty offers",
        "description": "Points and member prices",
        "lawful_bases": ["consent", "legitimate_interest"],
        "default_basis": "",
        "csrf": token,
    }
    r = admin.post("/admin/consent-purposes", data=form, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/admin/consent-purposes?notice=added")
    with app.db.read() as s:
        row = s.get(Purpose, "loyalty_offers")
    assert (
        row is not None
        and row.lawful_bases == ["consent", "legitimate_interest"]
        and row.default_basis is None
    )
    again = admin.post("/admin/consent-purposes", data=form)
    assert again.status_code == 409 and "already exists" in again.text
    bad = admin.post("/admin/consent-purposes", data={**form, "key": "Bad Key!"})
    assert bad.status_code == 422
    agent, agent_token, _ = signed_in(client, app, "agent")
    assert agent.get("/admin/consent-purposes").status_code == 403
    assert (
        agent.post("/admin/consent-purposes", data={**form, "key": "sneaky", "csrf": agent_token}).status_code
        == 403
    )
    with app.db.read() as s:
        assert s.get(Purpose, "sneaky") is None
