"""The whole way round in two browsers: a visitor writes in the widget on a shop served from another
origin, an agent signs in, finds the conversation in the inbox, opens it and replies from the console
with a file attached, and the visitor sees the reply, and the link to the file, arrive live.

Uses the live Amity and the shop of ``test_widget.py`` (SQLite and, with AMITY_TEST_DATABASE_URL,
PostgreSQL).
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, expect
from sqlalchemy import select

from amity.accounts.actions import create_user
from amity.conversations.models import Attachment, Message
from amity.core.actions import SYSTEM, perform
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_widget import Amity, Shop, amity, chat, contexts, open_chat, shop, stored, write

__all__ = ["amity", "chat", "contexts", "shop"]  # fixtures used by name below

pytestmark = pytest.mark.e2e

PASSWORD = "correct-horse-battery"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def test_a_reply_from_the_console_reaches_the_visitors_widget_live_with_its_file(
    amity: Amity, shop: Shop, chat: dict[str, Any], contexts: Callable[[], BrowserContext]
) -> None:
    # The visitor, on the shop's own origin, asks in the widget.
    visitor = contexts().new_page()
    visitor.goto(shop.page_url(chat["id"]))
    assert not visitor.url.startswith(amity.url)
    open_chat(visitor)
    write(visitor, "Do you have a size chart for the Aurora?")
    asked = stored(amity.app, "Do you have a size chart for the Aurora?")

    # The agent, in a browser of their own, signs in and lands on the inbox.
    perform(amity.app, SYSTEM, create_user, "dana@shop.example", PASSWORD, "agent", "Dana Agent")
    console = contexts().new_page()
    console.goto(f"{amity.url}/login")
    console.get_by_label("Email").fill("dana@shop.example")
    console.get_by_label("Password").fill(PASSWORD)
    console.get_by_role("button", name="Sign in").click()
    expect(console).to_have_url(re.compile(r"/inbox$"))
    console.get_by_role("link", name=re.compile(r"^Unassigned")).click()
    row = console.locator(f'tr[data-id="{asked.conversation_id}"]')
    expect(row).to_contain_text("Do you have a size chart")
    row.get_by_role("link").click()
    expect(console).to_have_url(re.compile(f"/conversations/{asked.conversation_id}$"))
    expect(console.locator("#thread")).to_contain_text("Do you have a size chart for the Aurora?")
    expect(console.get_by_label("Send on")).to_have_value(chat["id"])  # where the visitor wrote

    console.get_by_label("Message to the customer").fill("Here it is: the Aurora runs half a size small.")
    console.get_by_label("Attach files").set_input_files(
        [{"name": "aurora-sizes.png", "mimeType": "image/png", "buffer": PNG}]
    )
    console.get_by_role("button", name="Send").click()
    expect(console.locator(".flash-ok")).to_have_text("Reply queued for delivery.")
    out = console.locator(".msg-out").filter(has_text="runs half a size small")
    expect(out.get_by_role("link", name="aurora-sizes.png")).to_be_visible()
    with amity.app.db.read() as s:
        reply = s.scalars(
            select(Message).where(
                Message.conversation_id == asked.conversation_id, Message.direction == "out"
            )
        ).one()
        [attached] = s.scalars(select(Attachment).where(Attachment.message_id == reply.id))
    assert (reply.channel_id, reply.author_type, reply.delivery_status) == (chat["id"], "agent", "queued")
    assert (attached.filename, attached.content_type) == ("aurora-sizes.png", "image/png")

    # What the worker does next, done here so the test is exact: the reply goes to the open socket.
    assert amity.app.cache["jobs"].sweep() >= 1
    bubble = visitor.locator(f"li.msg.out[data-id='{reply.id}']")
    expect(bubble).to_contain_text("the Aurora runs half a size small")
    link = bubble.get_by_role("link", name="aurora-sizes.png")
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    assert href is not None and href.startswith(f"{amity.url}/files/")
    got = visitor.context.request.get(href)  # the visitor's browser: no Amity session, only the link
    assert got.status == 200 and got.body() == PNG
    with amity.app.db.read() as s:
        sent = s.get(Message, reply.id)
        assert sent is not None and sent.delivery_status == "delivered"  # handed to the visitor's socket
    if os.environ.get("AMITY_SCREENSHOTS") == "1":  # the widget as the README shows it
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        visitor.screenshot(path=SCREENSHOTS / "widget.png")
