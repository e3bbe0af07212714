"""Password reset by an emailed, expiring, single-use link, sent over real SMTP (an aiosmtpd relay on
a free port): the same answer for unknown addresses, and every session ends when the password changes."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from amity.accounts.actions import create_user, verify_password
from amity.accounts.models import PasswordReset, User
from amity.config import Settings
from amity.core.actions import SYSTEM, App, perform
from amity.db import utcnow
from amity.privacy.models import AuditEntry
from tests.test_channel_email_kit import Sink, sink
from tests.test_ui_console import csrf

__all__ = ["sink"]  # the relay fixture, used by name

OLD = "correct horse battery staple"
NEW = "a brand new long password"


@pytest.fixture
def settings(tmp_path: Path, sink: Sink) -> Settings:
    return Settings(
        home=tmp_path / "home",
        secret_key="test-secret-key-not-for-production",
        smtp_relay=f"127.0.0.1:{sink.port}",
        mail_from="amity@shop.example",
        public_url="https://amity.shop.example",
    )


@pytest.fixture
def sam(app: App) -> str:
    return str(perform(app, SYSTEM, create_user, "sam@example.com", OLD, "agent", "Sam").id)


def _ask(client: TestClient, email: str) -> tuple[int, str]:
    browser = TestClient(client.app)
    page = browser.get("/login/forgot")
    assert page.status_code == 200
    r = browser.post("/login/forgot", data={"email": email, "csrf": csrf(page.text)})
    return r.status_code, re.sub(r'value="[^"]+"', "", r.text)  # without the per-visit CSRF token


def _mails(sink: Sink, n: int, timeout: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout
    while len(sink.envelopes) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    return [m.get_content() for m in sink.messages()]


def _link(body: str) -> str:
    found = re.search(r"https://amity\.shop\.example(/login/reset\?token=[A-Za-z0-9_-]+)", body)
    assert found, body
    return found.group(1)


def _sign_in(browser: TestClient, password: str) -> int:
    token = csrf(browser.get("/login").text)
    r = browser.post(
        "/login",
        data={"email": "sam@example.com", "password": password, "csrf": token},
        follow_redirects=False,
    )
    return r.status_code


def test_the_link_arrives_by_mail_and_sets_a_new_password_that_ends_every_session(
    client: TestClient, app: App, sink: Sink, sam: str
) -> None:
    web = TestClient(client.app)
    assert _sign_in(web, OLD) == 303
    api = TestClient(client.app)
    assert api.post("/api/v1/session", json={"email": "sam@example.com", "password": OLD}).status_code == 200

    status, page = _ask(client, "Sam@Example.com")
    assert status == 200 and "If an account uses that address" in page
    [body] = _mails(sink, 1)
    [msg] = sink.messages()
    assert msg["To"] == "sam@example.com" and msg["From"] == "amity@shop.example"
    assert sink.envelopes[0].rcpt_tos == ["sam@example.com"]
    assert "works once, for 30 minutes" in body
    link = _link(body)
    with app.db.read() as s:
        row = s.scalars(select(PasswordReset)).one()
    assert link.split("token=")[1] not in row.token_hash  # only the hash is kept

    browser = TestClient(client.app)
    form = browser.get(link)
    assert form.status_code == 200 and "Choose a new password" in form.text
    token = re.search(r'name="token" value="([^"]+)"', form.text)
    assert token
    differ = browser.post(
        "/login/reset",
        data={"csrf": csrf(form.text), "token": token.group(1), "password": NEW, "password2": NEW + "x"},
    )
    assert differ.status_code == 422 and "differ" in differ.text
    short = browser.post(
        "/login/reset",
        data={"csrf": csrf(form.text), "token": token.group(1), "password": "short", "password2": "short"},
    )
    assert short.status_code == 422 and "At least 10 characters" in short.text
    done = browser.post(
        "/login/reset",
        data={"csrf": csrf(form.text), "token": token.group(1), "password": NEW, "password2": NEW},
        follow_redirects=False,
    )
    assert (done.status_code, done.headers["location"]) == (303, "/login?notice=reset")

    # Every session that existed ended: the browser's and the API client's.
    assert web.get("/inbox", follow_redirects=False).headers["location"].startswith("/login")
    assert api.get("/api/v1/me").status_code == 401
    with app.db.read() as s:
        user = s.get(User, sam)
        assert user is not None and verify_password(user, NEW) and not verify_password(user, OLD)
        assert s.scalars(select(PasswordReset)).one().used_at is not None
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == sam)))
    assert "password_reset.requested" in actions and "password_reset.completed" in actions
    assert _sign_in(TestClient(client.app), OLD) == 401
    assert _sign_in(TestClient(client.app), NEW) == 303

    again = TestClient(client.app).get(link)  # single use
    assert again.status_code == 400 and "expired or was already used" in again.text


def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    client: TestClient, app: App, sink: Sink, sam: str
) -> None:
    unknown = _ask(client, "kim@example.com")
    known = _ask(client, "sam@example.com")
    assert unknown == known
    mails = _mails(sink, 1)
    time.sleep(0.3)  # a mail for the unknown address would have come by now too
    assert len(sink.envelopes) == len(mails) == 1
    assert sink.envelopes[0].rcpt_tos == ["sam@example.com"]


def test_an_expired_or_made_up_link_is_refused_with_a_clear_page(
    client: TestClient, app: App, sink: Sink, sam: str
) -> None:
    _ask(client, "sam@example.com")
    link = _link(_mails(sink, 1)[0])
    with app.db.write_session() as s, s.begin():
        s.execute(update(PasswordReset).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    browser = TestClient(client.app)
    expired = browser.get(link)
    assert expired.status_code == 400 and "expired or was already used" in expired.text
    assert 'name="token"' not in expired.text
    made_up = browser.get("/login/reset?token=not-a-real-token")
    assert made_up.status_code == 400 and "expired or was already used" in made_up.text
    # Posting the expired token anyway changes nothing.
    page = browser.get("/login/forgot")
    r = browser.post(
        "/login/reset",
        data={"csrf": csrf(page.text), "token": link.split("token=")[1], "password": NEW, "password2": NEW},
    )
    assert r.status_code == 400
    with app.db.read() as s:
        user = s.get(User, sam)
        assert user is not None and verify_password(user, OLD)


def test_a_disabled_person_gets_no_link(client: TestClient, app: App, sink: Sink, sam: str) -> None:
    with app.db.write_session() as s, s.begin():
        s.execute(update(User).where(User.id == sam).values(disabled_at=utcnow()))
    status, page = _ask(client, "sam@example.com")
    assert status == 200 and "If an account uses that address" in page
    time.sleep(0.3)
    assert sink.envelopes == []
