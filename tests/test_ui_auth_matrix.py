"""Every page and form of the web UI x {admin, supervisor, agent, an API token, nobody}, generated
from the app's route table and the tables in ``tests/authz/ui_*.py`` (one per capability; see
tests/authz/ui_core.py). A UI route in no table fails ``test_every_ui_route_is_in_a_table``.

Brands do not restrict what an agent may open (src/amity/service: a brand is a name, signature and
colours), so there is no other-brand persona; when they do, it belongs here.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

import tests.authz
from amity.core.actions import App
from tests.authz import SIGNED_IN
from tests.conftest import auth
from tests.test_ui_console import csrf, signed_in

UI_ALLOWED: dict[tuple[str, str], frozenset[str]] = {}
UI_PUBLIC: set[tuple[str, str]] = set()
UI_NO_CSRF: dict[tuple[str, str], str] = {}
for _info in pkgutil.iter_modules(tests.authz.__path__):
    if _info.name.startswith("ui_"):
        _mod = importlib.import_module(f"tests.authz.{_info.name}")
        for _route, _roles in getattr(_mod, "UI_ALLOWED", {}).items():
            assert _route not in UI_ALLOWED, f"{_route} is in two UI tables"
            UI_ALLOWED[_route] = _roles
        UI_PUBLIC |= set(getattr(_mod, "UI_PUBLIC", set()))
        UI_NO_CSRF.update(getattr(_mod, "UI_NO_CSRF", {}))

PEOPLE = ("admin", "supervisor", "agent")
# Not pages: the API and webhooks (tests/test_api_auth.py), docs, static files, the health probe.
NOT_UI = ("/api/", "/hooks/", "/static", "/docs", "/redoc", "/openapi.json", "/healthz")
LAST = ("POST", "/logout")  # it ends the session the other requests ride on


def ui_routes(client: TestClient) -> set[tuple[str, str]]:
    found = set()
    for rc in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        path = rc.path or ""
        if not path or path.startswith(NOT_UI):
            continue
        found |= {(m, path) for m in (rc.methods or ()) if m != "HEAD"}
    return found


def url(path: str) -> str:
    # A well-formed id that names nothing: the door is tested, not the lookup.
    return re.sub(r"\{[a-z_]+\}", "xxx_00000000000000000000000000", path)


def call(browser: TestClient, route: tuple[str, str], token: str | None = None, **kw: Any) -> Any:
    method, path = route
    data = {"csrf": token} if token is not None else {}
    return browser.request(
        method, url(path), data=data if method == "POST" else None, follow_redirects=False, **kw
    )


def _to_login(r: Any) -> bool:
    return r.status_code == 303 and r.headers.get("location", "").startswith("/login")


def test_every_ui_route_is_in_a_table(client: TestClient) -> None:
    served = ui_routes(client)
    missing = served - set(UI_ALLOWED) - UI_PUBLIC
    assert not missing, "UI routes in no tests/authz/ui_*.py table (decide who may open them): " + repr(
        sorted(missing)
    )
    gone = (set(UI_ALLOWED) | UI_PUBLIC) - served
    assert not gone, f"UI tables name routes the app no longer serves: {sorted(gone)}"


def test_nobody_signed_in_is_sent_to_login_and_an_api_token_opens_no_page(
    client: TestClient, tokens: dict[str, str]
) -> None:
    wrong = []
    for route in sorted(ui_routes(client) & set(UI_ALLOWED)):
        for who, headers in (("nobody", {}), ("admin token", auth(tokens["admin"]))):
            r = call(client, route, headers=headers)
            expected = "/login?next=" if route[0] == "GET" else "/login"
            if not (_to_login(r) and r.headers["location"].startswith(expected)):
                wrong.append(f"{who}: {route} answered {r.status_code} {r.headers.get('location', '')}")
    assert not wrong, "\n".join(wrong)


def test_public_routes_answer_without_a_session(client: TestClient) -> None:
    wrong = []
    for route in sorted(UI_PUBLIC & ui_routes(client)):
        r = call(client, route)
        if r.status_code >= 500 or (_to_login(r) and "next=" in r.headers["location"]):
            wrong.append(f"{route} answered {r.status_code} {r.headers.get('location', '')}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", PEOPLE)
def test_each_role_opens_what_it_may_and_gets_the_403_page_elsewhere(
    client: TestClient, app: App, role: str
) -> None:
    browser, token, _ = signed_in(client, app, role)
    token = csrf(browser.get("/account/security").text)
    wrong = []
    # Routes in no table fail test_every_ui_route_is_in_a_table; here only the tables are checked.
    routes = sorted(ui_routes(client) & set(UI_ALLOWED), key=lambda r: (r == LAST, r))
    for route in routes:
        allowed = UI_ALLOWED.get(route, frozenset())
        may = allowed == SIGNED_IN or role in allowed
        r = call(browser, route, token)
        if may:
            if r.status_code in (401, 403) or r.status_code >= 500 or (route != LAST and _to_login(r)):
                wrong.append(f"{route}: {role} may, but got {r.status_code} {r.headers.get('location', '')}")
        elif r.status_code != 403 or "Not allowed" not in r.text:
            wrong.append(f"{route}: {role} may not, but got {r.status_code}")
    assert not wrong, "\n".join(wrong)


def test_every_ui_form_refuses_a_post_without_this_sessions_csrf_token(client: TestClient, app: App) -> None:
    """Generated from the route table: a forged form (no token, or another session's) changes nothing."""
    admin, _, _ = signed_in(client, app, "admin")
    other, _, _ = signed_in(client, app, "supervisor")
    foreign = csrf(other.get("/account/security").text)
    wrong = []
    listed = set(UI_ALLOWED) | UI_PUBLIC
    posts = sorted(r for r in ui_routes(client) & listed if r[0] == "POST" and r not in UI_NO_CSRF)
    for route in sorted(posts, key=lambda r: (r == LAST, r)):
        for label, token in (("no token", None), ("another session's token", foreign)):
            r = call(admin, route, token)
            if route in UI_PUBLIC:
                # refused before anything else is looked at; 410: a customer's page whose own session
                # (the preference centre's magic link) is missing, so there is nothing to act for
                ok = r.status_code in (400, 403, 410)
            else:
                ok = r.status_code == 403 and "did not come from Amity" in r.text
            if not ok:
                wrong.append(f"{route} with {label}: {r.status_code}")
    assert not wrong, "\n".join(wrong)
    assert admin.get("/inbox", follow_redirects=False).status_code == 200  # /logout refused too
