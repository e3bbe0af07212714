"""Disabling a person (admin page and API): no sign-in, and their sessions and the API tokens they
made stop working at once; enabling them again restores sign-in and tokens."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.accounts.actions import create_token
from amity.accounts.models import User
from amity.core.actions import Actor, App, perform
from amity.privacy.models import AuditEntry
from tests.conftest import auth
from tests.test_cli import _env, _run
from tests.test_ui_console import PASSWORD, signed_in


def test_a_disabled_person_is_signed_out_everywhere_and_their_tokens_stop(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    web, _, user_id = signed_in(client, app, "supervisor")
    api = TestClient(client.app)
    assert api.post(
        "/api/v1/session", json={"email": "supervisor@example.org", "password": PASSWORD}
    ).is_success
    made = perform(
        app, Actor(kind="user", id=user_id, role="supervisor"), create_token, "their script", "agent"
    )
    assert client.get("/api/v1/me", headers=auth(made)).status_code == 200

    assert (
        client.post(f"/api/v1/users/{user_id}/disable", headers=auth(tokens["supervisor"])).status_code == 403
    )
    r = client.post(f"/api/v1/users/{user_id}/disable", headers=auth(tokens["admin"]))
    assert r.status_code == 200, r.text
    assert r.json()["disabled_at"] is not None

    assert web.get("/inbox", follow_redirects=False).headers["location"].startswith("/login")
    assert api.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers=auth(made)).status_code == 401
    again = client.post("/api/v1/session", json={"email": "supervisor@example.org", "password": PASSWORD})
    assert again.status_code == 401 and again.json()["message"] == "email or password is wrong"

    r = client.post(f"/api/v1/users/{user_id}/enable", headers=auth(tokens["admin"]))
    assert r.status_code == 200 and r.json()["disabled_at"] is None
    assert client.get("/api/v1/me", headers=auth(made)).status_code == 200
    # The sessions from before stay ended: enabling is not undoing the sign-out.
    assert api.get("/api/v1/me").status_code == 401
    assert client.post(
        "/api/v1/session", json={"email": "supervisor@example.org", "password": PASSWORD}
    ).is_success
    with app.db.read() as s:
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == user_id)))
    assert actions.count("user.disabled") == 1 and actions.count("user.enabled") == 1


def test_the_admin_page_disables_and_enables_with_buttons_and_nobody_disables_themselves(
    client: TestClient, app: App
) -> None:
    agent, _, agent_id = signed_in(client, app, "agent")
    admin, token, admin_id = signed_in(client, app, "admin")
    page = admin.get(f"/admin/people/{agent_id}")
    assert f"/admin/people/{agent_id}/disable" in page.text
    r = admin.post(f"/admin/people/{agent_id}/disable", data={"csrf": token}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"/admin/people/{agent_id}?notice=disabled")
    shown = admin.get(r.headers["location"])
    assert "signed out everywhere" in shown.text and f"/admin/people/{agent_id}/enable" in shown.text
    assert agent.get("/inbox", follow_redirects=False).status_code == 303
    with app.db.read() as s:
        user = s.get(User, agent_id)
        assert user is not None and user.disabled_at is not None

    forged = admin.post(f"/admin/people/{agent_id}/enable", data={"csrf": "forged"})
    assert forged.status_code == 403
    ok = admin.post(f"/admin/people/{agent_id}/enable", data={"csrf": token}, follow_redirects=False)
    assert ok.status_code == 303
    unknown = admin.post(f"/admin/people/{agent_id}/explode", data={"csrf": token})
    assert unknown.status_code == 404

    me = admin.post(f"/admin/people/{admin_id}/disable", data={"csrf": token})
    assert me.status_code == 409 and "cannot disable yourself" in me.text
    with app.db.read() as s:
        user = s.get(User, admin_id)
        assert user is not None and user.disabled_at is None


def test_amity_user_disable_signs_a_person_out(client: TestClient, app: App, tmp_path: Path) -> None:
    web, _, user_id = signed_in(client, app, "agent")
    r = _run(["user", "disable", "--email", "agent@example.org"], _env(tmp_path, app.db.url))
    assert r.returncode == 0, r.stderr
    assert f"disabled agent@example.org ({user_id})" in r.stdout
    assert web.get("/inbox", follow_redirects=False).headers["location"].startswith("/login")
    unknown = _run(["user", "disable", "--email", "nobody@example.org"], _env(tmp_path, app.db.url))
    assert unknown.returncode == 2 and "nobody signs in as" in unknown.stdout
