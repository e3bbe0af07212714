"""API token scopes: a subset of the role's permissions chosen at creation (API, admin page, CLI),
enforced on every route; and the last time each token was used."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.accounts.models import ApiToken
from amity.core.actions import App
from tests.conftest import auth
from tests.test_cli import _env, _run
from tests.test_ui_console import signed_in

EVENT = {"type": "order.placed", "identities": [{"type": "email", "value": "ana@example.com"}]}


def _make(client: TestClient, admin: str, **body: object) -> dict[str, object]:
    r = client.post(
        "/api/v1/tokens", json={"name": "shop", "role": "integration", **body}, headers=auth(admin)
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_scoped_token_may_only_do_what_its_scopes_name(client: TestClient, tokens: dict[str, str]) -> None:
    made = _make(client, tokens["admin"], scopes=["events:write"])
    assert made["scopes"] == ["events:write"]
    token = str(made["token"])
    r = client.post("/api/v1/events", json=EVENT, headers=auth(token))
    assert r.status_code in (200, 201, 202), r.text
    customer = r.json()["results"][0]["customer_id"]
    refused = client.get(f"/api/v1/customers/{customer}", headers=auth(token))
    assert refused.status_code == 403
    assert refused.json()["message"] == "this token's scopes do not include customers:read"
    # The same role without scopes reads customers.
    assert client.get(f"/api/v1/customers/{customer}", headers=auth(tokens["integration"])).status_code == 200


def test_scopes_must_be_known_and_within_the_role(client: TestClient, tokens: dict[str, str]) -> None:
    for scopes, says in (
        (["traits:write"], "role 'integration' does not have 'traits:write'"),
        (["everything"], "unknown scope 'everything'"),
        ([" "], "name at least one scope"),
    ):
        r = client.post(
            "/api/v1/tokens",
            json={"name": "shop", "role": "integration", "scopes": scopes},
            headers=auth(tokens["admin"]),
        )
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "scopes" and says in r.json()["message"]


def test_a_scoped_token_cannot_mint_a_token_that_does_more(
    client: TestClient, tokens: dict[str, str]
) -> None:
    manager = str(_make(client, tokens["admin"], role="admin", scopes=["accounts:manage"])["token"])
    wider = client.post("/api/v1/tokens", json={"name": "x", "role": "admin"}, headers=auth(manager))
    assert wider.status_code == 422 and wider.json()["errors"][0]["field"] == "scopes"
    same = client.post(
        "/api/v1/tokens",
        json={"name": "x", "role": "admin", "scopes": ["accounts:manage"]},
        headers=auth(manager),
    )
    assert same.status_code == 201


def test_tokens_are_listed_without_secrets_and_revoked_through_the_api(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    made = _make(client, tokens["admin"])
    token = str(made["token"])
    assert made["last_used_at"] is None
    assert client.get("/api/v1/me", headers=auth(token)).status_code == 200
    listed = client.get("/api/v1/tokens", headers=auth(tokens["admin"])).json()["items"]
    mine = next(t for t in listed if t["id"] == made["id"])
    assert mine["last_used_at"] is not None and "token" not in mine and mine["scopes"] is None
    assert token.split("_")[-1] not in str(listed)
    assert client.delete(f"/api/v1/tokens/{made['id']}", headers=auth(tokens["admin"])).status_code == 204
    assert client.get("/api/v1/me", headers=auth(token)).status_code == 401


def test_the_admin_page_creates_a_scoped_token(client: TestClient, app: App) -> None:
    admin, csrf, _ = signed_in(client, app, "admin")
    r = admin.post(
        "/admin/tokens",
        data={
            "csrf": csrf,
            "name": "pos",
            "role": "integration",
            "scopes": ["events:write", "customers:read"],
        },
    )
    assert r.status_code == 201, r.text
    with app.db.read() as s:
        row = s.scalars(select(ApiToken).where(ApiToken.name == "pos")).one()
    assert row.scopes == ["customers:read", "events:write"]
    assert "customers:read, events:write" in admin.get("/admin/tokens").text
    bad = admin.post(
        "/admin/tokens",
        data={"csrf": csrf, "name": "pos2", "role": "integration", "scopes": ["traits:write"]},
    )
    assert bad.status_code == 422 and "does not have" in bad.text


def test_amity_token_create_takes_scopes(app: App, tmp_path: Path) -> None:
    r = _run(
        ["token", "create", "--name", "shop", "--role", "integration", "--scope", "events:write"],
        _env(tmp_path, app.db.url),
    )
    assert r.returncode == 0, r.stderr
    with app.db.read() as s:
        row = s.scalars(select(ApiToken)).one()
    assert row.scopes == ["events:write"]


def test_a_scoped_token_decides_approvals_only_if_its_scopes_say_so(
    client: TestClient, tokens: dict[str, str]
) -> None:
    # Deciding approvals has its own door (a tier may approve too); scopes must hold there as well.
    narrow = str(_make(client, tokens["admin"], role="admin", scopes=["customers:read"])["token"])
    wide = str(_make(client, tokens["admin"], role="admin", scopes=["approvals:decide"])["token"])
    url = "/api/v1/approvals/apr_00000000000000000000000000/decide"
    refused = client.post(url, json={"decision": "approved"}, headers=auth(narrow))
    assert refused.status_code == 403
    assert refused.json()["message"] == "this token's scopes do not include approvals:decide"
    assert client.post(url, json={"decision": "approved"}, headers=auth(wide)).status_code == 404  # let in
