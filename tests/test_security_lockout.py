"""Sign-in throttling: per account and per address, exponential backoff, stored in the database, the
same answer whether or not the account exists, and every step audited."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from amity.accounts import throttle
from amity.accounts.actions import create_user
from amity.accounts.models import LoginThrottle
from amity.config import Settings
from amity.core.actions import SYSTEM, App, perform
from amity.db import utcnow
from amity.privacy.models import AuditEntry
from amity.web.app import build_app, create_app
from tests.test_ui_console import csrf

PASSWORD = "correct horse battery staple"
WRONG = "not the password"


def _user(app: App, email: str = "sam@example.com") -> str:
    return str(perform(app, SYSTEM, create_user, email, PASSWORD, "agent", "Sam").id)


def _try(client: TestClient, email: str, password: str = WRONG) -> tuple[int, dict[str, object]]:
    r = client.post("/api/v1/session", json={"email": email, "password": password})
    return r.status_code, r.json()


def _unlock(app: App) -> None:
    """Time passing, without waiting: every lock ends a moment ago."""
    with app.db.write_session() as s, s.begin():
        s.execute(update(LoginThrottle).values(locked_until=utcnow() - dt.timedelta(seconds=1)))


def test_five_failures_lock_the_account_even_for_the_right_password(client: TestClient, app: App) -> None:
    _user(app)
    for _ in range(throttle.ACCOUNT_FREE):
        assert _try(client, "sam@example.com")[0] == 401
    r = client.post("/api/v1/session", json={"email": "sam@example.com", "password": PASSWORD})
    assert r.status_code == 429, r.text
    assert r.json()["error"] == "too_many_attempts"
    assert r.json()["message"] == "too many failed sign-ins; try again in 30 seconds"
    assert r.headers["retry-after"] == "30"
    assert "amity_session" not in r.headers.get("set-cookie", "")

    _unlock(app)
    ok = client.post("/api/v1/session", json={"email": "sam@example.com", "password": PASSWORD})
    assert ok.status_code == 200  # the lock ended, the password is right, the count starts again
    with app.db.read() as s:
        assert s.get(LoginThrottle, throttle.Keys.of("sam@example.com", None).account) is None


def test_each_failure_after_a_lock_doubles_it(client: TestClient, app: App) -> None:
    _user(app)
    waits = []
    for _ in range(throttle.ACCOUNT_FREE - 1):
        _try(client, "sam@example.com")
    for _ in range(4):
        assert _try(client, "sam@example.com")[0] == 401  # this failure sets the lock
        status, body = _try(client, "sam@example.com")
        assert status == 429
        waits.append(body["retry_after"])
        _unlock(app)
    assert waits == [30, 60, 120, 240]
    assert throttle.lock_for(100, 5) == throttle.MAX_LOCK


def test_an_unknown_address_is_locked_exactly_like_a_real_one(client: TestClient, app: App) -> None:
    _user(app)
    real = [_try(client, "sam@example.com") for _ in range(throttle.ACCOUNT_FREE + 1)]
    unknown = [_try(client, "kim@example.com") for _ in range(throttle.ACCOUNT_FREE + 1)]
    assert real == unknown
    assert [status for status, _ in real] == [401] * throttle.ACCOUNT_FREE + [429]


def test_many_failures_from_one_address_lock_it_for_every_account(client: TestClient, app: App) -> None:
    _user(app)
    for i in range(throttle.ADDRESS_FREE):
        assert _try(client, f"guess{i}@example.com")[0] == 401
    status, body = _try(client, "sam@example.com", PASSWORD)
    assert status == 429 and body["retry_after"] == 30


def test_the_lock_is_in_the_database_so_another_process_sees_it(
    client: TestClient, app: App, settings: Settings
) -> None:
    _user(app)
    for _ in range(throttle.ACCOUNT_FREE):
        _try(client, "sam@example.com")
    with TestClient(create_app(build_app(settings, app.db))) as other:
        assert _try(other, "sam@example.com", PASSWORD)[0] == 429


def test_failures_lockouts_refusals_and_successes_are_audited(client: TestClient, app: App) -> None:
    user_id = _user(app)
    client.post("/api/v1/session", json={"email": "sam@example.com", "password": PASSWORD})
    for _ in range(throttle.ACCOUNT_FREE + 1):
        _try(client, "sam@example.com")
    _try(client, "kim@example.com")
    with app.db.read() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action.like("login.%")).order_by(AuditEntry.id))
        seen = [(r.action, r.subject_id, r.details.get("reason")) for r in rows]
    assert seen == [
        ("login.succeeded", user_id, None),
        *[("login.failed", user_id, "wrong password")] * throttle.ACCOUNT_FREE,
        ("login.locked", user_id, None),
        ("login.refused_locked", user_id, None),
        ("login.failed", "unknown", "unknown email"),
    ]


def test_the_sign_in_page_says_when_to_try_again(client: TestClient, app: App) -> None:
    _user(app)
    browser = TestClient(client.app)
    for _ in range(throttle.ACCOUNT_FREE):
        token = csrf(browser.get("/login").text)
        r = browser.post("/login", data={"email": "sam@example.com", "password": "nope", "csrf": token})
        assert r.status_code == 401
    token = csrf(browser.get("/login").text)
    r = browser.post(
        "/login",
        data={"email": "sam@example.com", "password": PASSWORD, "csrf": token},
        follow_redirects=False,
    )
    assert r.status_code == 429
    assert "Too many failed sign-ins. Try again in 30 seconds." in r.text
    assert r.headers["retry-after"] == "30"
