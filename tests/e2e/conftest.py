"""Browser tests: a live Amity (uvicorn in a thread, a fresh SQLite file) driven by Debian's Chromium.

pytest-playwright's own fixtures (``page``, ``browser``…) are pointed at /usr/bin/chromium as RECIPES.md
says. Without Chromium the browser tests are skipped, unless AMITY_REQUIRE_BROWSER=1 (CI) makes that a
failure. AMITY_SCREENSHOTS=1 also writes the pictures used in docs/ui.md to docs/screenshots/.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from playwright.sync_api import Page, expect
from sqlalchemy import or_, select

from amity.accounts.actions import create_token, create_user
from amity.config import Settings
from amity.core.actions import SYSTEM, App, perform
from amity.customers import service
from amity.customers.models import Merge
from amity.db import Database
from amity.migrate import upgrade
from amity.web.app import build_app, create_app

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
REQUIRE_BROWSER = os.environ.get("AMITY_REQUIRE_BROWSER") == "1"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct-horse-battery"
ROLES = ("admin", "supervisor", "agent")
SECRET = "e2e-kiosk-secret-0123456789"  # the kiosk API channel's signing secret (``lines``)
VOICE_SECRET = "e2e-pbx-secret-0123456789abcdef"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        message = f"browser tests need Chromium at {CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH"
        if REQUIRE_BROWSER:
            pytest.fail(f"AMITY_REQUIRE_BROWSER=1 but {message}")
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1360, "height": 900}, "locale": "en-GB"}


@dataclass
class Live:
    app: App
    url: str
    users: dict[str, str]  # role -> user id; each signs in as <role>@example.org


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    home = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{home / 'amity.db'}"
    db = Database(url)
    upgrade(db)
    app = build_app(Settings(home=home, database_url=url, secret_key="e2e-secret-not-for-production"), db)
    users = {
        role: perform(app, SYSTEM, create_user, f"{role}@example.org", PASSWORD, role).id for role in ROLES
    }
    # Port 0: the OS picks a free port and we read it back, so parallel runs never collide.
    config = uvicorn.Config(
        create_app(app), host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="amity-e2e-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the e2e server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield Live(app, f"http://127.0.0.1:{port}", users)
    server.should_exit = True
    thread.join(timeout=10)
    db.dispose()


@pytest.fixture(scope="session")
def base_url(live: Live) -> str:
    return live.url


# ---- data ----------------------------------------------------------------------------------------
@dataclass
class Person:
    """One real person who first reached us as two customers (email, then phone) until an event
    carrying both identifiers merged them."""

    name: str
    email: str
    phone: str
    survivor_id: str
    merged_id: str
    merge_id: str
    bridge_event_id: str


_serial = itertools.count(100001)


def _ago(**kw: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(**kw)).isoformat()


def _ident(type_: str, value: str) -> dict[str, str]:
    return {"type": type_, "value": value}


def seed_person(app: App, first: str, last: str) -> Person:
    n = next(_serial)
    email = f"{first}.{last}@example.com".lower()
    phone = f"+447911{n:06d}"

    def one(event: dict[str, Any]) -> str:
        result = service.ingest(app, SYSTEM, [event])["results"][0]
        assert result["status"] == "accepted", result
        return str(result["customer_id"])

    by_email = one(
        {
            "id": f"web-{n}",
            "type": "page.viewed",
            "timestamp": _ago(days=4),
            "source": "website",
            "identities": [_ident("email", email)],
            "properties": {"path": "/shoes/trail-runner", "search": "trail runner size 6.5"},
        }
    )
    one(
        {
            "id": f"order-{n}",
            "type": "order.placed",
            "timestamp": _ago(days=3),
            "source": "shop",
            "identities": [_ident("email", email)],
            "traits": {"name": f"{first} {last}", "language": "pt-BR", "preferred_channels": ["chat", "sms"]},
            "properties": {"order": f"A-{n}", "total": 89.9, "currency": "EUR", "size": "6.5"},
        }
    )
    by_phone = one(
        {
            "id": f"call-{n}",
            "type": "call.ended",
            "timestamp": _ago(days=2),
            "source": "telephony",
            "identities": [_ident("phone", phone)],
            "traits": {"timezone": "Europe/Lisbon"},
            "properties": {"duration_s": 312, "store": "Porto Centro"},
        }
    )
    bridge = f"loyalty-{n}"
    survivor = one(
        {
            "id": bridge,
            "type": "loyalty.joined",
            "timestamp": _ago(days=1),
            "source": "pos",
            "identities": [_ident("email", email), _ident("phone", phone)],
            "properties": {"tier": "gold", "store": "Porto Centro"},
        }
    )
    with app.db.read() as s:
        merge = s.scalars(
            select(Merge).where(
                or_(Merge.survivor_id.in_([by_email, by_phone]), Merge.merged_id.in_([by_email, by_phone]))
            )
        ).one()
    assert merge.survivor_id == survivor
    return Person(f"{first} {last}", email, phone, survivor, merge.merged_id, merge.id, bridge)


# ---- browser helpers -----------------------------------------------------------------------------
def sign_in(page: Page, role: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(f"{role}@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))


def csrf_of(page: Page) -> str:
    """The CSRF token the page gave this session (every page has one, in the sign-out form)."""
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    assert token
    return token


def shoot(page: Page, name: str) -> None:
    if os.environ.get("AMITY_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


@pytest.fixture(scope="session")
def lines(live: Live) -> dict[str, str]:
    """An API channel (a kiosk) and a phone line on the live server, set up over its HTTP API (once for the
    whole run: several browser test modules write in on them)."""
    token = perform(live.app, SYSTEM, create_token, "e2e-console-admin", "admin")
    policy = httpx2.post(
        f"{live.url}/api/v1/sla-policies",
        json={"name": "E2E standard", "targets": {"*": {"first_response": 30}}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert policy.status_code == 201, policy.text  # so every conversation has a due time to sort by
    made = {}
    for type_, name, secret in [("api", "Kiosk", SECRET), ("voice", "Store line", VOICE_SECRET)]:
        r = httpx2.post(
            f"{live.url}/api/v1/channels",
            json={"type": type_, "name": name, "config": {"secret": secret}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 201, r.text
        made[type_] = r.json()["id"]
    return made


@pytest.fixture
def person(live: Live) -> Callable[[str, str], Person]:
    return lambda first, last: seed_person(live.app, first, last)
