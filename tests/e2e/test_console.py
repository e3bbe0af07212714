"""The agent console in Chromium against a live server: reply from the inbox, live rows, the screen pop,
keyboard shortcuts, and the doors that stay shut (approvals for an agent, any page for a stranger)."""

from __future__ import annotations

import itertools
import re
from typing import Any

import httpx2
import orjson
from playwright.sync_api import Page, expect
from sqlalchemy import select

from amity.channels.signing import sign
from amity.conversations.changes import update_conversation
from amity.conversations.models import Message
from amity.core.actions import SYSTEM, perform
from tests.e2e.conftest import SECRET, VOICE_SECRET, Live, sign_in

_n = itertools.count(1)


def signed_post(live: Live, path: str, secret: str, payload: dict[str, Any]) -> dict[str, Any]:
    body = orjson.dumps(payload)
    r = httpx2.post(
        live.url + path,
        content=body,
        headers={"content-type": "application/json", "X-Amity-Signature": sign(secret, body)},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def write_in(live: Live, channel: str, name: str, text: str, phone: str | None = None) -> dict[str, Any]:
    sender = (
        {"type": "phone", "value": phone}
        if phone
        else {"type": "email", "value": f"{name.split()[0].lower()}{next(_n)}@example.com"}
    )
    return signed_post(live, f"/hooks/{channel}/api", SECRET, {"from": sender, "text": text, "name": name})


def live_inbox(page: Page, view: str = "all") -> None:
    page.goto(f"/inbox?view={view}")
    # The stream says "ready" once it is subscribed: from here on nothing is missed.
    expect(page.locator("#live-state")).to_contain_text("Live:")


def test_an_agent_opens_a_conversation_from_the_inbox_and_replies(
    page: Page, live: Live, lines: dict[str, str]
) -> None:
    wrote = write_in(live, lines["api"], "Marta Nunes", "Do you have the trail runner in 6.5?")
    sign_in(page, "agent")
    page.goto("/inbox?view=all")
    row = page.locator(f'tr[data-id="{wrote["conversation_id"]}"]')
    expect(row).to_contain_text("Marta Nunes")
    expect(row.locator("td.due")).to_contain_text(re.compile(r"in \d+ min"))
    row.get_by_role("link").click()
    expect(page).to_have_url(re.compile(f"/conversations/{wrote['conversation_id']}$"))
    thread = page.locator("#thread")
    expect(thread).to_contain_text("Do you have the trail runner in 6.5?")
    expect(thread.locator(".badge-channel").first).to_have_text("api")
    expect(page.get_by_label("Send on")).to_have_value(lines["api"])
    side = page.get_by_role("complementary", name="Customer")
    expect(side).to_contain_text("Marta Nunes")
    expect(side).to_contain_text("Recent timeline")

    page.keyboard.press("r")  # the shortcut puts the cursor in the reply box
    expect(page.get_by_label("Message to the customer")).to_be_focused()
    page.keyboard.type("Yes: Porto has a pair in 6.5, and it runs small.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".flash-ok")).to_have_text("Reply queued for delivery.")
    out = page.locator(".msg-out").filter(has_text="Porto has a pair in 6.5")
    expect(out.locator("[data-delivery]")).to_have_text("queued")
    with live.app.db.read() as s:
        msg = s.scalars(
            select(Message).where(
                Message.conversation_id == wrote["conversation_id"], Message.direction == "out"
            )
        ).one()
    assert (msg.delivery_status, msg.channel_id, msg.is_note) == ("queued", lines["api"], False)

    # n switches the same box to an internal note, which looks different in the thread.
    page.keyboard.press("n")
    expect(page.get_by_label("Internal note", exact=True)).to_be_focused()
    page.keyboard.type("She prefers collection in store.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".msg-note").filter(has_text="collection in store")).to_contain_text("Internal note")


def test_a_new_inbound_message_appears_in_the_inbox_without_reload(
    page: Page, live: Live, lines: dict[str, str]
) -> None:
    sign_in(page, "agent")
    live_inbox(page, "unassigned")
    page.evaluate("window.__stayed = true")  # gone if the page reloads
    before = int(page.locator('[data-view="unassigned"] .count').inner_text())
    wrote = write_in(live, lines["api"], "Joana Reis", "Where is my order A-77?")
    row = page.locator(f'tr[data-id="{wrote["conversation_id"]}"]')
    expect(row).to_contain_text("Joana Reis")
    expect(row).to_contain_text("Where is my order A-77?")
    expect(page.locator('[data-view="unassigned"] .count')).to_have_text(str(before + 1))
    assert page.evaluate("window.__stayed") is True

    # The shortcuts walk the list; Enter opens the selected conversation; ? explains them.
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()
    page.keyboard.press("/")
    expect(page.get_by_label("Search conversations")).to_be_focused()
    page.locator("body").click(position={"x": 5, "y": 300})
    first = page.locator("#inbox-rows tr[data-row]").first.get_attribute("data-id")
    page.keyboard.press("j")
    expect(page.locator("#inbox-rows a.row-link").first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"/conversations/{first}$"))


def test_an_incoming_call_pops_the_caller_on_the_agents_screen(
    page: Page, live: Live, lines: dict[str, str]
) -> None:
    phone = f"+4479112{next(_n):05d}"
    chat = write_in(live, lines["api"], "Rui Costa", "My router keeps dropping", phone=phone)
    sign_in(page, "agent")
    live_inbox(page)
    signed_post(
        live,
        f"/hooks/{lines['voice']}/voice",
        VOICE_SECRET,
        {"event": "ringing", "call_id": f"CA-e2e-{next(_n)}", "from": phone},
    )
    pop = page.get_by_role("alertdialog", name="Incoming call")
    expect(pop).to_be_visible()
    expect(pop).to_contain_text("Rui Costa")
    expect(pop).to_contain_text(f"Calling from {phone}")
    expect(pop).to_contain_text("My router keeps dropping")
    link = pop.get_by_role("link", name="Open conversation")
    expect(link).to_be_focused()
    link.click()
    expect(page).to_have_url(re.compile(f"/conversations/{chat['conversation_id']}$"))


def test_an_agent_cannot_open_approvals_and_a_stranger_is_sent_to_sign_in(page: Page) -> None:
    page.goto("/inbox")
    expect(page).to_have_url(re.compile(r"/login\?next=/inbox$"))
    page.goto("/approvals")
    expect(page).to_have_url(re.compile(r"/login\?next=/approvals$"))
    sign_in(page, "agent")
    expect(page.get_by_role("link", name="Approvals")).to_have_count(0)
    response = page.goto("/approvals")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


def test_a_supervisor_decides_an_approval_and_the_console_works_at_tablet_width(
    page: Page, live: Live, lines: dict[str, str]
) -> None:
    wrote = write_in(live, lines["api"], "Inês Lopes", "The boots arrived torn")
    sign_in(page, "agent")
    page.goto(f"/conversations/{wrote['conversation_id']}")
    # Scoped to its card: side-panel cards of other capabilities have forms of their own.
    ask = page.get_by_role("region", name="Request approval")
    ask.get_by_label("Kind").select_option("refund")
    ask.get_by_label("Amount").fill("89.90")
    ask.get_by_label("Currency").fill("EUR")
    ask.get_by_label("Reason", exact=True).fill("Torn on arrival")
    ask.get_by_role("button", name="Request approval").click()
    expect(page.locator(".flash-ok")).to_have_text("Approval requested.")
    page.get_by_role("button", name="Sign out").click()

    page.set_viewport_size({"width": 820, "height": 1100})
    sign_in(page, "supervisor")
    page.get_by_role("link", name="Approvals").click()
    row = page.locator("tr").filter(has_text="Torn on arrival")
    expect(row).to_contain_text("89.90 EUR")
    row.get_by_label("Comment").fill("Replace them")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator(".flash-ok")).to_contain_text("Approved")
    expect(page.get_by_text("Replace them")).to_be_visible()
    for path in ["/approvals", "/inbox?view=all", f"/conversations/{wrote['conversation_id']}"]:
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 821)"
            ".slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)"
        )
        assert width <= 820, f"{path} scrolls sideways at tablet width ({width}px): {wide}"


def test_the_inbox_lists_soonest_due_first_with_tags_and_priority(
    page: Page, live: Live, lines: dict[str, str]
) -> None:
    wrote = [
        write_in(live, lines["api"], name, text)
        for name, text in [
            ("Ana Silva", "Shoes out of stock in 6.5?"),
            ("Tom Baker", "Refund for order A-1042 never arrived"),
            ("Priya Shah", "Can I change the delivery address?"),
            ("Luis Ortega", "Loyalty points missing after my visit"),
        ]
    ]
    perform(
        live.app,
        SYSTEM,
        update_conversation,
        wrote[1]["conversation_id"],
        priority="urgent",
        tags=["refund", "vip"],
    )
    perform(live.app, SYSTEM, update_conversation, wrote[3]["conversation_id"], tags=["loyalty"])
    sign_in(page, "agent")
    page.goto("/inbox?view=all")
    ids = page.locator("#inbox-rows tr[data-row]").evaluate_all("rows => rows.map(r => r.dataset.id)")
    mine = [w["conversation_id"] for w in wrote]
    assert [i for i in ids if i in mine] == mine  # same target, so the first to arrive is due first
    row = page.locator(f'tr[data-id="{mine[1]}"]')
    expect(row).to_contain_text("urgent")
    expect(row).to_contain_text("vip")
