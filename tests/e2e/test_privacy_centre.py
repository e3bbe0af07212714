"""The preference centre in a real browser (story 6, "Protect my data"): a customer who wrote to us
by email asks for a magic link, gets it through a real SMTP relay, opens it, turns marketing off and
downloads their data. Runs on SQLite and, with AMITY_TEST_DATABASE_URL, PostgreSQL."""

from __future__ import annotations

import io
import re
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from playwright.sync_api import Page, expect

from amity.channels.email.listener import SmtpListener
from amity.config import Settings
from amity.consent import queries as consent
from amity.core.actions import App
from amity.customers.models import Identity
from amity.db import Database
from amity.web.app import build_app, create_app
from tests.conftest import reset
from tests.test_channel_email_kit import SUPPORT, Sink, free_port, mail, send

pytestmark = pytest.mark.e2e

ANA = "ana.e2e@example.com"
LINK = re.compile(r"(http://\S+/privacy/open\?token=\S+)")


@dataclass
class Centre:
    app: App
    url: str
    sink: Sink


@pytest.fixture(scope="module")
def centre(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Centre]:
    reset(database)
    home = tmp_path_factory.mktemp("privacy-e2e")
    port = free_port()
    settings = Settings(
        home=home,
        secret_key="privacy-e2e-secret-not-for-production",
        jobs_immediate=True,
        public_url=f"http://127.0.0.1:{port}",
    )
    app = build_app(settings, database)
    sink = Sink(port=free_port())
    relay = Controller(sink, hostname="127.0.0.1", port=sink.port, server_hostname="sink.test")
    relay.start()
    from amity.channels import actions as channels
    from amity.core.actions import SYSTEM, perform

    perform(
        app,
        SYSTEM,
        channels.create_channel,
        "email",
        "support",
        {"address": SUPPORT, "relay": f"127.0.0.1:{sink.port}"},
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(app), host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, name="privacy-e2e", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the e2e server did not start"
        time.sleep(0.01)
    with SmtpListener(app, "127.0.0.1", 0) as inbound:  # Ana writes to support first
        answer = send(inbound, mail("Where is my order?", sender=f"Ana Lima <{ANA}>"), mail_from=ANA)
        assert answer.data and answer.data[0] == 250
    yield Centre(app, f"http://127.0.0.1:{port}", sink)
    server.should_exit = True
    thread.join(timeout=10)
    relay.stop()


def test_a_customer_opens_the_link_withdraws_marketing_and_downloads_their_data(
    page: Page, centre: Centre
) -> None:
    page.goto(f"{centre.url}/privacy")
    page.get_by_label("Your email address or phone number").fill(ANA)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.locator("#link-answer")).to_contain_text("a link is on its way")
    [msg] = centre.sink.messages()
    body = msg.get_body(("plain",))
    assert msg["To"] == ANA and body is not None
    found = LINK.search(body.get_content())
    assert found
    page.goto(found.group(1))
    expect(page).to_have_url(f"{centre.url}/privacy/me")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your privacy")
    marketing = page.locator('li[data-purpose="marketing"]')
    expect(marketing.locator(".consent-status")).to_have_text("off")  # never granted
    marketing.get_by_role("button", name="Turn on marketing").click()
    expect(page.locator("#centre-notice")).to_contain_text("Saved")
    marketing.get_by_role("button", name="Turn off marketing").click()
    expect(marketing.locator(".consent-status")).to_have_text("off")
    with centre.app.db.read() as s:
        from sqlalchemy import select

        cid = s.scalar(select(Identity.customer_id).where(Identity.value == ANA))
        assert cid
        state = {(e["purpose"], e["channel"]): e["status"] for e in consent.current_state(s, cid)}
    assert state[("marketing", None)] == "withdrawn"
    page.get_by_role("button", name="Prepare a copy of my data").click()
    link = page.get_by_role("link", name="Download (zip)")
    expect(link).to_be_visible()
    with page.expect_download() as dl:
        link.click()
    with zipfile.ZipFile(io.BytesIO(dl.value.path().read_bytes())) as z:
        data = orjson.loads(z.read("data.json"))
    values = {i["value"] for i in data["data"]["customers"]["identities"]}
    assert ANA in values
    texts = [m["text"] for m in data["data"]["conversations"]["messages"]]
    assert any("Where is my order?" in t for t in texts)


def test_a_tampered_link_shows_a_clear_page_and_nothing_about_anyone(page: Page, centre: Centre) -> None:
    page.goto(f"{centre.url}/privacy/open?token=eyJjIjoiY3VzXzEyMyJ9.AAAA.BBBB")
    expect(page.get_by_role("heading", level=1)).to_have_text("This link is not valid")
    expect(page.get_by_role("button", name="Send me a link")).to_be_visible()
    assert ANA not in page.content()
