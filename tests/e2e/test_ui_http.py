"""The web UI's guards, checked over plain HTTP (no browser needed; runs on SQLite and PostgreSQL):
sign-in redirects, CSRF on every form, no account probing, no open redirect, escaping, headers."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.accounts.actions import create_user
from amity.core.actions import SYSTEM, App, perform
from amity.customers.models import Merge, TraitDefinition
from tests.helpers import ev, one

PASSWORD = "correct-horse-battery"


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: TestClient, app: App, role: str) -> str:
    """Signs in through the form; returns the session's CSRF token."""
    email = f"{role}@example.org"
    perform(app, SYSTEM, create_user, email, PASSWORD, role)
    form = client.get("/login")
    r = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf": csrf(form.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/inbox", r.text
    return csrf(client.get("/inbox").text)


def merged_pair(app: App) -> tuple[str, str]:
    a = one(app, ev("order.placed", "email:ana@example.com", traits={"name": "Ana"}))
    one(app, ev("call.ended", "phone:+447911123456"))
    one(app, ev("x", "email:ana@example.com", "phone:+447911123456", id="bridge"))
    with app.db.read() as s:
        return a, s.scalars(select(Merge.id)).one()


def test_every_page_sends_a_stranger_to_sign_in(client: TestClient) -> None:
    for path, target in [
        ("/", "/login"),
        ("/customers", "/login?next=/customers"),
        ("/customers/cus_x?cursor=abc", "/login?next=/customers/cus_x%3Fcursor%3Dabc"),
        ("/traits", "/login?next=/traits"),
    ]:
        r = client.get(path, follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, target), path
    r = client.post("/merges/mrg_x/undo", data={"csrf": "x"}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/login")


def test_the_login_form_only_accepts_posts_carrying_its_own_token(client: TestClient, app: App) -> None:
    perform(app, SYSTEM, create_user, "agent@example.org", PASSWORD, "agent")
    # A cross-site page can post the fields, but not the token bound to the visitor's login cookie.
    r = client.post("/login", data={"email": "agent@example.org", "password": PASSWORD, "csrf": "forged"})
    assert r.status_code == 400 and "sign-in form expired" in r.text
    assert "amity_session" not in client.cookies


def test_unknown_email_and_wrong_password_get_the_same_answer(client: TestClient, app: App) -> None:
    perform(app, SYSTEM, create_user, "agent@example.org", PASSWORD, "agent")
    answers = []
    for email, password in [("agent@example.org", "wrong-password"), ("nobody@example.org", PASSWORD)]:
        token = csrf(client.get("/login").text)
        r = client.post("/login", data={"email": email, "password": password, "csrf": token})
        answers.append((r.status_code, re.search(r'role="alert">([^<]+)<', r.text)))
    assert [(s, m.group(1) if m else None) for s, m in answers] == [(401, "Email or password is wrong.")] * 2


def test_after_sign_in_only_local_paths_are_followed(client: TestClient, app: App) -> None:
    perform(app, SYSTEM, create_user, "agent@example.org", PASSWORD, "agent")
    for given, landed in [
        ("//evil.example/x", "/inbox"),
        ("https://evil.example", "/inbox"),
        ("", "/inbox"),
        ("/traits", "/traits"),
    ]:
        client.cookies.clear()
        token = csrf(client.get("/login").text)
        r = client.post(
            "/login",
            data={"email": "agent@example.org", "password": PASSWORD, "csrf": token, "next": given},
            follow_redirects=False,
        )
        assert r.headers["location"] == landed, given


def test_a_form_without_this_sessions_token_changes_nothing(client: TestClient, app: App) -> None:
    customer, merge_id = merged_pair(app)
    token = sign_in(client, app, "supervisor")
    other = TestClient(client.app)
    other_token = sign_in(other, app, "admin")

    for bad in ["", "not-a-token", other_token]:
        r = client.post(f"/merges/{merge_id}/undo", data={"csrf": bad, "back": customer})
        assert r.status_code == 403 and "did not come from Amity" in r.text
    with app.db.read() as s:
        m = s.get(Merge, merge_id)
        assert m is not None and m.undone_at is None

    r = client.post(
        f"/merges/{merge_id}/undo", data={"csrf": token, "back": customer}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].startswith(f"/customers/{customer}?notice=unmerged")


def test_undoing_twice_says_why_on_the_customer_page(client: TestClient, app: App) -> None:
    customer, merge_id = merged_pair(app)
    token = sign_in(client, app, "supervisor")
    client.post(f"/merges/{merge_id}/undo", data={"csrf": token, "back": customer})
    r = client.post(f"/merges/{merge_id}/undo", data={"csrf": token, "back": customer})
    assert r.status_code == 409
    assert f"Could not undo the merge: merge {merge_id} was already undone" in r.text


def test_customer_data_is_escaped(client: TestClient, app: App) -> None:
    cid = one(
        app,
        ev(
            "order.placed",
            "email:mallory@example.com",
            traits={"name": "<script>alert(1)</script>"},
            properties={"note": '<img src=x onerror="alert(2)">'},
        ),
    )
    sign_in(client, app, "agent")
    r = client.get(f"/customers/{cid}")
    assert r.status_code == 200
    assert "<script>alert(1)" not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "<img src=x" not in r.text and "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in r.text
    r = client.get("/customers", params={"q": "<b>bold</b>"})
    assert "<b>bold</b>" not in r.text and "&lt;b&gt;bold&lt;/b&gt;" in r.text


def test_pages_forbid_framing_and_foreign_scripts(client: TestClient, app: App) -> None:
    sign_in(client, app, "agent")
    r = client.get("/customers")
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"
    assert client.get("/static/amity.css").status_code == 200


def test_unknown_customers_and_bad_lookups_are_answered_on_the_page(client: TestClient, app: App) -> None:
    sign_in(client, app, "agent")
    r = client.get("/customers/cus_nobody")
    assert r.status_code == 404 and "There is no customer with id cus_nobody" in r.text
    r = client.get("/customers", params={"identity": "email"})
    assert r.status_code == 422 and 'id="identity-error"' in r.text and "expected TYPE:VALUE" in r.text
    cid = one(app, ev("x", "email:ana@example.com"))
    r = client.get(f"/customers/{cid}", params={"cursor": "garbage"})
    assert r.status_code == 422 and "Could not page the timeline" in r.text


def test_only_admins_declare_traits(client: TestClient, app: App) -> None:
    token = sign_in(client, app, "agent")
    assert "Declare a trait" not in client.get("/traits").text
    r = client.post(
        "/traits", data={"csrf": token, "name": "shoe_size", "type": "number", "purpose": "service"}
    )
    assert r.status_code == 403
    with app.db.read() as s:
        assert s.get(TraitDefinition, "shoe_size") is None


def test_a_declared_trait_keeps_every_field_from_the_form(client: TestClient, app: App) -> None:
    token = sign_in(client, app, "admin")
    r = client.post(
        "/traits",
        data={
            "csrf": token,
            "name": "shoe_size",
            "type": "enum",
            "pii": "on",
            "purpose": "service",
            "retention_days": "365",
            "description": "EU sizes",
            "enum_values": "36, 37\n38",
        },
        follow_redirects=False,
    )
    assert (r.status_code, r.headers["location"]) == (303, "/traits?declared=shoe_size")
    with app.db.read() as s:
        t = s.get(TraitDefinition, "shoe_size")
        assert t is not None
        assert (t.type, t.pii, t.purpose, t.retention_days, t.description, t.enum_values) == (
            "enum",
            True,
            "service",
            365,
            "EU sizes",
            ["36", "37", "38"],
        )
    r = client.post("/traits", data={"csrf": token, "name": "size2", "purpose": "", "retention_days": "soon"})
    assert r.status_code == 422
    assert 'id="retention_days-error"' in r.text and "A whole number of days" in r.text


def test_trait_history_lists_every_value_newest_first_and_filters_by_name(
    client: TestClient, app: App
) -> None:
    cid = one(
        app,
        ev(
            "x", "email:ana@example.com", traits={"language": "en"}, timestamp="2026-01-01T00:00:00Z", id="e1"
        ),
    )
    one(
        app,
        ev(
            "x",
            "email:ana@example.com",
            traits={"language": "pt", "name": "Ana"},
            timestamp="2026-02-01T00:00:00Z",
            id="e2",
        ),
    )
    sign_in(client, app, "agent")
    r = client.get(f"/customers/{cid}/traits")
    assert r.status_code == 200
    rows = re.findall(
        r"<tr>\s*<td><code>(\w+)</code></td>\s*<td>([^<]+)</td>.*?<td class=\"mono small\">([^<]+)</td>",
        r.text,
        re.S,
    )
    assert sorted(rows[:2]) == [("language", "pt", "e2"), ("name", "Ana", "e2")] and rows[2] == (
        "language",
        "en",
        "e1",
    )
    r = client.get(f"/customers/{cid}/traits", params={"name": "name"})
    assert "<code>language</code>" not in r.text and "<code>name</code>" in r.text
