"""Optional TOTP two-factor sign-in: enrolment on the account page, the code after the password on
the web form and on POST /api/v1/session, recovery codes, no replays, and an admin reset."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.accounts import throttle
from amity.accounts.models import RecoveryCode, UserTotp
from amity.core.actions import App
from amity.privacy.models import AuditEntry
from tests.conftest import auth
from tests.test_ui_console import PASSWORD, csrf, signed_in


@pytest.fixture(autouse=True)
def _not_at_a_step_boundary() -> None:
    """Codes are for 30-second steps, one either side accepted: start early in a step so the few
    seconds a test takes never straddle two boundaries."""
    left = 30 - time.time() % 30
    if left < 10:
        time.sleep(left + 0.2)


def _code(secret: str, steps: int = 0) -> str:
    return str(pyotp.TOTP(secret).at(time.time() + 30 * steps))


def _enrol(client: TestClient, app: App, role: str = "agent") -> tuple[TestClient, str, str, list[str]]:
    """Sign in, turn two-factor on through the account page: (browser, user id, secret, recovery codes)."""
    browser, token, user_id = signed_in(client, app, role)
    token = csrf(browser.get("/account/security").text)
    page = browser.post("/account/security/totp", data={"csrf": token})
    assert page.status_code == 200, page.text
    secret = re.search(r'<code id="totp-key">([A-Z2-7]+)</code>', page.text)
    assert secret, page.text
    uri = re.search(r'value="(otpauth://[^"]+)"', page.text)
    assert uri and "issuer=Amity" in uri.group(1) and secret.group(1) in uri.group(1)
    wrong = browser.post("/account/security/totp/confirm", data={"csrf": token, "code": "000000"})
    assert wrong.status_code == 422 and "not the one the app shows" in wrong.text
    done = browser.post(
        "/account/security/totp/confirm", data={"csrf": token, "code": _code(secret.group(1), -1)}
    )
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>", done.text)
    assert len(codes) == 10
    return browser, user_id, secret.group(1), codes


def test_enrolling_stores_the_secret_confirmed_and_only_hashes_of_the_recovery_codes(
    client: TestClient, app: App
) -> None:
    _, user_id, secret, codes = _enrol(client, app)
    with app.db.read() as s:
        t = s.get(UserTotp, user_id)
        assert t is not None and t.secret == secret and t.confirmed_at is not None
        stored = [r.code_hash for r in s.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user_id))]
    assert len(stored) == 10 and not set(codes) & set(stored)
    with app.db.read() as s:
        actions = set(s.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == user_id)))
    assert {"user.totp_started", "user.totp_enabled"} <= actions


def test_the_api_asks_for_the_code_after_the_password_and_refuses_a_replay(
    client: TestClient, app: App
) -> None:
    _, _, secret, _ = _enrol(client, app)
    creds = {"email": "agent@example.org", "password": PASSWORD}
    r = client.post("/api/v1/session", json=creds)
    assert r.status_code == 401 and r.json()["error"] == "two_factor_required"
    assert "amity_session" not in r.headers.get("set-cookie", "")
    wrong = client.post("/api/v1/session", json={**creds, "code": "123456"})
    assert wrong.status_code == 401 and wrong.json()["errors"][0]["field"] == "code"
    code = _code(secret)
    ok = client.post("/api/v1/session", json={**creds, "code": code})
    assert ok.status_code == 200, ok.text
    assert client.get("/api/v1/me").json()["name"] == "agent@example.org"
    client.cookies.clear()
    again = client.post("/api/v1/session", json={**creds, "code": code})
    assert again.status_code == 401  # seen once, never again
    # A wrong password never reaches the code step: it says nothing about two-factor.
    bad = client.post("/api/v1/session", json={**creds, "password": "wrong password!", "code": code})
    assert bad.json()["message"] == "email or password is wrong"


def test_the_web_form_asks_for_the_code_and_a_recovery_code_works_once(client: TestClient, app: App) -> None:
    _, _, secret, codes = _enrol(client, app)
    browser = TestClient(client.app)

    def password_step() -> str:
        r = browser.post(
            "/login",
            data={
                "email": "agent@example.org",
                "password": PASSWORD,
                "csrf": csrf(browser.get("/login").text),
            },
        )
        assert r.status_code == 200 and "Two-factor sign-in" in r.text
        assert "amity_session" not in browser.cookies
        return r.text

    page = password_step()
    pending = re.search(r'name="pending" value="([^"]+)"', page)
    assert pending
    wrong = browser.post(
        "/login/code", data={"csrf": csrf(page), "pending": pending.group(1), "code": "000000"}
    )
    assert wrong.status_code == 401 and "That code is wrong" in wrong.text
    ok = browser.post(
        "/login/code",
        data={"csrf": csrf(page), "pending": pending.group(1), "code": codes[0]},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert browser.get("/inbox", follow_redirects=False).status_code == 200

    browser.cookies.clear()
    page = password_step()
    pending = re.search(r'name="pending" value="([^"]+)"', page)
    assert pending
    reused = browser.post(
        "/login/code", data={"csrf": csrf(page), "pending": pending.group(1), "code": codes[0]}
    )
    assert reused.status_code == 401
    forged = browser.post(
        "/login/code", data={"csrf": csrf(page), "pending": "x" + pending.group(1), "code": _code(secret)}
    )
    assert forged.status_code == 400 and "expired" in forged.text


def test_wrong_codes_count_towards_the_lockout(client: TestClient, app: App) -> None:
    _enrol(client, app)
    creds = {"email": "agent@example.org", "password": PASSWORD}
    for _ in range(throttle.ACCOUNT_FREE):
        assert client.post("/api/v1/session", json={**creds, "code": "000000"}).status_code == 401
    assert client.post("/api/v1/session", json={**creds, "code": "000000"}).status_code == 429


def test_an_admin_resets_a_persons_two_factor(client: TestClient, app: App, tokens: dict[str, str]) -> None:
    _, user_id, _, _ = _enrol(client, app)
    assert (
        client.delete(f"/api/v1/users/{user_id}/two-factor", headers=auth(tokens["supervisor"])).status_code
        == 403
    )
    r = client.delete(f"/api/v1/users/{user_id}/two-factor", headers=auth(tokens["admin"]))
    assert r.status_code == 204
    ok = client.post("/api/v1/session", json={"email": "agent@example.org", "password": PASSWORD})
    assert ok.status_code == 200
    with app.db.read() as s:
        assert s.get(UserTotp, user_id) is None
        assert s.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user_id)).first() is None


def test_the_admin_page_resets_two_factor_with_a_button(client: TestClient, app: App) -> None:
    _, user_id, _, _ = _enrol(client, app)
    admin, token, _ = signed_in(client, app, "admin")
    page = admin.get(f"/admin/people/{user_id}")
    assert "two-factor on" in page.text and f"/admin/people/{user_id}/two-factor/reset" in page.text
    r = admin.post(f"/admin/people/{user_id}/two-factor/reset", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    with app.db.read() as s:
        assert s.get(UserTotp, user_id) is None
