"""The web chat channel: visitor sessions, the WebSocket protocol, replies in real time, history.

Everything goes through the real doors: sessions over HTTP, frames over a real WebSocket session of
the app (TestClient), replies through the conversations API and the delivery sweep.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import connect as ws_client

from amity.channels.chat.hub import Hub
from amity.config import Settings
from amity.conversations.models import Conversation, Message
from amity.core.actions import App
from amity.core.bus import DomainEvent
from amity.customers.models import Customer, Event
from amity.db import Database
from amity.web.app import build_app, create_app
from tests.conftest import auth
from tests.helpers import ev, identity_owner, one

SHOP = "https://shop.example"
SITE_SECRET = "site-signing-secret-0123456789"


# ---- helpers: what the widget and the customer's website do -------------------------------------
@pytest.fixture
def admin(tokens: dict[str, str]) -> dict[str, str]:
    return auth(tokens["admin"])


@pytest.fixture
def agent(tokens: dict[str, str]) -> dict[str, str]:
    return auth(tokens["agent"])


def make_channel(client: TestClient, admin: dict[str, str], **config: Any) -> dict[str, Any]:
    body = {
        "type": "chat",
        "name": "website chat",
        "config": {
            "allowed_origins": [SHOP],
            "identity_secret": SITE_SECRET,
            "greeting": "Hi! How can we help?",
        }
        | config,
    }
    r = client.post("/api/v1/channels", json=body, headers=admin)
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.fixture
def chat(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    return make_channel(client, admin)


def identity_token(claims: dict[str, Any], secret: str = SITE_SECRET) -> str:
    """As the website's server signs it (docs/channels/chat.md, "Identity tokens")."""
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return payload + "." + hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def session(client: TestClient, channel_id: str, origin: str | None = SHOP, **body: Any) -> Any:
    headers = {"Origin": origin} if origin else {}
    return client.post(f"/hooks/{channel_id}/chat/session", json=body, headers=headers)


def visitor(client: TestClient, channel_id: str, **body: Any) -> dict[str, Any]:
    r = session(client, channel_id, **body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def connect(
    client: TestClient, channel_id: str, token: str, origin: str | None = SHOP
) -> WebSocketTestSession:
    headers = {"Origin": origin} if origin else {}
    return client.websocket_connect(f"/hooks/{channel_id}/chat/ws?token={token}", headers=headers)


def frame(ws: WebSocketTestSession, timeout: float = 5.0) -> dict[str, Any]:
    """The next frame, or TimeoutError after ``timeout``. The TestClient's own receive waits forever,
    which turns a missing frame into a hung test run, so this reads its queue (private) with a limit."""

    async def get() -> Any:
        with anyio.fail_after(timeout):
            return await ws._send_rx.receive()

    msg = ws.portal.call(get)
    ws._raise_on_close(msg)
    return dict(json.loads(msg["text"]))


def nothing_more(ws: WebSocketTestSession, within: float = 0.3) -> None:
    with pytest.raises(TimeoutError):
        frame(ws, within)


def opened(ws: WebSocketTestSession) -> tuple[dict[str, Any], dict[str, Any]]:
    ready, history = frame(ws), frame(ws)
    assert ready["type"] == "ready" and history["type"] == "history"
    return ready, history


def say(ws: WebSocketTestSession, text: str, client_id: str | None = None) -> dict[str, Any]:
    ws.send_json({"type": "message", "text": text, **({"client_id": client_id} if client_id else {})})
    got = frame(ws)
    assert got["type"] == "message", got
    return got


def refused(ws_cm: WebSocketTestSession) -> WebSocketDisconnect:
    with ws_cm as ws, pytest.raises(WebSocketDisconnect) as exc:
        frame(ws)
    return exc.value


def count(app: App, model: Any) -> int:
    with app.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def reply(client: TestClient, agent: dict[str, str], conversation_id: str, text: str, **extra: Any) -> Any:
    r = client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": text, **extra}, headers=agent
    )
    assert r.status_code == 201, r.text
    return r.json()


def message(app: App, message_id: str) -> Message:
    with app.db.read() as s:
        m = s.get(Message, message_id)
        assert m is not None
        return m


# ---- sessions ------------------------------------------------------------------------------------
def test_a_first_visit_opens_a_session_and_stores_nothing(
    client: TestClient, app: App, chat: dict[str, Any]
) -> None:
    r = session(client, chat["id"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["visitor_id"].startswith("vis_") and body["visitor_token"]
    assert (body["verified"], body["resumed"], body["greeting"]) == (False, False, "Hi! How can we help?")
    assert r.headers["access-control-allow-origin"] == SHOP
    assert count(app, Customer) == 0 and count(app, Event) == 0  # page views never fill the customer base


def test_the_stored_visitor_token_renews_the_same_visitor(client: TestClient, chat: dict[str, Any]) -> None:
    first = visitor(client, chat["id"])
    again = visitor(client, chat["id"], visitor_token=first["visitor_token"])
    assert again["visitor_id"] == first["visitor_id"] and again["resumed"] is True


def test_a_tampered_visitor_token_is_refused_naming_it(client: TestClient, chat: dict[str, Any]) -> None:
    token = visitor(client, chat["id"])["visitor_token"]
    r = session(
        client, chat["id"], visitor_token=token[:-3] + ("xyz" if not token.endswith("xyz") else "abc")
    )
    assert r.status_code == 401
    assert r.json()["errors"] == [{"field": "visitor_token", "message": r.json()["message"]}]
    assert r.headers["access-control-allow-origin"] == SHOP  # the widget can read why


def test_a_session_for_an_unknown_channel_or_from_another_site_is_refused(
    client: TestClient, app: App, chat: dict[str, Any]
) -> None:
    r = session(client, "chn_00000000000000000000000000")
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "channel_id"
    r = session(client, chat["id"], origin="https://evil.example")
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "origin"
    assert "access-control-allow-origin" not in r.headers
    assert count(app, Customer) == 0


def test_bad_session_bodies_name_the_field(client: TestClient, chat: dict[str, Any]) -> None:
    r = client.post(f"/hooks/{chat['id']}/chat/session", content=b"{not json", headers={"Origin": SHOP})
    assert r.status_code == 422 and r.headers["access-control-allow-origin"] == SHOP
    r = session(client, chat["id"], visitor_tok="x")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "visitor_tok"
    r = session(client, chat["id"], identity_token="no-dot-here")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "identity_token"


def test_a_preflight_from_an_allowed_site_is_answered_and_others_are_not(
    client: TestClient, chat: dict[str, Any]
) -> None:
    ok = client.options(
        f"/hooks/{chat['id']}/chat/session",
        headers={"Origin": SHOP, "Access-Control-Request-Method": "POST"},
    )
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == SHOP
    assert "POST" in ok.headers["access-control-allow-methods"]
    assert "content-type" in ok.headers["access-control-allow-headers"].lower()
    bad = client.options(f"/hooks/{chat['id']}/chat/session", headers={"Origin": "https://evil.example"})
    assert bad.status_code == 403 and "access-control-allow-origin" not in bad.headers


def test_any_site_may_embed_a_channel_that_allows_star(client: TestClient, admin: dict[str, str]) -> None:
    open_chat = make_channel(client, admin, allowed_origins=["*"])
    assert session(client, open_chat["id"], origin="https://anywhere.example").status_code == 200


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"allowed_origins": []}, "config.allowed_origins"),
        ({"allowed_origins": ["https://shop.example/chat"]}, "config.allowed_origins"),
        ({"allowed_origins": ["*.shop.example"]}, "config.allowed_origins"),
        ({"allowed_origins": [SHOP], "identity_secret": "short"}, "config.identity_secret"),
        ({"allowed_origins": [SHOP], "colour": "red"}, "config.colour"),
    ],
)
def test_a_chat_channel_config_is_checked_field_by_field(
    client: TestClient, admin: dict[str, str], config: dict[str, Any], field: str
) -> None:
    r = client.post("/api/v1/channels", json={"type": "chat", "name": "c", "config": config}, headers=admin)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field


def test_origins_are_kept_as_browsers_send_them_and_the_secret_is_masked(
    client: TestClient, admin: dict[str, str]
) -> None:
    c = make_channel(client, admin, allowed_origins=["HTTPS://Shop.Example:443/", "http://localhost:8080"])
    assert c["config"]["allowed_origins"] == [SHOP, "http://localhost:8080"]
    assert c["config"]["identity_secret"].startswith("••••") and SITE_SECRET not in str(c)
    assert c["reaches"] == ["device"] and c["webhook_url"].endswith(f"/hooks/{c['id']}/chat")


# ---- the socket: a visitor writes ----------------------------------------------------------------
def test_a_visitors_first_message_becomes_a_customer_a_conversation_and_a_message(
    client: TestClient, app: App, chat: dict[str, Any], admin: dict[str, str]
) -> None:
    v = visitor(client, chat["id"])
    with connect(client, chat["id"], v["visitor_token"]) as ws:
        ready, history = opened(ws)
        assert ready == {
            "type": "ready",
            "visitor_id": v["visitor_id"],
            "conversation_id": None,
            "verified": False,
            "greeting": "Hi! How can we help?",
        }
        assert history["messages"] == []
        got = say(ws, "Do you have the Aurora in size 6.5?", client_id="c-1")
    assert (got["direction"], got["author_type"], got["client_id"]) == ("in", "customer", "c-1")
    assert got["text"] == "Do you have the Aurora in size 6.5?" and got["created_at"]
    owner = identity_owner(app, "device", f"chat-{v['visitor_id']}")
    assert owner is not None
    conv = client.get(f"/api/v1/conversations/{got['conversation_id']}", headers=admin).json()
    assert conv["customer_id"] == owner and conv["last_channel_id"] == chat["id"]
    [m] = conv["messages"]
    assert (m["id"], m["channel_type"], m["address"]) == (
        got["id"],
        "chat",
        {"type": "device", "value": f"chat-{v['visitor_id']}"},
    )
    assert m["meta"]["chat"] == {"visitor_id": v["visitor_id"], "verified": False}


def test_a_resent_client_id_is_stored_once(client: TestClient, app: App, chat: dict[str, Any]) -> None:
    v = visitor(client, chat["id"])
    with connect(client, chat["id"], v["visitor_token"]) as ws:
        opened(ws)
        first = say(ws, "hello?", client_id="m-1")
        again = say(ws, "hello?", client_id="m-1")  # the widget lost the answer and sent it again
        assert again == first
        nothing_more(ws)
    assert count(app, Message) == 1


def test_two_visitors_may_use_the_same_client_ids(client: TestClient, app: App, chat: dict[str, Any]) -> None:
    for _ in range(2):
        v = visitor(client, chat["id"])
        with connect(client, chat["id"], v["visitor_token"]) as ws:
            opened(ws)
            say(ws, "hi", client_id="1")
    assert count(app, Message) == 2 and count(app, Conversation) == 2


def test_every_open_tab_of_the_visitor_sees_what_they_wrote(client: TestClient, chat: dict[str, Any]) -> None:
    v = visitor(client, chat["id"])
    with (
        connect(client, chat["id"], v["visitor_token"]) as tab1,
        connect(client, chat["id"], v["visitor_token"]) as tab2,
    ):
        opened(tab1)
        opened(tab2)
        mine = say(tab1, "from tab one", client_id="t1")
        assert frame(tab2) == mine


def test_bad_frames_are_answered_with_an_error_naming_the_field_and_the_socket_stays_open(
    client: TestClient, app: App, chat: dict[str, Any]
) -> None:
    v = visitor(client, chat["id"])
    with connect(client, chat["id"], v["visitor_token"]) as ws:
        opened(ws)
        cases: list[tuple[Any, str]] = [
            ("{nope", "frame"),
            ([1, 2], "type"),
            ({"type": "shout"}, "type"),
            ({"type": "message"}, "text"),
            ({"type": "message", "text": "   ", "client_id": "c-9"}, "text"),
            ({"type": "message", "text": "x" * 10_001}, "text"),
            ({"type": "message", "text": "hi", "client_id": "has spaces"}, "client_id"),
            ({"type": "message", "text": "hi", "extra": 1}, "extra"),
            ({"type": "message", "text": "a\x00b"}, "text"),
            ({"type": "identify", "email": "not an email"}, "email"),
            ({"type": "identify"}, "email"),
        ]
        for sent, field in cases:
            ws.send_text(sent if isinstance(sent, str) else json.dumps(sent))
            got = frame(ws)
            assert got["type"] == "error" and got["field"] == field, (sent, got)
            assert got["message"]
        ws.send_bytes(b"{}")
        assert frame(ws)["field"] == "frame"
        ws.send_json({"type": "message", "text": "   ", "client_id": "c-9"})
        assert frame(ws)["client_id"] == "c-9"  # the widget knows which message failed
        say(ws, "still here")
    assert count(app, Message) == 1


def test_typing_is_told_to_the_console_and_stores_nothing(
    client: TestClient, app: App, chat: dict[str, Any]
) -> None:
    seen: list[DomainEvent] = []
    app.bus.subscribe("conversation.typing", seen.append)
    v = visitor(client, chat["id"])
    with connect(client, chat["id"], v["visitor_token"]) as ws:
        opened(ws)
        ws.send_json({"type": "typing"})  # before any conversation: nobody to tell
        first = say(ws, "hi")
        before = count(app, Event)
        for _ in range(3):
            ws.send_json({"type": "typing"})  # a burst is told once
        ws.send_json({"type": "history"})
        frame(ws)
    assert [e.data for e in seen] == [
        {
            "conversation_id": first["conversation_id"],
            "channel_id": chat["id"],
            "visitor_id": v["visitor_id"],
            "author_type": "customer",
        }
    ]
    assert count(app, Event) == before


# ---- the socket: replies in real time ------------------------------------------------------------
def test_an_agents_reply_reaches_the_visitors_open_socket(
    client: TestClient, app: App, chat: dict[str, Any], agent: dict[str, str]
) -> None:
    v = visitor(client, chat["id"])
    with connect(client, chat["id"], v["visitor_token"]) as ws:
        opened(ws)
        mine = say(ws, "Is the Aurora in stock?", client_id="c-1")
        sent = reply(client, agent, mine["conversation_id"], "Yes, in Leeds: size 6.5.", html="<p>Yes</p>")
        assert app.cache["jobs"].sweep() == 1
        got = frame(ws)
    assert got == {
        "type": "message",
        "id": sent["id"],
        "conversation_id": mine["conversation_id"],
        "direction": "out",
        "author_type": "agent",
        "text": "Yes, in Leeds: size 6.5.",
        "html": "<p>Yes</p>",
        "created_at": got["created_at"],
    }
    m = message(app, sent["id"])
    assert m.delivery_status == "delivered" and m.delivered_at is not None


def test_a_reply_with_no_socket_open_is_sent_and_waits_in_the_history(
    client: TestClient, app: App, chat: dict[str, Any], agent: dict[str, str]
) -> None:
    v = visitor(client, chat["id"])
    with connect(client, chat["id"], v["visitor_token"]) as ws:
        opened(ws)
        mine = say(ws, "Call me back?")
    sent = reply(client, agent, mine["conversation_id"], "We will, tomorrow at 10.")
    app.cache["jobs"].sweep()
    m = message(app, sent["id"])
    assert m.delivery_status == "sent" and m.delivered_at is None
    with connect(client, chat["id"], v["visitor_token"]) as ws:
        ready, history = opened(ws)
    assert ready["conversation_id"] == mine["conversation_id"]
    assert [x["id"] for x in history["messages"]] == [mine["id"], sent["id"]]
    r = client.get(
        f"/hooks/{chat['id']}/chat/messages", params={"token": v["visitor_token"]}, headers={"Origin": SHOP}
    )
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == SHOP
    assert r.json()["messages"] == history["messages"]
    assert r.json()["conversation_id"] == mine["conversation_id"]


def test_a_reply_to_someone_who_is_not_a_chat_visitor_fails_for_good(
    client: TestClient, app: App, chat: dict[str, Any], agent: dict[str, str], admin: dict[str, str]
) -> None:
    cid = one(app, ev("device.registered", "device:thermostat-42"))
    r = client.post(
        "/api/v1/conversations",
        json={"customer_id": cid, "subject": "hi", "message": {"text": "Hello", "channel_id": chat["id"]}},
        headers=agent,
    )
    assert r.status_code == 201, r.text
    [out] = r.json()["messages"]
    app.cache["jobs"].sweep()
    m = message(app, out["id"])
    assert m.delivery_status == "failed" and "not a chat visitor" in (m.delivery_error or "")


def test_reconnecting_with_the_same_token_resumes_the_same_conversation(
    client: TestClient, chat: dict[str, Any], agent: dict[str, str]
) -> None:
    v = visitor(client, chat["id"])
    with connect(client, chat["id"], v["visitor_token"]) as ws:
        opened(ws)
        first = say(ws, "My order has not arrived", client_id="a")
    renewed = visitor(client, chat["id"], visitor_token=v["visitor_token"])  # the next page load
    with connect(client, chat["id"], renewed["visitor_token"]) as ws:
        ready, history = opened(ws)
        assert ready["conversation_id"] == first["conversation_id"]
        assert history["messages"] == [{k: x for k, x in first.items() if k != "type"}]
        second = say(ws, "It is order 1042", client_id="b")
    assert second["conversation_id"] == first["conversation_id"]


def test_a_solved_chat_continues_but_a_closed_one_opens_a_follow_up(
    client: TestClient, app: App, chat: dict[str, Any], agent: dict[str, str], admin: dict[str, str]
) -> None:
    v = visitor(client, chat["id"])
    with connect(client, chat["id"], v["visitor_token"]) as ws:
        opened(ws)
        first = say(ws, "Where is my parcel?")
        conv = first["conversation_id"]
        client.patch(f"/api/v1/conversations/{conv}", json={"status": "solved"}, headers=agent)
        assert say(ws, "Thanks, found it")["conversation_id"] == conv
        client.patch(f"/api/v1/conversations/{conv}", json={"status": "solved"}, headers=agent)
        client.patch(f"/api/v1/conversations/{conv}", json={"status": "closed"}, headers=agent)
        later = say(ws, "Another question")
    assert later["conversation_id"] != conv
    links = client.get(f"/api/v1/conversations/{later['conversation_id']}", headers=admin).json()["links"]
    assert links == [{"type": "follow_up_of", "conversation_id": conv}]


# ---- history never shows what the visitor must not see ------------------------------------------
def test_history_never_includes_internal_notes(
    client: TestClient, app: App, chat: dict[str, Any], agent: dict[str, str]
) -> None:
    v = visitor(client, chat["id"])
    with connect(client, chat["id"], v["visitor_token"]) as ws:
        opened(ws)
        mine = say(ws, "Can I return worn shoes?")
        note = reply(
            client, agent, mine["conversation_id"], "VIP: allow it, do not mention policy", note=True
        )
        answer = reply(client, agent, mine["conversation_id"], "Yes, within 30 days.")
        app.cache["jobs"].sweep()
        assert frame(ws)["id"] == answer["id"]
        nothing_more(ws)  # the note was never pushed
        ws.send_json({"type": "history"})
        history = frame(ws)
    ids = [m["id"] for m in history["messages"]]
    assert ids == [mine["id"], answer["id"]] and note["id"] not in ids
    r = client.get(f"/hooks/{chat['id']}/chat/messages", params={"token": v["visitor_token"]})
    assert [m["id"] for m in r.json()["messages"]] == ids
    assert "VIP" not in r.text


def test_history_of_one_channel_is_not_shown_on_another(
    client: TestClient, admin: dict[str, str], chat: dict[str, Any]
) -> None:
    other = make_channel(client, admin)
    v = visitor(client, chat["id"])
    with connect(client, chat["id"], v["visitor_token"]) as ws:
        opened(ws)
        say(ws, "hello")
    # A token opens only the channel (brand) it was issued for.
    exc = refused(connect(client, other["id"], v["visitor_token"]))
    assert (exc.code, exc.reason) == (1008, "invalid visitor token")
    r = client.get(f"/hooks/{other['id']}/chat/messages", params={"token": v["visitor_token"]})
    assert r.status_code == 401 and r.json()["errors"][0]["field"] == "token"


# ---- who the visitor is ----------------------------------------------------------------------------
def test_a_visitor_the_website_vouches_for_lands_on_the_existing_customer(
    client: TestClient, app: App, chat: dict[str, Any], admin: dict[str, str]
) -> None:
    ana = one(app, ev("order.placed", "email:ana@example.com"))
    token = identity_token(
        {"email": "Ana@Example.com", "external_id": "shop-77", "name": "Ana Silva", "exp": time.time() + 300}
    )
    v = visitor(client, chat["id"], identity_token=token)
    assert v["verified"] is True
    assert identity_owner(app, "device", f"chat-{v['visitor_id']}") == ana  # linked at once
    assert identity_owner(app, "external:site", "shop-77") == ana
    with connect(client, chat["id"], v["visitor_token"]) as ws:
        ready, _ = opened(ws)
        assert ready["verified"] is True
        got = say(ws, "Hi, it's Ana")
    conv = client.get(f"/api/v1/conversations/{got['conversation_id']}", headers=admin).json()
    assert conv["customer_id"] == ana and conv["customer"]["name"] == "Ana Silva"
    # Every page load sends the same identity token again: linked once.
    before = count(app, Event)
    visitor(client, chat["id"], visitor_token=v["visitor_token"], identity_token=token)
    assert count(app, Event) == before


def test_a_verified_customer_is_one_visitor_in_every_browser(
    client: TestClient, app: App, chat: dict[str, Any], agent: dict[str, str]
) -> None:
    claims = {"external_id": "shop-77", "exp": time.time() + 300}
    laptop = visitor(client, chat["id"], identity_token=identity_token(claims))
    with connect(client, chat["id"], laptop["visitor_token"]) as ws:
        opened(ws)
        said = say(ws, "from the laptop")
    phone = visitor(client, chat["id"], identity_token=identity_token(claims))  # no stored token
    assert phone["visitor_id"] == laptop["visitor_id"] and phone["resumed"] is False
    with (
        connect(client, chat["id"], phone["visitor_token"]) as on_phone,
        connect(client, chat["id"], laptop["visitor_token"]) as on_laptop,
    ):
        ready, history = opened(on_phone)
        opened(on_laptop)
        assert ready["conversation_id"] == said["conversation_id"]
        assert [m["id"] for m in history["messages"]] == [said["id"]]
        sent = reply(client, agent, said["conversation_id"], "Hello on both screens")
        app.cache["jobs"].sweep()
        assert frame(on_phone)["id"] == frame(on_laptop)["id"] == sent["id"]


@pytest.mark.parametrize(
    ("make", "status", "field"),
    [
        (
            lambda: identity_token(
                {"email": "ana@example.com", "exp": time.time() + 300}, "wrong-secret-0123456789"
            ),
            401,
            "identity_token",
        ),
        (
            lambda: identity_token({"email": "ana@example.com", "exp": time.time() - 1}),
            401,
            "identity_token.exp",
        ),
        (lambda: identity_token({"email": "ana@example.com"}), 422, "identity_token.exp"),
        (lambda: identity_token({"email": "ana@example.com", "exp": "tomorrow"}), 422, "identity_token.exp"),
        (lambda: identity_token({"name": "Ana", "exp": time.time() + 300}), 422, "identity_token"),
        (
            lambda: identity_token({"email": "not-an-email", "exp": time.time() + 300}),
            422,
            "identity_token.email",
        ),
        (
            lambda: identity_token({"external_id": "anonymous", "exp": time.time() + 300}),
            422,
            "identity_token.external_id",
        ),
        (
            lambda: identity_token({"email": "ana@example.com", "exp": time.time() + 300}) + "00",
            401,
            "identity_token",
        ),
        (
            lambda: (
                "bm90IGpzb24." + hmac.new(SITE_SECRET.encode(), b"bm90IGpzb24", hashlib.sha256).hexdigest()
            ),
            422,
            "identity_token",
        ),
    ],
    ids=[
        "wrong secret",
        "expired",
        "no exp",
        "exp not a number",
        "nobody named",
        "bad email",
        "placeholder",
        "signature altered",
        "not json",
    ],
)
def test_a_forged_expired_or_malformed_identity_token_is_refused_and_nothing_stored(
    client: TestClient, app: App, chat: dict[str, Any], make: Any, status: int, field: str
) -> None:
    r = session(client, chat["id"], identity_token=make())
    assert r.status_code == status, r.text
    assert r.json()["errors"][0]["field"] == field
    assert count(app, Customer) == 0


def test_a_channel_without_an_identity_secret_accepts_no_identity_token(
    client: TestClient, admin: dict[str, str]
) -> None:
    plain = make_channel(client, admin, identity_secret=None)
    r = session(
        client,
        plain["id"],
        identity_token=identity_token({"email": "a@example.com", "exp": time.time() + 60}),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "identity_token"


def test_signing_in_carries_the_chat_over_and_signing_out_starts_a_new_visitor(
    client: TestClient, app: App, chat: dict[str, Any]
) -> None:
    anon = visitor(client, chat["id"])
    with connect(client, chat["id"], anon["visitor_token"]) as ws:
        opened(ws)
        before = say(ws, "asked before signing in")
    token = identity_token({"email": "ana@example.com", "exp": time.time() + 300})
    signed_in = visitor(client, chat["id"], visitor_token=anon["visitor_token"], identity_token=token)
    assert signed_in["verified"] is True and signed_in["visitor_id"] != anon["visitor_id"]
    ana = identity_owner(app, "email", "ana@example.com")
    assert ana is not None and identity_owner(app, "device", f"chat-{anon['visitor_id']}") == ana
    with connect(client, chat["id"], signed_in["visitor_token"]) as ws:
        ready, history = opened(ws)
        assert ready["verified"] is True and ready["conversation_id"] == before["conversation_id"]
        assert [m["id"] for m in history["messages"]] == [before["id"]]
        assert say(ws, "now signed in")["conversation_id"] == before["conversation_id"]
    again = visitor(client, chat["id"], visitor_token=signed_in["visitor_token"], identity_token=token)
    assert again["visitor_id"] == signed_in["visitor_id"] and again["resumed"] is True
    # Signed out (no identity token), or signed in as someone else: the next person starts afresh.
    signed_out = visitor(client, chat["id"], visitor_token=signed_in["visitor_token"])
    assert signed_out["verified"] is False and signed_out["resumed"] is False
    assert signed_out["visitor_id"] not in (anon["visitor_id"], signed_in["visitor_id"])
    other = identity_token({"email": "bo@example.com", "exp": time.time() + 300})
    someone_else = visitor(client, chat["id"], visitor_token=signed_in["visitor_token"], identity_token=other)
    assert someone_else["visitor_id"] not in (
        anon["visitor_id"],
        signed_in["visitor_id"],
        signed_out["visitor_id"],
    )
    for token_after in (signed_out["visitor_token"], someone_else["visitor_token"]):
        with connect(client, chat["id"], token_after) as ws:
            _, history = opened(ws)
        assert history["messages"] == []


def test_an_email_given_in_the_chat_links_the_visitor_to_that_customer(
    client: TestClient, app: App, chat: dict[str, Any], admin: dict[str, str]
) -> None:
    ana = one(app, ev("order.placed", "email:ana@example.com"))
    v = visitor(client, chat["id"])
    with connect(client, chat["id"], v["visitor_token"]) as ws:
        opened(ws)
        first = say(ws, "my shoes are too small")
        ws.send_json({"type": "identify", "email": " Ana@Example.COM ", "name": "Ana"})
        assert frame(ws) == {"type": "identified", "email": "ana@example.com"}
        second = say(ws, "can I swap them?")
    assert second["conversation_id"] == first["conversation_id"]
    conv = client.get(f"/api/v1/conversations/{first['conversation_id']}", headers=admin).json()
    assert conv["customer"]["id"] == ana  # the visitor's profile was merged into Ana's
    assert identity_owner(app, "device", f"chat-{v['visitor_id']}") == ana


def test_an_email_claimed_in_the_chat_does_not_open_that_customers_history(
    client: TestClient, app: App, chat: dict[str, Any]
) -> None:
    real = visitor(
        client,
        chat["id"],
        identity_token=identity_token({"email": "ana@example.com", "exp": time.time() + 300}),
    )
    with connect(client, chat["id"], real["visitor_token"]) as ws:
        opened(ws)
        private = say(ws, "my address is 1 Secret Lane")
    stranger = visitor(client, chat["id"])
    with connect(client, chat["id"], stranger["visitor_token"]) as ws:
        opened(ws)
        ws.send_json({"type": "identify", "email": "ana@example.com"})
        assert frame(ws)["type"] == "identified"  # the same answer whether or not the email is known
        ws.send_json({"type": "history"})
        history = frame(ws)
    assert history["messages"] == [] and private["id"] not in json.dumps(history)


# ---- refusals at the door: nothing is stored -----------------------------------------------------
def test_a_forged_visitor_token_is_closed_with_1008_and_nothing_stored(
    client: TestClient, app: App, chat: dict[str, Any]
) -> None:
    from itsdangerous import URLSafeTimedSerializer

    real = visitor(client, chat["id"])["visitor_token"]
    forged = URLSafeTimedSerializer("not-the-secret", salt="amity.chat.visitor").dumps(
        {"c": chat["id"], "v": "vis_" + "0" * 26, "i": None}
    )
    for token in (forged, real[:-2] + ("AA" if not real.endswith("AA") else "BB"), "", "%00"):
        exc = refused(connect(client, chat["id"], token))
        assert (exc.code, exc.reason) == (1008, "invalid visitor token"), token
    assert count(app, Customer) == count(app, Message) == count(app, Event) == 0


def test_a_browser_on_a_site_not_allowed_is_closed_with_1008(
    client: TestClient, app: App, chat: dict[str, Any]
) -> None:
    token = visitor(client, chat["id"])["visitor_token"]
    for origin in ("https://evil.example", "http://shop.example", "https://shop.example:8443", "null"):
        exc = refused(connect(client, chat["id"], token, origin=origin))
        assert (exc.code, exc.reason) == (1008, "origin not allowed"), origin
    assert count(app, Customer) == 0


def test_an_unknown_or_disabled_channel_is_closed_with_1008(
    client: TestClient, app: App, chat: dict[str, Any], admin: dict[str, str]
) -> None:
    token = visitor(client, chat["id"])["visitor_token"]
    for channel_id in ("chn_00000000000000000000000000", "x" * 500):
        exc = refused(connect(client, channel_id, token))
        assert (exc.code, exc.reason) == (1008, "unknown channel")
    api = client.post(
        "/api/v1/channels", json={"type": "api", "name": "k", "config": {"secret": "s" * 20}}, headers=admin
    ).json()
    assert refused(connect(client, api["id"], token)).reason == "unknown channel"  # not a chat channel
    with connect(client, chat["id"], token) as ws:
        opened(ws)
        client.patch(f"/api/v1/channels/{chat['id']}", json={"enabled": False}, headers=admin)
        ws.send_json({"type": "message", "text": "hello?", "client_id": "late"})
        assert frame(ws) == {
            "type": "error",
            "field": "channel_id",
            "message": "channel 'website chat' is disabled",
            "client_id": "late",
        }
    assert refused(connect(client, chat["id"], token)).reason == "channel disabled"
    assert session(client, chat["id"], visitor_token=token).status_code == 409
    assert count(app, Customer) == 0


# ---- more than one web process ---------------------------------------------------------------------
def _redis_url() -> str:
    url = "redis://127.0.0.1:6379/0"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except Exception as exc:
        pytest.skip(f"Redis at {url} is unreachable: {exc}")
    return url


@pytest.fixture
def two_processes(app: App, database: Database, settings: Settings) -> Iterator[tuple[App, App]]:
    """Two web processes on one database, their chat hubs joined through Redis (on a test-only prefix,
    so nothing else listening on that Redis sees these frames)."""
    url = _redis_url()
    prefix = f"amity:chat:test-{uuid.uuid4().hex[:8]}:"
    other = build_app(settings, database)
    hubs = [Hub(url, prefix), Hub(url, prefix)]
    app.cache["chat_hub"], other.cache["chat_hub"] = hubs
    yield app, other
    for hub in hubs:
        hub.close()


def test_a_reply_sent_by_another_process_reaches_the_socket_through_redis(
    two_processes: tuple[App, App], admin: dict[str, str], agent: dict[str, str]
) -> None:
    web, worker = two_processes
    with TestClient(create_app(web)) as client, TestClient(create_app(worker)) as other_client:
        chat = make_channel(client, admin)
        v = visitor(client, chat["id"])
        with connect(client, chat["id"], v["visitor_token"]) as ws:
            opened(ws)
            mine = say(ws, "anyone there?")
            sent = reply(other_client, agent, mine["conversation_id"], "Here!")
            assert worker.cache["jobs"].sweep() == 1  # delivered by the other process
            got = frame(ws)
            assert (got["id"], got["text"]) == (sent["id"], "Here!")
        assert message(web, sent["id"]).delivery_status == "delivered"
        late = reply(other_client, agent, mine["conversation_id"], "Still there?")
        worker.cache["jobs"].sweep()
        assert message(web, late["id"]).delivery_status == "sent"  # no process holds a socket now


# ---- a real server and a real WebSocket client over loopback ---------------------------------------
@pytest.fixture
def served(app: App) -> Iterator[str]:
    """The app under uvicorn, as ``amity serve`` runs it, on a free loopback port."""
    server = uvicorn.Server(uvicorn.Config(create_app(app), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_a_real_browser_style_client_chats_and_a_refusal_reaches_it_as_1008(
    served: str, client: TestClient, app: App, chat: dict[str, Any], agent: dict[str, str]
) -> None:
    v = visitor(client, chat["id"])
    url = f"ws://{served}/hooks/{chat['id']}/chat/ws?token={v['visitor_token']}"
    with ws_client(url, origin=SHOP, proxy=None, open_timeout=5) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "ready"
        assert json.loads(ws.recv(timeout=5))["type"] == "history"
        ws.send(json.dumps({"type": "message", "text": "over a real socket", "client_id": "r-1"}))
        mine = json.loads(ws.recv(timeout=5))
        assert mine["client_id"] == "r-1"
        sent = reply(client, agent, mine["conversation_id"], "answered in real time")
        app.cache["jobs"].sweep()
        got = json.loads(ws.recv(timeout=5))
        assert (got["id"], got["direction"]) == (sent["id"], "out")
    assert message(app, sent["id"]).delivery_status == "delivered"
    with (
        ws_client(url, origin="https://evil.example", proxy=None, open_timeout=5) as ws,
        pytest.raises(ConnectionClosedError) as exc,
    ):
        ws.recv(timeout=5)
    assert exc.value.rcvd is not None
    assert (exc.value.rcvd.code, exc.value.rcvd.reason) == (1008, "origin not allowed")
