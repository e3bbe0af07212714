"""The agent console over plain HTTP (no browser; SQLite and PostgreSQL): every page and form of the
inbox, the conversation page and approvals, with bad input, forged forms and roles that may not."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.accounts.actions import create_user
from amity.conversations.models import Conversation, Message
from amity.core.actions import SYSTEM, App, perform
from amity.privacy.models import AuditEntry
from amity.service.models import Approval
from tests.conftest import auth
from tests.conversation_helpers import api_channel, write_in

PASSWORD = "correct-horse-battery"


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def signed_in(client: TestClient, app: App, role: str) -> tuple[TestClient, str, str]:
    """A new browser-like client signed in through the form as <role>@example.org: (client, token, user id)."""
    browser = TestClient(client.app)
    email = f"{role}@example.org"
    user_id = perform(app, SYSTEM, create_user, email, PASSWORD, role, role.title()).id
    r = browser.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf": csrf(browser.get("/login").text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return browser, csrf(browser.get("/inbox").text), user_id


@pytest.fixture
def desk(client: TestClient, tokens: dict[str, str]) -> dict[str, Any]:
    """An API channel and two customers who wrote in on it (Ana about shoes, Bo about a refund)."""
    chan = api_channel(client, tokens["admin"])
    ana = write_in(
        client, chan["id"], ("email", "ana@example.com"), "Shoes out of stock in 6.5?", name="Ana Silva"
    )
    bo = write_in(client, chan["id"], ("phone", "+447911123456"), "My refund <b>never</b> came", name="Bo")
    assert ana.status_code == 201 and bo.status_code == 201, (ana.text, bo.text)
    return {"channel": chan, "ana": ana.json(), "bo": bo.json()}


def audit(app: App, action: str) -> list[AuditEntry]:
    with app.db.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_stranger_is_sent_to_sign_in_from_every_console_page_and_form(client: TestClient) -> None:
    for path, target in [
        ("/inbox", "/login?next=/inbox"),
        ("/inbox?view=all", "/login?next=/inbox%3Fview%3Dall"),
        ("/conversations/cnv_x", "/login?next=/conversations/cnv_x"),
        ("/approvals", "/login?next=/approvals"),
        ("/inbox/rows/cnv_x", "/login?next=/inbox/rows/cnv_x"),
    ]:
        r = client.get(path, follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, target), path
    for path in ["reply", "update", "escalate", "approval"]:
        r = client.post(f"/conversations/cnv_x/{path}", data={"csrf": "x"}, follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/login"), path
    r = client.post("/approvals/apr_x/decide", data={"csrf": "x"}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/login")


def test_home_is_the_inbox_once_signed_in(client: TestClient, app: App) -> None:
    agent, _, _ = signed_in(client, app, "agent")
    r = agent.get("/", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/inbox")
    page = agent.get("/inbox").text
    assert 'href="/inbox"' in page and 'href="/approvals"' not in page and 'href="/admin"' not in page
    supervisor, _, _ = signed_in(client, app, "supervisor")
    assert 'href="/approvals"' in supervisor.get("/inbox").text
    admin, _, _ = signed_in(client, app, "admin")
    assert 'href="/admin"' in admin.get("/inbox").text


def _row_ids(html: str) -> list[str]:
    return re.findall(r'<tr class="inbox-row[^"]*" data-row data-id="([^"]+)"', html)


def test_the_inbox_views_count_and_sort_by_sla_due_time(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    r = client.post(
        "/api/v1/sla-policies",
        json={"name": "Standard", "targets": {"*": {"first_response": 30}}},
        headers=auth(tokens["admin"]),
    )
    assert r.status_code == 201, r.text
    chan = api_channel(client, tokens["admin"])
    first = write_in(client, chan["id"], ("email", "a@example.com"), "first").json()["conversation_id"]
    second = write_in(client, chan["id"], ("email", "b@example.com"), "second, about a refund").json()[
        "conversation_id"
    ]
    agent, token, me = signed_in(client, app, "agent")
    agent.post(
        f"/conversations/{second}/update", data={"csrf": token, "which": "assign", "assignee_id": "me"}
    )

    page = agent.get("/inbox", params={"view": "all"}).text
    assert _row_ids(page) == [first, second]  # soonest due first
    counts = dict(
        re.findall(r'data-view="(\w+)"[^>]*><span>[^<]+</span><span class="count"[^>]*>(\d+)<', page)
    )
    assert counts == {"mine": "1", "unassigned": "1", "teams": "0", "breaching": "2", "all": "2"}
    assert _row_ids(agent.get("/inbox").text) == [second]  # "mine" is the default view
    assert _row_ids(agent.get("/inbox", params={"view": "unassigned"}).text) == [first]
    assert _row_ids(agent.get("/inbox", params={"view": "breaching"}).text) == [first, second]
    assert _row_ids(agent.get("/inbox", params={"view": "all", "q": "REFUND"}).text) == [second]
    assert _row_ids(agent.get("/inbox", params={"view": "all", "channel": "email"}).text) == []
    assert _row_ids(agent.get("/inbox", params={"view": "all", "status": "solved"}).text) == []
    assert "in 2" in page or "in 3" in page  # "in 29 min": the due time is readable
    assert me


def test_inbox_filters_by_tag_and_refuses_unknown_views_and_statuses(
    client: TestClient, app: App, desk: dict[str, Any]
) -> None:
    agent, token, _ = signed_in(client, app, "agent")
    ana = desk["ana"]["conversation_id"]
    agent.post(f"/conversations/{ana}/update", data={"csrf": token, "which": "tags", "tags": "shoes, vip"})
    assert _row_ids(agent.get("/inbox", params={"view": "all", "tag": "VIP"}).text) == [ana]
    r = agent.get("/inbox", params={"view": "nope", "status": "maybe"})
    assert r.status_code == 422
    assert 'id="status-error"' in r.text and "Unknown view" in r.text


def test_a_live_row_is_served_while_it_belongs_in_the_view_and_204_once_it_leaves(
    client: TestClient, app: App, desk: dict[str, Any]
) -> None:
    agent, token, _ = signed_in(client, app, "agent")
    ana = desk["ana"]["conversation_id"]
    r = agent.get(f"/inbox/rows/{ana}", params={"view": "unassigned"})
    assert r.status_code == 200 and r.text.strip().startswith("<tr") and "Ana Silva" in r.text
    assert "<html" not in r.text  # a fragment, not a page
    agent.post(f"/conversations/{ana}/update", data={"csrf": token, "which": "assign", "assignee_id": "me"})
    assert agent.get(f"/inbox/rows/{ana}", params={"view": "unassigned"}).status_code == 204
    assert agent.get(f"/inbox/rows/{ana}", params={"view": "mine"}).status_code == 200
    assert agent.get(f"/inbox/rows/{ana}", params={"view": "all", "q": "shoes"}).status_code == 200
    assert agent.get(f"/inbox/rows/{ana}", params={"view": "all", "q": "refund"}).status_code == 204
    assert agent.get("/inbox/rows/cnv_nobody").status_code == 404
    assert agent.get(f"/inbox/rows/{ana}", params={"view": "bad"}).status_code == 422
    counts = agent.get("/inbox/counts", params={"view": "mine"})
    assert counts.status_code == 200 and 'id="inbox-views"' in counts.text and "<html" not in counts.text


def test_the_conversation_page_shows_the_thread_the_reply_box_and_the_customer(
    client: TestClient, app: App, desk: dict[str, Any], tokens: dict[str, str]
) -> None:
    bo = desk["bo"]["conversation_id"]
    agent, token, _ = signed_in(client, app, "agent")
    agent.post(
        f"/conversations/{bo}/reply", data={"csrf": token, "text": "Checking with billing", "note": "on"}
    )
    r = agent.get(f"/conversations/{bo}")
    assert r.status_code == 200
    html = r.text
    assert "My refund &lt;b&gt;never&lt;/b&gt; came" in html and "<b>never</b>" not in html
    assert 'class="badge badge-channel ch-api">api<' in html
    assert 'class="msg msg-out msg-note"' in html and "Internal note" in html
    assert f'<option value="{desk["channel"]["id"]}" selected>kiosk (api)' in html
    assert "+447911123456" in html  # the side panel's identities
    assert "Previous conversations" in html and "Recent timeline" in html and "Merges" in html
    assert agent.get("/conversations/cnv_nobody").status_code == 404
    assert agent.get("/conversations/" + "x" * 100).status_code == 404


def test_a_reply_is_queued_on_the_chosen_channel_and_audited(
    client: TestClient, app: App, desk: dict[str, Any]
) -> None:
    ana = desk["ana"]["conversation_id"]
    agent, token, _ = signed_in(client, app, "agent")
    r = agent.post(
        f"/conversations/{ana}/reply",
        data={
            "csrf": token,
            "text": "We found a pair in Porto",
            "channel_id": desk["channel"]["id"],
            "status": "pending",
        },
        follow_redirects=False,
    )
    assert (r.status_code, r.headers["location"]) == (303, f"/conversations/{ana}?notice=sent#thread-end")
    with app.db.read() as s:
        msg = s.scalars(
            select(Message).where(Message.conversation_id == ana, Message.direction == "out")
        ).one()
        conv = s.get(Conversation, ana)
        assert conv is not None and conv.status == "pending"
    assert (msg.text, msg.delivery_status, msg.channel_id) == (
        "We found a pair in Porto",
        "queued",
        desk["channel"]["id"],
    )
    assert [a.subject_id for a in audit(app, "message.sent")] == [ana]
    page = agent.get(f"/conversations/{ana}?notice=sent").text
    assert "Reply queued for delivery." in page and "We found a pair in Porto" in page and ">queued<" in page


def test_a_refused_reply_is_explained_next_to_its_field_and_sends_nothing(
    client: TestClient, app: App, desk: dict[str, Any]
) -> None:
    ana = desk["ana"]["conversation_id"]
    agent, token, _ = signed_in(client, app, "agent")
    r = agent.post(f"/conversations/{ana}/reply", data={"csrf": token, "text": "   "})
    assert r.status_code == 422 and 'id="reply-text-error"' in r.text
    r = agent.post(
        f"/conversations/{ana}/reply", data={"csrf": token, "text": "hi", "channel_id": "chn_nope"}
    )
    assert (
        r.status_code == 404 and 'id="reply-channel_id-error"' in r.text and "no channel chn_nope" in r.text
    )
    assert ">hi</textarea>" in r.text  # what the agent wrote is kept
    r = agent.post(f"/conversations/{ana}/reply", data={"csrf": token, "text": "hi", "status": "someday"})
    assert r.status_code == 422 and 'id="reply-status-error"' in r.text
    for bad in ["", "forged"]:
        assert agent.post(f"/conversations/{ana}/reply", data={"csrf": bad, "text": "hi"}).status_code == 403
    with app.db.read() as s:
        assert s.scalars(select(Message).where(Message.direction == "out")).all() == []
    assert agent.post("/conversations/cnv_nobody/reply", data={"csrf": token, "text": "x"}).status_code == 404


def test_assign_status_priority_and_tags_go_through_the_action(
    client: TestClient, app: App, desk: dict[str, Any]
) -> None:
    ana = desk["ana"]["conversation_id"]
    agent, token, me = signed_in(client, app, "agent")
    for data in [
        {"which": "assign", "assignee_id": "me"},
        {"which": "priority", "priority": "urgent"},
        {"which": "tags", "tags": "shoes  size-6.5,shoes"},
        {"which": "status", "status": "on_hold"},
    ]:
        r = agent.post(f"/conversations/{ana}/update", data={"csrf": token, **data}, follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, f"/conversations/{ana}?notice=updated"), data
    with app.db.read() as s:
        c = s.get(Conversation, ana)
        assert c is not None
        assert (c.assignee_id, c.priority, c.tags, c.status) == (
            me,
            "urgent",
            ["shoes", "size-6.5"],
            "on_hold",
        )
    assert len(audit(app, "conversation.updated")) == 3 and len(audit(app, "conversation.status")) == 1
    agent.post(f"/conversations/{ana}/update", data={"csrf": token, "which": "assign", "assignee_id": "none"})
    agent.post(f"/conversations/{ana}/update", data={"csrf": token, "which": "tags", "tags": ""})
    with app.db.read() as s:
        c = s.get(Conversation, ana)
        assert c is not None and (c.assignee_id, c.tags) == (None, [])


@pytest.mark.parametrize(
    ("data", "field", "status"),
    [
        ({"which": "priority", "priority": "whenever"}, "update-priority", 422),
        ({"which": "assign", "assignee_id": "usr_nobody"}, "update-assignee_id", 422),
        ({"which": "tags", "tags": "x" * 60}, "update-tags", 422),
        ({"which": "team", "team_id": "tea_nobody"}, "update-team_id", 422),
        ({"which": "status", "status": "closed"}, "update-status", 409),  # open cannot jump to closed
        ({"which": "status", "status": "someday"}, "update-status", 422),
        ({"which": "nothing"}, "update-form", 422),
    ],
)
def test_a_refused_change_is_shown_next_to_its_field(
    client: TestClient, app: App, desk: dict[str, Any], data: dict[str, str], field: str, status: int
) -> None:
    agent, token, _ = signed_in(client, app, "agent")
    r = agent.post(f"/conversations/{desk['ana']['conversation_id']}/update", data={"csrf": token, **data})
    assert r.status_code == status and f'id="{field}-error"' in r.text, r.text[-2000:]


def test_escalation_needs_a_reason_and_a_higher_tier_then_moves_the_conversation(
    client: TestClient, app: App, desk: dict[str, Any], tokens: dict[str, str]
) -> None:
    ana = desk["ana"]["conversation_id"]
    agent, token, _ = signed_in(client, app, "agent")
    r = agent.post(f"/conversations/{ana}/escalate", data={"csrf": token, "reason": " "})
    assert r.status_code == 422 and 'id="escalate-reason-error"' in r.text
    r = agent.post(f"/conversations/{ana}/escalate", data={"csrf": token, "reason": "refund above my limit"})
    assert r.status_code >= 400 and (
        'id="escalate-to_team-error"' in r.text or 'id="escalate-form-error"' in r.text
    )
    assert "refund above my limit</textarea>" in r.text

    admin = auth(tokens["admin"])
    tier = client.post("/api/v1/tiers", json={"name": "Tier 2", "level": 2}, headers=admin).json()
    team = client.post("/api/v1/teams", json={"name": "Seniors", "tier_id": tier["id"]}, headers=admin).json()
    r = agent.post(
        f"/conversations/{ana}/escalate",
        data={"csrf": token, "reason": "refund above my limit"},
        follow_redirects=False,
    )
    assert (r.status_code, r.headers["location"]) == (303, f"/conversations/{ana}?notice=escalated")
    with app.db.read() as s:
        c = s.get(Conversation, ana)
        assert c is not None and c.team_id == team["id"]
    page = agent.get(f"/conversations/{ana}").text
    assert "Escalated to Seniors" in page and "“refund above my limit”" in page


def test_an_approval_is_requested_from_the_conversation_and_decided_by_a_supervisor(
    client: TestClient, app: App, desk: dict[str, Any]
) -> None:
    bo = desk["bo"]["conversation_id"]
    agent, token, _ = signed_in(client, app, "agent")
    r = agent.post(
        f"/conversations/{bo}/approval",
        data={"csrf": token, "kind": "bribe", "amount": "12.345", "currency": "euro", "reason": ""},
    )
    assert r.status_code == 422
    for field in ["kind", "amount", "currency", "reason"]:
        assert f'id="approval-{field}-error"' in r.text, field
    r = agent.post(
        f"/conversations/{bo}/approval",
        data={
            "csrf": token,
            "kind": "refund",
            "amount": "120.50",
            "currency": "eur",
            "reason": "Never arrived",
        },
        follow_redirects=False,
    )
    assert (r.status_code, r.headers["location"]) == (303, f"/conversations/{bo}?notice=requested")
    with app.db.read() as s:
        apr = s.scalars(select(Approval)).one()
    assert (apr.kind, apr.amount_minor, apr.currency, apr.status) == ("refund", 12050, "EUR", "pending")
    assert "120.50 EUR" in agent.get(f"/conversations/{bo}").text

    # The agent may neither see the approvals page nor decide, whatever they post.
    assert agent.get("/approvals").status_code == 403
    r = agent.post(f"/approvals/{apr.id}/decide", data={"csrf": token, "decision": "approved"})
    assert r.status_code == 403

    supervisor, sup_token, _ = signed_in(client, app, "supervisor")
    page = supervisor.get("/approvals")
    assert page.status_code == 200 and "Never arrived" in page.text and "120.50 EUR" in page.text
    r = supervisor.post(f"/approvals/{apr.id}/decide", data={"csrf": sup_token, "decision": "maybe"})
    assert r.status_code == 422 and f'id="decide-{apr.id}-error"' in r.text
    r = supervisor.post(f"/approvals/{apr.id}/decide", data={"csrf": "forged", "decision": "approved"})
    assert r.status_code == 403
    r = supervisor.post(
        f"/approvals/{apr.id}/decide",
        data={"csrf": sup_token, "decision": "denied", "comment": "Carrier says delivered"},
        follow_redirects=False,
    )
    assert (r.status_code, r.headers["location"]) == (303, "/approvals?notice=denied")
    with app.db.read() as s:
        apr2 = s.get(Approval, apr.id)
        assert apr2 is not None and (apr2.status, apr2.comment) == ("denied", "Carrier says delivered")
    r = supervisor.post(f"/approvals/{apr.id}/decide", data={"csrf": sup_token, "decision": "approved"})
    assert r.status_code == 409 and "already denied" in r.text
    assert "Carrier says delivered" in supervisor.get("/approvals").text


def test_nobody_decides_their_own_request(client: TestClient, app: App, desk: dict[str, Any]) -> None:
    supervisor, token, _ = signed_in(client, app, "supervisor")
    bo = desk["bo"]["conversation_id"]
    supervisor.post(
        f"/conversations/{bo}/approval",
        data={"csrf": token, "kind": "goodwill", "amount": "5", "currency": "GBP", "reason": "sorry"},
    )
    with app.db.read() as s:
        apr = s.scalars(select(Approval)).one()
    r = supervisor.post(f"/approvals/{apr.id}/decide", data={"csrf": token, "decision": "approved"})
    assert r.status_code == 403 and f'id="decide-{apr.id}-error"' in r.text and "their own request" in r.text


def test_a_macro_is_rendered_into_the_reply_box(
    client: TestClient, app: App, desk: dict[str, Any], tokens: dict[str, str]
) -> None:
    r = client.post(
        "/api/v1/macros",
        json={"name": "Hello", "body": "Hi {{ customer.first_name }}, <thanks> for writing."},
        headers=auth(tokens["admin"]),
    )
    assert r.status_code == 201, r.text
    ana = desk["ana"]["conversation_id"]
    agent, _, _ = signed_in(client, app, "agent")
    page = agent.get(f"/conversations/{ana}", params={"macro": r.json()["id"]})
    assert page.status_code == 200
    assert ">Hi Ana, &lt;thanks&gt; for writing.</textarea>" in page.text
    page = agent.get(f"/conversations/{ana}", params={"macro": "mac_nope"})
    assert page.status_code == 404 and 'id="reply-macro-error"' in page.text


def test_an_integration_role_may_not_write_from_the_console(
    client: TestClient, app: App, desk: dict[str, Any]
) -> None:
    # Integrations cannot sign in to pages in practice; a person whose role lacks the permission gets 403.
    user = perform(app, SYSTEM, create_user, "kiosk@example.org", PASSWORD, "integration")
    browser = TestClient(client.app)
    r = browser.post(
        "/login",
        data={"email": "kiosk@example.org", "password": PASSWORD, "csrf": csrf(browser.get("/login").text)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and user.id
    ana = desk["ana"]["conversation_id"]
    assert browser.get(f"/conversations/{ana}").status_code == 200  # may read
    token = csrf(browser.get("/inbox").text)
    r = browser.post(f"/conversations/{ana}/reply", data={"csrf": token, "text": "hi"})
    assert r.status_code == 403 and "may not conversations:write" in r.text
    assert 'action="/conversations/' + ana + '/reply"' not in browser.get(f"/conversations/{ana}").text


def test_a_tier_that_may_approve_opens_approvals_and_decides_up_to_its_own_limit(
    client: TestClient, app: App, desk: dict[str, Any], tokens: dict[str, str]
) -> None:
    admin = auth(tokens["admin"])
    lead, lead_token, lead_id = signed_in(client, app, "agent")
    assert lead.get("/approvals").status_code == 403  # no tier yet
    tier = client.post(
        "/api/v1/tiers",
        json={"name": "Leads", "level": 3, "may_approve": True, "limits": {"refund": {"EUR": 5000}}},
        headers=admin,
    ).json()
    r = client.patch(f"/api/v1/agents/{lead_id}", json={"tier_id": tier["id"]}, headers=admin)
    assert r.status_code == 200, r.text
    assert lead.get("/approvals").status_code == 200
    assert 'href="/approvals"' not in lead.get("/inbox").text  # the link is for the roles that decide

    asker, ask_token, _ = signed_in(client, app, "supervisor")
    bo = desk["bo"]["conversation_id"]
    asker.post(
        f"/conversations/{bo}/approval",
        data={"csrf": ask_token, "kind": "refund", "amount": "80", "currency": "EUR", "reason": "late"},
    )
    with app.db.read() as s:
        apr = s.scalars(select(Approval)).one()
    r = lead.post(f"/approvals/{apr.id}/decide", data={"csrf": lead_token, "decision": "approved"})
    assert r.status_code == 403 and "above what tier" in r.text
    r = lead.post(
        f"/approvals/{apr.id}/decide", data={"csrf": lead_token, "decision": "denied"}, follow_redirects=False
    )
    assert r.status_code == 303


def test_capabilities_add_cards_to_the_side_panel(client: TestClient, app: App, desk: dict[str, Any]) -> None:
    from amity.web import panels

    seen: list[str] = []

    def load(s: Any, customer_id: str, actor: Any) -> dict[str, Any] | None:
        seen.append(customer_id)
        return {"rows": [("Lifetime orders", 3)]} if actor.role == "agent" else None

    panels.register(panels.Panel("test-orders", "Orders (test)", "_panel_kv.html", load, order=1))
    try:
        bo = desk["bo"]["conversation_id"]
        agent, _, _ = signed_in(client, app, "agent")
        html = agent.get(f"/conversations/{bo}").text
        assert 'id="panel-test-orders"' in html and "Orders (test)" in html
        assert "<dt>Lifetime orders</dt><dd>3</dd>" in html
        assert seen == [desk["bo"]["customer_id"]]
        # a loader that answers None leaves its card out
        lead, _, _ = signed_in(client, app, "supervisor")
        assert 'id="panel-test-orders"' not in lead.get(f"/conversations/{bo}").text
    finally:
        panels._PANELS.pop("test-orders", None)
