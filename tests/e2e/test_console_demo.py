"""The demo desk in Chromium: what a newcomer sees after ``./dev start`` — the demo agent signs in to an
inbox of live conversations across channels, pages through them, and opens one with the customer
beside it. The README's screenshots of the inbox and a conversation are taken here (AMITY_SCREENSHOTS=1),
so they always show the demo data as it is loaded today.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from playwright.sync_api import Page, expect
from sqlalchemy import select

from amity.config import Settings
from amity.conversations.models import Conversation
from amity.core.actions import App
from amity.db import Database
from amity.demo import DEMO_PASSWORD, load_demo
from amity.migrate import upgrade
from amity.web.app import build_app, create_app
from tests.e2e.conftest import shoot

pytestmark = pytest.mark.e2e


@dataclass
class Demo:
    app: App
    url: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    home = tmp_path_factory.mktemp("demo-e2e")
    url = f"sqlite:///{home / 'amity.db'}"
    db = Database(url)
    upgrade(db)
    app = build_app(
        Settings(home=home, database_url=url, secret_key="demo-e2e-secret-not-for-production"), db
    )
    load_demo(app, people=120, seed=7)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(app), host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, name="amity-demo-e2e", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the demo server did not start")
        time.sleep(0.01)
    yield Demo(app, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}")
    server.should_exit = True
    thread.join(timeout=10)
    db.dispose()


def test_the_demo_agent_lands_on_a_live_inbox_and_opens_a_conversation_with_the_customer(
    page: Page, demo: Demo
) -> None:
    page.goto(f"{demo.url}/login")
    page.get_by_label("Email").fill("agent@amity.example")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))
    expect(page.locator("#inbox-rows tr[data-row]").first).to_be_visible()  # Mine is not empty

    page.get_by_role("link", name=re.compile(r"^All")).click()
    rows = page.locator("#inbox-rows tr[data-row]")
    with demo.app.db.read() as s:
        live = s.scalars(
            select(Conversation).where(Conversation.status.in_(("open", "pending", "on_hold")))
        ).all()
    expect(rows).to_have_count(len(live))
    badges = set(page.locator("#inbox-rows .badge-channel").all_inner_texts())
    assert {"chat", "email", "sms", "whatsapp", "voice", "api"} <= badges
    expect(page.locator("#inbox-rows td.due-late").first).to_contain_text("overdue")
    expect(page.locator("#live-state")).to_contain_text("Live:")
    shoot(page, "inbox")

    # The stock question on the web chat: the thread, the agent's note, and the customer beside it.
    row = rows.filter(has_text="Ridgeline Trail Runner").first
    row.get_by_role("link").click()
    expect(page.locator("#thread")).to_contain_text("Porto has a pair in 6.5")
    expect(page.locator(".msg-note")).to_contain_text("Bought sizes 6 and 6.5 before")
    side = page.get_by_role("complementary", name="Customer")
    expect(side).to_contain_text("Identities")
    expect(side).to_contain_text("Recent timeline")
    shoot(page, "conversation")
