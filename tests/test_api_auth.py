"""Who may call what: every API route refuses strangers (401) and the wrong role (403).

The table below is written from docs/api.md, not imported from accounts/roles.py, so a change to the
role matrix that the documentation does not follow fails here. A route added to the app without an
entry in the table fails ``test_every_api_route_is_in_the_auth_table``.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import update

from amity.accounts.actions import create_token, create_user, revoke_token
from amity.accounts.models import User
from amity.core.actions import SYSTEM, App, perform
from amity.db import utcnow
from tests.authz import ALLOWED, PUBLIC, ROLES, SIGNED, SIGNED_IN
from tests.conftest import auth

ROUTES = sorted(ALLOWED)
PATH_VALUES = {
    "{customer_id}": "cus_00000000000000000000000000",
    "{merge_id}": "mrg_00000000000000000000000000",
    "{name}": "name",
}


def _url(path: str) -> str:
    for placeholder, value in PATH_VALUES.items():
        path = path.replace(placeholder, value)
    # Any other id: a well-formed one that names nothing, so the door is tested, not the lookup.
    return re.sub(r"\{[a-z_]+\}", "xxx_00000000000000000000000000", path)


def _call(client: TestClient, route: tuple[str, str], headers: dict[str, str] | None = None) -> Any:
    method, path = route
    body = {} if method in ("POST", "PATCH") else None
    # A live stream would never end: ask for just its opening event.
    params = {"max_seconds": 0} if path.endswith("/stream") else None
    return client.request(method, _url(path), json=body, headers=headers or {}, params=params)


def _route_id(route: tuple[str, str]) -> str:
    return f"{route[0]} {route[1]}"


def _app_routes(client: TestClient) -> set[tuple[str, str]]:
    """Every API operation the app serves: all in the OpenAPI document, and anything under /api/."""
    found = set()
    for r in client.app.routes:  # type: ignore[attr-defined]
        path = getattr(r, "path", "")
        if (isinstance(r, APIRoute) and r.include_in_schema) or path.startswith("/api/"):
            found |= {(m, path) for m in getattr(r, "methods", None) or () if m != "HEAD"}
    for path, ops in client.get("/openapi.json").json()["paths"].items():
        found |= {(m.upper(), path) for m in ops}
    return found


def _assert_unauthorized(r: Any) -> None:
    assert r.status_code == 401, r.text
    body = r.json()
    assert body["error"] == "unauthorized"
    assert body["message"]
    assert r.headers["www-authenticate"].lower().startswith("bearer")


def test_every_api_route_is_in_the_auth_table(client: TestClient) -> None:
    served = _app_routes(client)
    missing = served - set(ALLOWED) - PUBLIC - SIGNED
    assert not missing, f"routes without an entry in ALLOWED (decide who may call them): {sorted(missing)}"
    gone = (set(ALLOWED) | SIGNED) - served
    assert not gone, f"ALLOWED names routes the app no longer serves: {sorted(gone)}"


def test_no_route_outside_the_public_ones_answers_a_stranger(client: TestClient) -> None:
    """Walks the app itself, so a new route without auth fails even before anyone edits ALLOWED."""
    for route in sorted(_app_routes(client) - PUBLIC):
        r = _call(client, route)
        assert r.status_code == 401, f"{_route_id(route)} answered {r.status_code} without credentials"
        assert r.json()["error"] == "unauthorized"


@pytest.mark.parametrize("route", sorted(SIGNED), ids=_route_id)
def test_a_webhook_without_a_valid_signature_is_refused_even_with_an_admin_token(
    client: TestClient, tokens: dict[str, str], route: tuple[str, str]
) -> None:
    """Webhooks authenticate the sender by a signature over the body; a bearer token is no substitute."""
    r = _call(client, route, auth(tokens["admin"]))
    assert r.status_code == 401, f"{_route_id(route)} answered {r.status_code}: {r.text}"
    assert r.json()["error"] == "unauthorized"


# The door tests below walk every route in one test each (one app, one set of tokens) rather than
# one parametrized test per route: building an app per route made this file most of the suite's time.
# Each collects every wrong answer, so a failure still names each route that misbehaves.
def test_a_request_without_credentials_is_refused_with_a_json_401(client: TestClient) -> None:
    wrong = []
    for route in ROUTES:
        r = _call(client, route)
        try:
            _assert_unauthorized(r)
        except AssertionError:
            wrong.append(f"{_route_id(route)}: {r.status_code} {r.text[:120]}")
    assert not wrong, "\n".join(wrong)


BAD_HEADERS = {
    "basic scheme": "Basic YWRtaW46YWRtaW4=",
    "scheme only": "Bearer",
    "blank token": "Bearer    ",
    "other scheme": "Token abc",
    "not an amity token": "Bearer hunter2",
    "unknown token id": "Bearer amity_tok_00000000000000000000000000_c2VjcmV0",
    "token without secret": "Bearer amity_tok_00000000000000000000000000_",
    "truncated token": "Bearer amity_tok_",
}


def test_malformed_unknown_or_revoked_credentials_are_refused(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    revoked = perform(app, SYSTEM, create_token, "old shop connector", "admin")
    perform(app, SYSTEM, revoke_token, revoked[len("amity_") : len("amity_") + 30])
    forged = tokens["admin"][:-4] + ("AAAA" if not tokens["admin"].endswith("AAAA") else "BBBB")
    headers = {
        **BAD_HEADERS,
        "revoked token": f"Bearer {revoked}",
        "right id, wrong secret": f"Bearer {forged}",
    }
    wrong = []
    for route in ROUTES:
        for why, value in headers.items():
            r = _call(client, route, {"Authorization": value})
            try:
                _assert_unauthorized(r)
            except AssertionError:
                wrong.append(f"{_route_id(route)} with {why}: {r.status_code} {r.text[:120]}")
    assert not wrong, "\n".join(wrong)


def test_a_role_without_the_permission_is_forbidden(client: TestClient, tokens: dict[str, str]) -> None:
    wrong = []
    for route in ROUTES:
        allowed = ALLOWED[route]
        for role in sorted(ROLES - allowed if allowed != SIGNED_IN else set()):
            r = _call(client, route, auth(tokens[role]))
            body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
            if not (
                r.status_code == 403 and body.get("error") == "forbidden" and role in body.get("message", "")
            ):
                wrong.append(f"{_route_id(route)} as {role}: {r.status_code} {r.text[:120]}")
    assert not wrong, "\n".join(wrong)


def test_a_role_with_the_permission_gets_past_the_door(client: TestClient, tokens: dict[str, str]) -> None:
    wrong = []
    for route in ROUTES:
        allowed = ROLES if ALLOWED[route] == SIGNED_IN else ALLOWED[route]
        for role in sorted(allowed):
            r = _call(client, route, auth(tokens[role]))
            if r.status_code in (401, 403) or r.status_code >= 500:
                wrong.append(f"{_route_id(route)} as {role}: {r.status_code} {r.text[:120]}")
    assert not wrong, "\n".join(wrong)


# ---- the refusals integrators ask about, with nothing changed behind them -------------------------
EVENT = {"type": "order.placed", "identities": [{"type": "email", "value": "ana@example.com"}]}


def test_an_agent_cannot_post_events_and_nothing_is_stored(
    client: TestClient, tokens: dict[str, str]
) -> None:
    r = client.post("/api/v1/events", json=EVENT, headers=auth(tokens["agent"]))
    assert r.status_code == 403
    found = client.get("/api/v1/customers?identity=email:ana@example.com", headers=auth(tokens["admin"]))
    assert found.json()["items"] == []


def test_an_integration_cannot_merge_customers(client: TestClient, tokens: dict[str, str]) -> None:
    ids = []
    for email in ("ana@example.com", "ana.silva@example.com"):
        r = client.post(
            "/api/v1/events",
            json={**EVENT, "identities": [{"type": "email", "value": email}]},
            headers=auth(tokens["integration"]),
        )
        ids.append(r.json()["results"][0]["customer_id"])
    r = client.post(
        f"/api/v1/customers/{ids[0]}/merge", json={"other_id": ids[1]}, headers=auth(tokens["integration"])
    )
    assert r.status_code == 403
    c360 = client.get(f"/api/v1/customers/{ids[1]}", headers=auth(tokens["agent"])).json()
    assert c360["id"] == ids[1] and c360["merged_profiles"] == [] and c360["merges"] == []


def test_an_agent_cannot_declare_traits(client: TestClient, tokens: dict[str, str]) -> None:
    trait = {"name": "shoe_size", "type": "number", "purpose": "fit advice"}
    r = client.post("/api/v1/traits", json=trait, headers=auth(tokens["agent"]))
    assert r.status_code == 403
    names = {t["name"] for t in client.get("/api/v1/traits", headers=auth(tokens["agent"])).json()}
    assert "shoe_size" not in names


def test_an_agent_cannot_read_the_audit_trail(client: TestClient, tokens: dict[str, str]) -> None:
    assert client.get("/api/v1/audit", headers=auth(tokens["agent"])).status_code == 403
    assert client.get("/api/v1/audit", headers=auth(tokens["supervisor"])).status_code == 200


def test_a_revoked_token_stops_working_at_once(client: TestClient, app: App) -> None:
    token = perform(app, SYSTEM, create_token, "pos terminal", "integration")
    assert client.get("/api/v1/me", headers=auth(token)).status_code == 200
    perform(app, SYSTEM, revoke_token, token[len("amity_") : len("amity_") + 30])
    _assert_unauthorized(client.get("/api/v1/me", headers=auth(token)))


# ---- people: the session cookie -------------------------------------------------------------------
PASSWORD = "correct horse battery staple"


def _person(app: App, email: str = "sam@example.com", role: str = "supervisor") -> str:
    user = perform(app, SYSTEM, create_user, email, PASSWORD, role, "Sam")
    return str(user.id)


def test_a_person_signs_in_and_the_cookie_says_who_they_are(client: TestClient, app: App) -> None:
    user_id = _person(app)
    r = client.post("/api/v1/session", json={"email": "Sam@Example.com", "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json() == {"id": user_id, "email": "sam@example.com", "role": "supervisor"}
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie

    me = client.get("/api/v1/me")
    assert me.status_code == 200, me.text
    assert me.json() == {"kind": "user", "id": user_id, "role": "supervisor", "name": "sam@example.com"}
    # The cookie carries the person's role, no more: a supervisor reads the audit, but ingests nothing.
    assert client.get("/api/v1/audit").status_code == 200
    assert client.post("/api/v1/events", json=EVENT).status_code == 403


def test_signing_out_ends_the_session(client: TestClient, app: App) -> None:
    _person(app)
    client.post("/api/v1/session", json={"email": "sam@example.com", "password": PASSWORD})
    assert client.delete("/api/v1/session").status_code == 200
    _assert_unauthorized(client.get("/api/v1/me"))


def test_a_wrong_password_and_an_unknown_email_get_the_same_401(client: TestClient, app: App) -> None:
    _person(app)
    wrong = client.post("/api/v1/session", json={"email": "sam@example.com", "password": "not it at all"})
    unknown = client.post("/api/v1/session", json={"email": "kim@example.com", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["message"] == "email or password is wrong"
    assert "amity_session" not in wrong.headers.get("set-cookie", "")
    _assert_unauthorized(client.get("/api/v1/me"))


def test_a_wrong_password_and_an_unknown_email_take_about_as_long(client: TestClient, app: App) -> None:
    """Otherwise the response time says which emails have accounts (the web UI checks a decoy hash)."""
    _person(app)

    def fastest(email: str) -> float:
        times = []
        for _ in range(4):
            started = time.perf_counter()
            r = client.post("/api/v1/session", json={"email": email, "password": "not it at all"})
            times.append(time.perf_counter() - started)
            assert r.status_code == 401
        return min(times)

    known, unknown = fastest("sam@example.com"), fastest("kim@example.com")
    assert unknown > known / 4, f"unknown email {unknown * 1000:.1f} ms, wrong password {known * 1000:.1f} ms"


def test_a_disabled_person_can_neither_sign_in_nor_keep_using_their_session(
    client: TestClient, app: App
) -> None:
    user_id = _person(app)
    assert client.post("/api/v1/session", json={"email": "sam@example.com", "password": PASSWORD}).is_success
    with app.db.write_session() as s, s.begin():
        s.execute(update(User).where(User.id == user_id).values(disabled_at=utcnow()))
    _assert_unauthorized(client.get("/api/v1/me"))
    r = client.post("/api/v1/session", json={"email": "sam@example.com", "password": PASSWORD})
    assert r.status_code == 401


def test_a_tampered_session_cookie_is_refused(client: TestClient, app: App) -> None:
    _person(app)
    client.post("/api/v1/session", json={"email": "sam@example.com", "password": PASSWORD})
    cookie = client.cookies["amity_session"]
    client.cookies.clear()
    client.cookies.set("amity_session", cookie[:-2] + ("xx" if not cookie.endswith("xx") else "yy"))
    _assert_unauthorized(client.get("/api/v1/me"))
