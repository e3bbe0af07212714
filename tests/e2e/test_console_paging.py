"""Inbox pages in Chromium with live rows: a full first page does not grow when a conversation due later
arrives (it belongs to a later page), while the last page shows it at once; the counts follow both."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from amity.conversations.changes import update_conversation
from amity.core.actions import SYSTEM, perform
from tests.e2e.conftest import Live, sign_in
from tests.e2e.test_console import live_inbox, write_in


def _all_count(page: Page) -> int:
    return int(page.locator('[data-view="all"] .count').inner_text())


@pytest.fixture
def crowd(live: Live, lines: dict[str, str]) -> Iterator[list[str]]:
    """52 more conversations, so the All view has a second page; solved afterwards, so the other
    browser tests on this live server still find their rows on the first page."""
    ids = [
        write_in(live, lines["api"], f"Shopper {n}", f"Paging question {n}")["conversation_id"]
        for n in range(52)
    ]
    yield ids
    for cid in ids:
        perform(live.app, SYSTEM, update_conversation, cid, status="solved")


def test_live_rows_land_on_the_page_they_belong_to(
    page: Page, live: Live, lines: dict[str, str], crowd: list[str]
) -> None:
    sign_in(page, "agent")
    live_inbox(page, "all")
    rows = page.locator("#inbox-rows tr[data-row]")
    expect(rows).to_have_count(50)
    before = _all_count(page)
    assert before > 50

    # Due later than every row shown: it belongs on a later page, so page 1 stays as it is.
    late = write_in(live, lines["api"], "Late Arrival", "Arrived while page one was open")
    crowd.append(late["conversation_id"])
    expect(page.locator('[data-view="all"] .count')).to_have_text(str(before + 1))
    expect(rows).to_have_count(50)
    expect(page.locator(f'tr[data-id="{late["conversation_id"]}"]')).to_have_count(0)

    # The last page has room: the next arrival shows there, live, and the range says where we are.
    while (nxt := page.get_by_role("link", name="Next page →")).count():
        nxt.click()
        expect(page.locator("#live-state")).to_contain_text("Live:")
    expect(page.locator("#inbox-range")).to_contain_text(re.compile(r"^Page \d+: \d+\u2013\d+ of \d+"))
    shown = rows.count()
    assert shown < 50
    newest = write_in(live, lines["api"], "Last Page", "Arrived while the last page was open")
    crowd.append(newest["conversation_id"])
    expect(page.locator(f'tr[data-id="{newest["conversation_id"]}"]')).to_contain_text("Last Page")
    expect(rows).to_have_count(shown + 1)
    page.get_by_role("link", name="← Previous page").click()
    expect(page).to_have_url(re.compile(r"/inbox\?view=all"))
