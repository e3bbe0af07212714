"""One conversation per need, across channels: inbound, continuity, replies, notes, status, merge."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from amity.channels.signing import sign
from amity.conversations.models import Conversation, Delivery, Message
from amity.core.actions import App
from amity.privacy.models import AuditEntry
from tests.conftest import auth
from tests.conversation_helpers import SECRET, Receiver, api_channel, use_receiver, write_in
from tests.helpers import ev, ingest, merge, undo

ANA = ("email", "ana@example.com")


@pytest.fixture
def admin(tokens: dict[str, str]) -> dict[str, str]:
    return auth(tokens["admin"])


@pytest.fixture
def kiosk(client: TestClient, tokens: dict[str, str]) -> dict[str, Any]:
    return api_channel(client, tokens["admin"])


def rows(app: App, model: Any, *where: Any) -> list[Any]:
    with app.db.read() as s:
        return list(s.scalars(select(model).where(*where)))


def audit(app: App, action: str) -> list[AuditEntry]:
    return rows(app, AuditEntry, AuditEntry.action == action)


# ---- inbound ----------------------------------------------------------------------------------------
def test_an_unknown_sender_becomes_a_customer_with_a_new_conversation(
    client: TestClient, app: App, kiosk: dict[str, Any], admin: dict[str, str]
) -> None:
    r = write_in(client, kiosk["id"], ANA, "My shoes fell apart", external_id="k-1", name="Ana Silva")
    assert r.status_code == 201, r.text
    got = r.json()
    conv = client.get(f"/api/v1/conversations/{got['conversation_id']}", headers=admin).json()
    assert conv["status"] == "open" and conv["subject"] == "My shoes fell apart"
    assert conv["customer"]["identities"] == [{"type": "email", "value": "ana@example.com"}]
    assert conv["customer"]["name"] == "Ana Silva"  # the display name fills an empty name trait
    [m] = conv["messages"]
    assert (m["direction"], m["author_type"], m["channel_type"], m["text"]) == (
        "in",
        "customer",
        "api",
        "My shoes fell apart",
    )
    assert conv["awaiting_reply_since"] is not None
    assert [a.subject_id for a in audit(app, "message.received")] == [got["conversation_id"]]


def test_a_retried_webhook_is_stored_once(client: TestClient, app: App, kiosk: dict[str, Any]) -> None:
    first = write_in(client, kiosk["id"], ANA, "hello", external_id="k-1").json()
    again = write_in(client, kiosk["id"], ANA, "hello", external_id="k-1")
    assert again.status_code == 200
    assert again.json()["duplicate"] is True and again.json()["message_id"] == first["message_id"]
    assert len(rows(app, Message)) == 1


def test_a_bad_signature_is_refused_and_nothing_is_stored(
    client: TestClient, app: App, kiosk: dict[str, Any]
) -> None:
    body = orjson.dumps({"from": {"type": "email", "value": "ana@example.com"}, "text": "hi"})
    for signature in ("sha256=" + "0" * 64, sign("another-secret-0000000", body), "", "md5=abc"):
        r = client.post(f"/hooks/{kiosk['id']}/api", content=body, headers={"X-Amity-Signature": signature})
        assert r.status_code == 401, r.text
        assert r.json()["error"] == "unauthorized"
    tampered = body.replace(b"hi", b"ho")
    r = client.post(
        f"/hooks/{kiosk['id']}/api", content=tampered, headers={"X-Amity-Signature": sign(SECRET, body)}
    )
    assert r.status_code == 401
    assert rows(app, Message) == [] and rows(app, Conversation) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "hi"}, "from"),
        ({"from": {"type": "fax", "value": "1"}, "text": "hi"}, "from"),
        ({"from": {"type": "email", "value": "not-an-email"}, "text": "hi"}, "from"),
        ({"from": {"type": "email", "value": "ana@example.com"}, "text": 5}, "text"),
        ({"from": {"type": "email", "value": "ana@example.com"}, "text": "hi", "colour": "red"}, "colour"),
    ],
)
def test_a_malformed_inbound_message_names_the_field(
    client: TestClient, app: App, kiosk: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    raw = orjson.dumps(body)
    r = client.post(
        f"/hooks/{kiosk['id']}/api", content=raw, headers={"X-Amity-Signature": sign(SECRET, raw)}
    )
    assert r.status_code == 422, r.text
    assert any(e["field"].startswith(field) for e in r.json()["errors"]), r.text
    assert rows(app, Message) == []


def test_an_oversized_attachment_is_refused_by_name_and_the_rest_is_kept(
    client: TestClient, app: App, kiosk: dict[str, Any], admin: dict[str, str]
) -> None:
    import base64

    app.settings.max_attachment_bytes = 1000
    files = [
        {
            "filename": "receipt.png",
            "content_base64": base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 100).decode(),
        },
        {"filename": "video.mov", "content_base64": base64.b64encode(b"x" * 5000).decode()},
    ]
    r = write_in(client, kiosk["id"], ANA, "see attached", attachments=files)
    assert r.status_code == 201, r.text
    assert [f["filename"] for f in r.json()["refused_attachments"]] == ["video.mov"]
    conv = client.get(f"/api/v1/conversations/{r.json()['conversation_id']}", headers=admin).json()
    [m] = conv["messages"]
    assert m["text"] == "see attached"
    [a] = m["attachments"]
    assert (a["filename"], a["content_type"]) == ("receipt.png", "image/png")  # sniffed, not declared
    assert m["meta"]["refused_attachments"][0]["filename"] == "video.mov"
    download = client.get(a["url"], headers=admin)
    assert download.status_code == 200 and download.content.startswith(b"\x89PNG")
    assert download.headers["x-content-type-options"] == "nosniff"


def test_html_is_sanitised_before_it_is_stored(client: TestClient, app: App, kiosk: dict[str, Any]) -> None:
    write_in(
        client, kiosk["id"], ANA, "", html='<p onclick="x()">Hi <script>alert(1)</script><b>there</b></p>'
    )
    [m] = rows(app, Message)
    assert "script" not in (m.html or "") and "onclick" not in (m.html or "")
    assert "<b>there</b>" in (m.html or "")
    assert m.text == "Hi there"


# ---- continuity ------------------------------------------------------------------------------------
def test_a_message_on_another_channel_joins_the_open_conversation(
    client: TestClient, app: App, tokens: dict[str, str], kiosk: dict[str, Any]
) -> None:
    app_channel = api_channel(client, tokens["admin"], name="mobile app")
    first = write_in(client, kiosk["id"], ANA, "size 6.5 out of stock?").json()
    second = write_in(client, app_channel["id"], ANA, "any news?").json()
    assert second["conversation_id"] == first["conversation_id"]
    [conv] = rows(app, Conversation)
    assert conv.last_channel_id == app_channel["id"]  # a reply goes where she last wrote


def test_an_old_conversation_is_not_joined_and_a_pending_one_reopens(
    client: TestClient, app: App, kiosk: dict[str, Any], admin: dict[str, str]
) -> None:
    first = write_in(client, kiosk["id"], ANA, "first need").json()
    client.patch(
        f"/api/v1/conversations/{first['conversation_id']}", json={"status": "pending"}, headers=admin
    )
    again = write_in(client, kiosk["id"], ANA, "here is the photo").json()
    assert again["conversation_id"] == first["conversation_id"]
    [conv] = rows(app, Conversation)
    assert conv.status == "open"  # the customer answered: back to us
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=app.settings.conversation_window_hours + 1)
    with app.db.write_session() as s, s.begin():
        s.execute(update(Conversation).values(last_message_at=old))
    later = write_in(client, kiosk["id"], ANA, "a new question").json()
    assert later["conversation_id"] != first["conversation_id"]


def test_a_reference_to_a_closed_conversation_opens_a_linked_follow_up(
    client: TestClient, app: App, kiosk: dict[str, Any], admin: dict[str, str]
) -> None:
    first = write_in(client, kiosk["id"], ANA, "broken zip").json()
    cid = first["conversation_id"]
    for status in ("solved", "closed"):
        assert (
            client.patch(f"/api/v1/conversations/{cid}", json={"status": status}, headers=admin).status_code
            == 200
        )
    follow = write_in(client, kiosk["id"], ANA, "still broken", conversation_id=cid).json()
    assert follow["conversation_id"] != cid
    conv = client.get(f"/api/v1/conversations/{follow['conversation_id']}", headers=admin).json()
    assert conv["links"] == [{"type": "follow_up_of", "conversation_id": cid}]


def test_a_reference_to_someone_elses_conversation_is_ignored(
    client: TestClient, app: App, kiosk: dict[str, Any]
) -> None:
    bea = write_in(client, kiosk["id"], ("email", "bea@example.com"), "my order").json()
    ana = write_in(client, kiosk["id"], ANA, "hello", conversation_id=bea["conversation_id"]).json()
    assert ana["conversation_id"] != bea["conversation_id"]


def test_conversations_follow_customer_merges_and_unmerges(
    client: TestClient, app: App, kiosk: dict[str, Any], admin: dict[str, str]
) -> None:
    a = write_in(client, kiosk["id"], ANA, "from the shop email").json()
    b = write_in(client, kiosk["id"], ("phone", "+447911123456"), "from my phone").json()
    assert a["customer_id"] != b["customer_id"] and a["conversation_id"] != b["conversation_id"]
    merge_id = merge(app, a["customer_id"], b["customer_id"])
    listed = client.get(f"/api/v1/conversations?customer_id={a['customer_id']}", headers=admin).json()[
        "items"
    ]
    assert {c["id"] for c in listed} == {a["conversation_id"], b["conversation_id"]}
    assert {c["customer"]["id"] for c in listed} == {
        a["customer_id"]
    }  # the merged-away id answers as the survivor
    undo(app, merge_id)
    listed = client.get(f"/api/v1/conversations?customer_id={a['customer_id']}", headers=admin).json()[
        "items"
    ]
    assert [c["id"] for c in listed] == [a["conversation_id"]]


# ---- replies, notes, status ---------------------------------------------------------------------
def test_an_agent_reply_goes_out_on_the_channel_the_customer_used(
    client: TestClient, app: App, kiosk: dict[str, Any], tokens: dict[str, str]
) -> None:
    receiver = Receiver()
    use_receiver(app, receiver)
    got = write_in(client, kiosk["id"], ANA, "where is my order?").json()
    r = client.post(
        f"/api/v1/conversations/{got['conversation_id']}/messages",
        json={"text": "It ships today.", "status": "pending"},
        headers=auth(tokens["agent"]),
    )
    assert r.status_code == 201, r.text
    assert r.json()["delivery_status"] == "queued"
    assert app.cache["jobs"].sweep() == 1
    [body] = receiver.bodies()
    assert body["to"] == {"type": "email", "value": "ana@example.com"} and body["text"] == "It ships today."
    assert receiver.requests[0].headers["X-Amity-Signature"] == sign(SECRET, receiver.requests[0].content)
    [out] = rows(app, Message, Message.direction == "out")
    assert (out.delivery_status, out.external_id) == ("sent", "ext-1")
    [conv] = rows(app, Conversation)
    assert (
        conv.status == "pending" and conv.first_response_at is not None and conv.awaiting_reply_since is None
    )
    assert len(audit(app, "message.sent")) == 1 and len(audit(app, "message.dispatched")) == 1


def test_an_internal_note_is_never_sent(
    client: TestClient, app: App, kiosk: dict[str, Any], admin: dict[str, str]
) -> None:
    receiver = Receiver()
    use_receiver(app, receiver)
    got = write_in(client, kiosk["id"], ANA, "hi").json()
    r = client.post(
        f"/api/v1/conversations/{got['conversation_id']}/messages",
        json={"text": "VIP, be nice", "note": True},
        headers=admin,
    )
    assert r.status_code == 201 and r.json()["is_note"] is True
    app.cache["jobs"].sweep()
    assert receiver.requests == [] and rows(app, Delivery) == []
    [conv] = rows(app, Conversation)
    assert conv.first_response_at is None  # a note is not an answer


def test_replying_to_a_customer_with_no_reachable_identity_names_the_channel(
    client: TestClient, app: App, tokens: dict[str, str], admin: dict[str, str]
) -> None:
    [r] = ingest(app, ev("order.placed", "loyalty:L-1"))
    kiosk = api_channel(client, tokens["admin"])
    conv = client.post(
        "/api/v1/conversations",
        json={"customer_id": r["customer_id"], "subject": "Your order"},
        headers=admin,
    ).json()
    reply = client.post(
        f"/api/v1/conversations/{conv['id']}/messages",
        json={"text": "hi", "channel_id": kiosk["id"]},
        headers=admin,
    )
    assert reply.status_code == 422
    assert reply.json()["errors"][0]["field"] == "channel_id"
    none_yet = client.post(f"/api/v1/conversations/{conv['id']}/messages", json={"text": "hi"}, headers=admin)
    assert none_yet.status_code == 422 and none_yet.json()["errors"][0]["field"] == "channel_id"
    assert rows(app, Message) == []


@pytest.mark.parametrize(
    ("path", "to", "code"),
    [(["solved", "closed"], "open", 409), (["pending"], "closed", 409), ([], "archived", 422)],
)
def test_invalid_status_transitions_are_refused(
    client: TestClient,
    app: App,
    kiosk: dict[str, Any],
    admin: dict[str, str],
    path: list[str],
    to: str,
    code: int,
) -> None:
    cid = write_in(client, kiosk["id"], ANA, "hi").json()["conversation_id"]
    for status in path:
        assert (
            client.patch(f"/api/v1/conversations/{cid}", json={"status": status}, headers=admin).status_code
            == 200
        )
    r = client.patch(f"/api/v1/conversations/{cid}", json={"status": to}, headers=admin)
    assert r.status_code == code, r.text
    assert r.json()["errors"][0]["field"] == "status"


def test_a_closed_conversation_takes_no_reply(
    client: TestClient, app: App, kiosk: dict[str, Any], admin: dict[str, str]
) -> None:
    cid = write_in(client, kiosk["id"], ANA, "hi").json()["conversation_id"]
    for status in ("solved", "closed"):
        client.patch(f"/api/v1/conversations/{cid}", json={"status": status}, headers=admin)
    r = client.post(f"/api/v1/conversations/{cid}/messages", json={"text": "hello?"}, headers=admin)
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "conversation_id"


def test_tags_priority_and_assignment_are_audited(
    client: TestClient, app: App, kiosk: dict[str, Any], admin: dict[str, str]
) -> None:
    from amity.accounts.actions import create_user
    from amity.core.actions import SYSTEM, perform

    agent = perform(app, SYSTEM, create_user, "sam@example.com", "a long password 1", "agent", "Sam")
    cid = write_in(client, kiosk["id"], ANA, "hi").json()["conversation_id"]
    r = client.patch(
        f"/api/v1/conversations/{cid}",
        json={"priority": "high", "add_tags": ["Defect", "shoes"], "assignee_id": agent.id},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["priority"], r.json()["tags"], r.json()["assignee_id"]) == (
        "high",
        ["defect", "shoes"],
        agent.id,
    )
    r = client.patch(f"/api/v1/conversations/{cid}", json={"remove_tags": ["shoes"]}, headers=admin)
    assert r.json()["tags"] == ["defect"]
    assert len(audit(app, "conversation.updated")) == 2
    bad = client.patch(f"/api/v1/conversations/{cid}", json={"assignee_id": "usr_nobody"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "assignee_id"
    mine = client.get("/api/v1/conversations?tag=defect&status=open", headers=admin).json()["items"]
    assert [c["id"] for c in mine] == [cid]


def test_merging_conversations_moves_the_messages_and_is_audited(
    client: TestClient, app: App, tokens: dict[str, str], kiosk: dict[str, Any], admin: dict[str, str]
) -> None:
    first = write_in(client, kiosk["id"], ANA, "one").json()["conversation_id"]
    client.patch(f"/api/v1/conversations/{first}", json={"status": "solved"}, headers=admin)
    second = write_in(client, kiosk["id"], ANA, "two").json()["conversation_id"]
    assert first != second
    r = client.post(f"/api/v1/conversations/{second}/merge", json={"other_id": first}, headers=admin)
    assert r.status_code == 200, r.text
    assert [m["text"] for m in r.json()["messages"]] == ["one", "two"]
    old = client.get(f"/api/v1/conversations/{first}", headers=admin).json()
    assert old["merged_into_id"] == second and old["status"] == "closed" and old["messages"] == []
    assert [a.details["merged_id"] for a in audit(app, "conversation.merged")] == [first]
    again = client.post(f"/api/v1/conversations/{second}/merge", json={"other_id": first}, headers=admin)
    assert again.status_code == 409


def test_conversations_of_different_customers_cannot_be_merged_or_share_messages(
    client: TestClient, app: App, kiosk: dict[str, Any], admin: dict[str, str]
) -> None:
    ana = write_in(client, kiosk["id"], ANA, "mine").json()
    bea = write_in(client, kiosk["id"], ("email", "bea@example.com"), "hers").json()
    r = client.post(
        f"/api/v1/conversations/{ana['conversation_id']}/merge",
        json={"other_id": bea["conversation_id"]},
        headers=admin,
    )
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "other_id"
    moved = client.post(
        f"/api/v1/messages/{bea['message_id']}/move",
        json={"conversation_id": ana["conversation_id"]},
        headers=admin,
    )
    assert moved.status_code == 409
    assert rows(app, Message, Message.id == bea["message_id"])[0].conversation_id == bea["conversation_id"]


def test_inbox_lists_page_with_a_cursor_and_sort_by_due_time(
    client: TestClient, app: App, kiosk: dict[str, Any], admin: dict[str, str]
) -> None:
    ids = [
        write_in(client, kiosk["id"], ("email", f"c{i}@example.com"), f"q{i}").json()["conversation_id"]
        for i in range(5)
    ]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/conversations", params=params, headers=admin).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))  # newest first, each once
    now = dt.datetime.now(dt.UTC)
    with app.db.write_session() as s, s.begin():
        for i, cid in enumerate(ids[:3]):
            s.execute(
                update(Conversation)
                .where(Conversation.id == cid)
                .values(next_due_at=now + dt.timedelta(minutes=30 - i * 10))
            )
    due: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, "sort": "due", **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/conversations", params=params, headers=admin).json()
        due += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert due[:3] == [ids[2], ids[1], ids[0]] and set(due[3:]) == set(ids[3:])
    bad = client.get("/api/v1/conversations", params={"cursor": "nonsense"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"


def test_unknown_ids_are_404_naming_the_field(client: TestClient, admin: dict[str, str]) -> None:
    for method, url, body in [
        ("GET", "/api/v1/conversations/cnv_nothing", None),
        ("PATCH", "/api/v1/conversations/cnv_nothing", {"status": "open"}),
        ("POST", "/api/v1/conversations/cnv_nothing/messages", {"text": "x"}),
        ("POST", "/api/v1/conversations", {"customer_id": "cus_nobody"}),
        ("GET", "/api/v1/channels/chn_nothing", None),
        ("GET", "/api/v1/attachments/att_nothing", None),
    ]:
        r = client.request(method, url, json=body, headers=admin)
        assert r.status_code == 404, (url, r.text)
        assert r.json()["errors"][0]["field"]


def test_channel_config_is_checked_and_secrets_are_masked(client: TestClient, admin: dict[str, str]) -> None:
    bad = client.post(
        "/api/v1/channels", json={"type": "api", "name": "k", "config": {"secret": "short"}}, headers=admin
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "config.secret"
    unknown = client.post("/api/v1/channels", json={"type": "pigeon", "name": "k"}, headers=admin)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "type"
    ok = client.post(
        "/api/v1/channels", json={"type": "api", "name": "k", "config": {"secret": SECRET}}, headers=admin
    ).json()
    assert ok["config"]["secret"] == "••••" + SECRET[-4:]
    assert ok["webhook_url"].endswith(f"/hooks/{ok['id']}/api")
    off = client.patch(f"/api/v1/channels/{ok['id']}", json={"enabled": False}, headers=admin)
    assert off.json()["enabled"] is False


def test_a_claimed_identity_never_joins_the_owners_open_conversation(
    client: TestClient, app: App, kiosk: dict[str, Any]
) -> None:
    """Someone who only says they are Ana (an email typed into a chat) must not read her case."""
    from amity.channels.base import Address, Inbound
    from amity.channels.inbound import receive

    hers = write_in(client, kiosk["id"], ANA, "my card number changed").json()
    claimed = receive(
        app,
        kiosk["id"],
        Inbound(sender=Address("email", "ana@example.com"), text="hi, it's me", continue_recent=False),
    )
    assert claimed.customer_id == hers["customer_id"]  # the identity still resolves…
    assert claimed.conversation_id != hers["conversation_id"]  # …but the conversation is not handed over


def test_an_auto_reply_does_not_reopen_a_pending_conversation(
    client: TestClient, app: App, kiosk: dict[str, Any], admin: dict[str, str]
) -> None:
    from amity.channels.base import Address, Inbound
    from amity.channels.inbound import receive

    cid = write_in(client, kiosk["id"], ANA, "refund please").json()["conversation_id"]
    reply = {"text": "Sent. Did it arrive?", "note": True, "status": "pending"}
    client.post(f"/api/v1/conversations/{cid}/messages", json=reply, headers=admin)
    [before] = rows(app, Conversation)
    got = receive(
        app,
        kiosk["id"],
        Inbound(sender=Address("email", "ana@example.com"), text="I am on holiday", automated=True),
    )
    assert got.conversation_id == cid
    [conv] = rows(app, Conversation)
    assert conv.status == "pending" and conv.awaiting_reply_since == before.awaiting_reply_since


def test_two_email_channels_cannot_receive_for_one_address(client: TestClient, admin: dict[str, str]) -> None:
    first = {"type": "email", "name": "support", "config": {"address": "help@shop.example"}}
    assert client.post("/api/v1/channels", json=first, headers=admin).status_code == 201
    second = {"type": "email", "name": "copy", "config": {"address": "Help@Shop.example"}}
    r = client.post("/api/v1/channels", json=second, headers=admin)
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "config.address"
    other = client.post(
        "/api/v1/channels", json={**second, "config": {"address": "sales@shop.example"}}, headers=admin
    )
    assert other.status_code == 201
    moved = client.patch(
        f"/api/v1/channels/{other.json()['id']}",
        json={"config": {"address": "help@shop.example"}},
        headers=admin,
    )
    assert moved.status_code == 409
