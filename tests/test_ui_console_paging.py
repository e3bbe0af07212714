"""Inbox pages beyond the first 50 rows (SQLite and PostgreSQL): keyset pages in due order, Previous and
Next links, counts that stay the whole view's, the teams view merged across teams, damaged links."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from amity.conversations.changes import update_conversation
from amity.core.actions import SYSTEM, App, perform
from tests.conftest import auth
from tests.conversation_helpers import api_channel, write_in
from tests.test_ui_console import signed_in

TOTAL = 62


def _row_ids(html: str) -> list[str]:
    return re.findall(r'<tr class="inbox-row[^"]*" data-row data-id="([^"]+)"', html)


def _counts(html: str) -> dict[str, int]:
    found = re.findall(r'data-view="(\w+)"[^>]*><span>[^<]+</span><span class="count"[^>]*>(\d+)<', html)
    return {view: int(n) for view, n in found}


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a class="btn btn-small" href="(/inbox\?[^"]+)" rel="{rel}">', html)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.fixture
def crowd(client: TestClient, tokens: dict[str, str]) -> list[str]:
    """TOTAL conversations under one first-response target, so each is due a little after the one
    before it: the due order is the order they arrived in."""
    r = client.post(
        "/api/v1/sla-policies",
        json={"name": "Standard", "targets": {"*": {"first_response": 30}}},
        headers=auth(tokens["admin"]),
    )
    assert r.status_code == 201, r.text
    chan = api_channel(client, tokens["admin"])
    ids = []
    for n in range(TOTAL):
        r = write_in(client, chan["id"], ("email", f"shopper{n:03d}@example.com"), f"question {n}")
        assert r.status_code == 201, r.text
        ids.append(r.json()["conversation_id"])
    return ids


def test_the_inbox_pages_past_fifty_rows_and_the_counts_stay_the_whole_views(
    client: TestClient, app: App, crowd: list[str]
) -> None:
    agent, _, _ = signed_in(client, app, "agent")
    first = agent.get("/inbox", params={"view": "all"})
    assert first.status_code == 200
    assert _row_ids(first.text) == crowd[:50]
    assert _counts(first.text)["all"] == TOTAL
    assert "Page 1: 1\u201350 of 62" in first.text
    assert _link(first.text, "prev") is None
    nxt = _link(first.text, "next")
    assert nxt is not None and "view=all" in nxt

    second = agent.get(nxt)
    assert second.status_code == 200
    assert _row_ids(second.text) == crowd[50:]
    assert _counts(second.text) == _counts(first.text)  # counts are the view's, not the page's
    assert "Page 2: 51\u201362 of 62" in second.text
    assert _link(second.text, "next") is None
    assert _link(second.text, "prev") == "/inbox?view=all"
    # The page's start travels with it, so a live row sorting before it is left to the first page;
    # the fragments the live script fetches are about the whole view (no cursor in them).
    assert f'data-from-id="{crowd[50]}"' in second.text
    assert 'data-query="view=all"' in second.text
    assert agent.get(f"/inbox/rows/{crowd[0]}", params={"view": "all"}).status_code == 200


def test_breaching_soon_pages_forward_and_back(client: TestClient, app: App, crowd: list[str]) -> None:
    agent, _, _ = signed_in(client, app, "agent")
    # Breaching soon holds every one of them (due within half an hour): paged like any other view.
    pages: list[list[str]] = []
    url: str | None = "/inbox?view=breaching"
    html = ""
    back: list[str | None] = []
    while url is not None:
        html = agent.get(url).text
        pages.append(_row_ids(html))
        back.append(_link(html, "prev"))
        url = _link(html, "next")
        assert len(pages) < 5
    assert [len(p) for p in pages] == [50, 12]
    assert [i for p in pages for i in p] == crowd

    # Previous from the second page leads back to the first exactly.
    assert back[0] is None and back[1] is not None
    assert _row_ids(agent.get(back[1]).text) == pages[0]


def test_the_teams_view_pages_through_several_teams_in_one_due_order(
    client: TestClient, app: App, tokens: dict[str, str], crowd: list[str]
) -> None:
    agent, _, me = signed_in(client, app, "agent")
    teams = []
    for name in ("Shoes", "Returns"):
        r = client.post("/api/v1/teams", json={"name": name, "members": [me]}, headers=auth(tokens["admin"]))
        assert r.status_code == 201, r.text
        teams.append(r.json()["id"])
    # Alternate the two teams over the first 56 conversations; the last six belong to no team.
    for n, cid in enumerate(crowd[:56]):
        perform(app, SYSTEM, update_conversation, cid, team_id=teams[n % 2])
    first = agent.get("/inbox", params={"view": "teams"}).text
    assert _row_ids(first) == crowd[:50]
    assert _counts(first)["teams"] == 56
    nxt = _link(first, "next")
    assert nxt is not None
    second = agent.get(nxt).text
    assert _row_ids(second) == crowd[50:56]
    assert _link(second, "next") is None


@pytest.mark.parametrize(
    "params",
    [
        {"view": "all", "cursor": "not a cursor!"},
        {"view": "all", "cursor": "bm90LWEtbGlzdA"},  # decodes, but is not one the list gave out
        {"view": "all", "cursor": "abc", "trail": "x" * 400},
    ],
)
def test_a_damaged_page_link_is_refused_by_name_and_shows_the_first_page(
    client: TestClient, app: App, crowd: list[str], params: dict[str, Any]
) -> None:
    agent, _, _ = signed_in(client, app, "agent")
    r = agent.get("/inbox", params=params)
    assert r.status_code == 422
    assert 'id="cursor-error"' in r.text and "this page link is damaged" in r.text
    assert _row_ids(r.text) == crowd[:50]
