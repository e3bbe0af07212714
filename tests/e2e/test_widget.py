"""The chat widget in a real browser, embedded on another site, against a live Amity.

A shop page is served from a different origin (its own little HTTP server on another loopback port)
with a strict Content-Security-Policy of its own: no inline script, no inline style. It embeds
``/widget.js`` from Amity with one script tag, as docs/widget.md says. Runs on SQLite and, with
AMITY_TEST_DATABASE_URL, PostgreSQL (the ``database`` fixture of tests/conftest.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import itertools
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from json import dumps, loads
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Locator, Page, WebSocketRoute, expect
from sqlalchemy import select

from amity.accounts.actions import create_token
from amity.config import Settings
from amity.conversations.models import Message
from amity.core.actions import SYSTEM, App, perform
from amity.db import Database
from amity.web.app import build_app, create_app
from tests.conftest import auth, reset
from tests.helpers import identity_owner

pytestmark = pytest.mark.e2e

KEY_PREFIX = "amity.chat."
SITE_SECRET = "site-signing-secret-0123456789"


# ---- a live Amity and a shop on another origin ---------------------------------------------------
@dataclass
class Amity:
    app: App
    url: str
    admin: dict[str, str]
    agent: dict[str, str]
    serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def api(self, method: str, path: str, headers: dict[str, str], json: dict[str, Any]) -> Any:
        """The API over real HTTP, as an integration or the console would call it."""
        request = urllib.request.Request(  # noqa: S310 (http to our own live server)
            self.url + path,
            data=dumps(json).encode(),
            method=method,
            headers={**headers, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310
            return loads(r.read())


def _serve(server: uvicorn.Server) -> threading.Thread:
    thread = threading.Thread(target=server.run, name="amity-widget-e2e", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the e2e server did not start")
        time.sleep(0.01)
    return thread


@pytest.fixture(scope="module")
def amity(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Amity]:
    reset(database)
    home = tmp_path_factory.mktemp("widget-e2e")
    app = build_app(Settings(home=home, secret_key="widget-e2e-secret-not-for-production"), database)
    config = uvicorn.Config(
        create_app(app), host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = _serve(server)
    port = server.servers[0].sockets[0].getsockname()[1]
    admin = auth(perform(app, SYSTEM, create_token, "widget-e2e-admin", "admin"))
    agent = auth(perform(app, SYSTEM, create_token, "widget-e2e-agent", "agent"))
    yield Amity(app, f"http://127.0.0.1:{port}", admin, agent)
    server.should_exit = True
    thread.join(timeout=10)


SHOP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shoebox — Trail runners</title>
<link rel="stylesheet" href="/shop.css"></head>
<body><header><strong>Shoebox</strong> · Trail runners · Sizes 3 to 9</header>
<main><h1>Aurora trail runner</h1><p>Light, grippy, made for wet rock. Runs a half size small.</p>
<p><a id="ask" href="#help" data-amity-open data-amity-message="About the Aurora: ">Ask about this shoe</a></p></main>
<script src="{amity}/widget.js" data-channel="{channel}"{extra} async></script>
</body></html>"""

SHOP_CSS = """body { font: 16px/1.5 Georgia, serif; margin: 0; background: #fbf7f0; color: #2b2118; }
header { background: #2b2118; color: #fbf7f0; padding: 14px 24px; }
main { padding: 24px; max-width: 640px; }
h1 { font-size: 30px; margin: 8px 0; }"""


@dataclass
class Shop:
    origin: str

    def page_url(self, channel_id: str, **attrs: str) -> str:
        return f"{self.origin}/shop/{channel_id}" + (f"?{urlencode(attrs)}" if attrs else "")


@pytest.fixture(scope="module")
def shop(amity: Amity) -> Iterator[Shop]:
    amity_ws = amity.url.replace("http://", "ws://")
    # The shop's own CSP allows scripts and connections to Amity and nothing inline: the widget must
    # work on a site that locks itself down.
    csp = (
        f"default-src 'self'; script-src 'self' {amity.url}; connect-src {amity.url} {amity_ws}; "
        "style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'"
    )

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/favicon.ico":
                self.send_response(204)
                self.end_headers()
                return
            if url.path == "/shop.css":
                self._answer(SHOP_CSS, "text/css")
                return
            match = re.fullmatch(r"/shop/([A-Za-z0-9_]+)", url.path)
            if not match:
                self.send_error(404)
                return
            extra = "".join(
                f' data-{html.escape(k)}="{html.escape(v[0])}"' for k, v in parse_qs(url.query).items()
            )
            self._answer(SHOP_PAGE.format(amity=amity.url, channel=match.group(1), extra=extra), "text/html")

        def _answer(self, body: str, kind: str) -> None:
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Security-Policy", csp)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="shop-e2e", daemon=True)
    thread.start()
    yield Shop(f"http://127.0.0.1:{server.server_address[1]}")
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def chat(amity: Amity, shop: Shop) -> dict[str, Any]:
    """A branded chat channel that allows the shop's origin (and only it)."""
    n = next(amity.serial)  # brand names are unique: "Shoebox", "Shoebox 2", …
    brand = amity.api(
        "POST",
        "/api/v1/brands",
        amity.admin,
        json={"name": "Shoebox" if n == 1 else f"Shoebox {n}", "colours": {"primary": "#0f766e"}},
    )
    body = {
        "type": "chat",
        "name": f"shop chat {n}",
        "config": {
            "allowed_origins": [shop.origin],
            "greeting": "Hi! How can we help?",
            "brand_id": brand["id"],
        },
    }
    channel: dict[str, Any] = amity.api("POST", "/api/v1/channels", amity.admin, json=body)
    channel["brand_name"] = brand["name"]
    return channel


@pytest.fixture
def contexts(browser: Browser) -> Iterator[Callable[[], BrowserContext]]:
    opened: list[BrowserContext] = []

    def new() -> BrowserContext:
        ctx = browser.new_context(viewport={"width": 1100, "height": 760}, locale="en-GB")
        opened.append(ctx)
        return ctx

    yield new
    for ctx in opened:
        ctx.close()


def watch_console(page: Page) -> list[str]:
    """Errors the page logged: a CSP refusal (inline style, a blocked connection) shows up here."""
    errors: list[str] = []

    def seen(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            errors.append(msg.text)

    page.on("console", seen)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


# ---- helpers: what a visitor does ----------------------------------------------------------------
def launcher(page: Page) -> Locator:
    return page.get_by_role("button", name=re.compile(r"^(Open|Close) chat: "))


def open_chat(page: Page) -> Locator:
    launcher(page).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    return dialog


def write(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")
    # Acknowledged: the bubble carries the stored message's id (it is no longer pending).
    expect(page.locator("li.msg.in[data-id]", has_text=text)).to_have_count(1)


def stored(app: App, text: str) -> Message:
    with app.db.read() as s:
        found = s.scalars(select(Message).where(Message.text == text)).all()
    assert len(found) == 1, f"{text!r} stored {len(found)} times"
    return found[0]


def agent_replies(amity: Amity, conversation_id: str, text: str) -> str:
    sent = amity.api(
        "POST", f"/api/v1/conversations/{conversation_id}/messages", amity.agent, json={"text": text}
    )
    assert amity.app.cache["jobs"].sweep() >= 1  # what the worker does, done here so the test is exact
    return str(sent["id"])


def visitor_token(page: Page, channel_id: str) -> str | None:
    value = page.evaluate(f"localStorage.getItem('{KEY_PREFIX}{channel_id}.visitor_token')")
    return str(value) if value else None


# ---- the stories ---------------------------------------------------------------------------------
def test_a_visitor_chats_from_another_site_and_the_agents_reply_appears_live(
    amity: Amity, shop: Shop, chat: dict[str, Any], contexts: Callable[[], BrowserContext]
) -> None:
    page = contexts().new_page()
    errors = watch_console(page)
    page.goto(shop.page_url(chat["id"]))
    expect(launcher(page)).to_have_attribute("aria-expanded", "false")
    expect(launcher(page)).to_have_accessible_name(f"Open chat: {chat['brand_name']}")

    dialog = open_chat(page)
    expect(launcher(page)).to_have_attribute("aria-expanded", "true")
    expect(dialog.get_by_role("heading", name=chat["brand_name"])).to_be_visible()
    expect(dialog.get_by_role("log")).to_contain_text("Hi! How can we help?")
    expect(page.get_by_role("textbox", name="Message")).to_be_focused()  # focus moves into the chat

    write(page, "Do you have the Aurora in size 6.5?")
    mine = stored(amity.app, "Do you have the Aurora in size 6.5?")
    assert (mine.direction, mine.author_type) == ("in", "customer")
    visitor_id = mine.meta["chat"]["visitor_id"]
    assert mine.meta["chat"] == {"visitor_id": visitor_id, "verified": False}
    assert identity_owner(amity.app, "device", f"chat-{visitor_id}") is not None

    # The transcript is a live region: bubbles already shown are kept, not rebuilt (a rebuilt log is
    # read out again from the top by screen readers). A mark on the visitor's bubble must survive.
    page.locator(f"li[data-id='{mine.id}']").evaluate("li => li.setAttribute('data-probe', 'kept')")
    reply_id = agent_replies(amity, mine.conversation_id, "Yes! Porto has a 6.5 in stock.")
    reply = page.locator(f"li.msg.out[data-id='{reply_id}']")
    expect(reply).to_contain_text("Yes! Porto has a 6.5 in stock.")
    expect(reply).to_contain_text("Agent")
    expect(page.locator(f"li[data-id='{mine.id}']")).to_have_attribute("data-probe", "kept")
    with amity.app.db.read() as s:
        delivered = s.get(Message, reply_id)
        assert delivered is not None and delivered.delivery_status == "delivered"

    # The launcher wears the brand colour, with text that reads on it (computed inside the shadow root).
    colour = launcher(page).evaluate("b => getComputedStyle(b).backgroundColor")
    assert colour == "rgb(15, 118, 110)"
    # Keyboard: Escape closes the dialog and focus goes back to the launcher.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher(page)).to_be_focused()
    assert errors == [], errors  # no CSP refusal on a site that forbids inline styles and scripts


def test_after_a_reload_the_same_visitor_and_transcript_are_back_and_each_message_shows_once(
    amity: Amity, shop: Shop, chat: dict[str, Any], contexts: Callable[[], BrowserContext]
) -> None:
    page = contexts().new_page()
    page.goto(shop.page_url(chat["id"]))
    open_chat(page)
    write(page, "Is the Aurora waterproof?")
    first = stored(amity.app, "Is the Aurora waterproof?")
    token = visitor_token(page, chat["id"])
    assert token

    page.goto("about:blank")  # the visitor goes away; the reply waits in the history
    reply_id = agent_replies(amity, first.conversation_id, "It is water-resistant, not waterproof.")

    # From now on every frame from Amity reaches the page twice, as a delivery retried after a worker
    # crash would: the widget must still show one copy per message id.
    def doubled(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_server(message: str | bytes) -> None:
            ws.send(message)
            ws.send(message)

        server.on_message(from_server)
        ws.on_message(server.send)

    page.route_web_socket(re.compile(r"/chat/ws"), doubled)
    page.goto(shop.page_url(chat["id"]))
    # A returning visitor is connected without opening the chat, and the reply that came while they
    # were away is counted on the launcher.
    expect(launcher(page)).to_have_accessible_name(re.compile(r"\(1 new\)$"))
    dialog = open_chat(page)
    expect(launcher(page)).to_have_accessible_name(re.compile(r"^Close chat: [^(]+$"))
    log = dialog.get_by_role("log")
    expect(log.locator(f"li[data-id='{first.id}']")).to_contain_text("Is the Aurora waterproof?")
    expect(log.locator(f"li[data-id='{reply_id}']")).to_contain_text("water-resistant")
    expect(log.locator("li[data-id]")).to_have_count(2)

    write(page, "Thanks, I will take it.")
    again = stored(amity.app, "Thanks, I will take it.")
    assert again.meta["chat"]["visitor_id"] == first.meta["chat"]["visitor_id"]  # the same visitor
    assert again.conversation_id == first.conversation_id  # continuing the same conversation

    live_id = agent_replies(amity, first.conversation_id, "Great, it is reserved for you.")
    expect(log.locator(f"li[data-id='{live_id}']")).to_contain_text("reserved for you")
    page.wait_for_timeout(300)  # time for the second copy to arrive, and to be ignored
    expect(log.locator("li[data-id]")).to_have_count(4)
    assert visitor_token(page, chat["id"])  # renewed by every session call, still there


def test_a_second_browser_is_a_different_visitor_who_sees_nothing_of_the_first(
    amity: Amity, shop: Shop, chat: dict[str, Any], contexts: Callable[[], BrowserContext]
) -> None:
    ana = contexts().new_page()
    ana.goto(shop.page_url(chat["id"]))
    open_chat(ana)
    write(ana, "Ana here: do you ship to Porto?")

    bruno = contexts().new_page()
    bruno.goto(shop.page_url(chat["id"]))
    dialog = open_chat(bruno)
    expect(dialog.get_by_role("log")).to_contain_text("Hi! How can we help?")
    expect(dialog.get_by_role("log").locator("li[data-id]")).to_have_count(0)
    write(bruno, "Bruno here: what are your opening hours?")

    a = stored(amity.app, "Ana here: do you ship to Porto?")
    b = stored(amity.app, "Bruno here: what are your opening hours?")
    assert a.meta["chat"]["visitor_id"] != b.meta["chat"]["visitor_id"]
    assert a.conversation_id != b.conversation_id
    assert visitor_token(ana, chat["id"]) != visitor_token(bruno, chat["id"])
    expect(ana.get_by_role("log")).not_to_contain_text("Bruno")


def test_a_visitor_leaves_their_email_and_a_link_on_the_page_opens_the_chat_with_a_draft(
    amity: Amity, shop: Shop, chat: dict[str, Any], contexts: Callable[[], BrowserContext]
) -> None:
    page = contexts().new_page()
    errors = watch_console(page)
    page.goto(shop.page_url(chat["id"], title="Shoebox help", color="#7c2d12"))
    page.get_by_role("link", name="Ask about this shoe").click()
    dialog = page.get_by_role("dialog", name="Shoebox help")  # data-title wins over the brand name
    expect(dialog).to_be_visible()
    box = page.get_by_role("textbox", name="Message")
    expect(box).to_have_value("About the Aurora: ")
    expect(box).to_be_focused()
    assert launcher(page).evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(124, 45, 18)"

    box.press_sequentially("does it come in wide?")
    box.press("Enter")
    expect(page.locator("li.msg.in[data-id]")).to_have_count(1)
    visitor_id = stored(amity.app, "About the Aurora: does it come in wide?").meta["chat"]["visitor_id"]

    page.get_by_label("Leave your email so we can reply if you go.").fill("Ana.Lima@Example.com")
    page.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("status")).to_have_text("Thanks. We can reply to ana.lima@example.com.")
    expect(page.get_by_label("Leave your email so we can reply if you go.")).to_be_hidden()
    # The claimed email joins the visitor's profile (unverified), so the agent sees who it might be.
    owner = identity_owner(amity.app, "email", "ana.lima@example.com")
    assert owner is not None and owner == identity_owner(amity.app, "device", f"chat-{visitor_id}")
    assert errors == [], errors  # the text box grows through the CSSOM, which the shop's CSP allows


def test_a_dropped_connection_is_retried_with_backoff_and_what_was_written_meanwhile_is_sent_once(
    amity: Amity, shop: Shop, chat: dict[str, Any], contexts: Callable[[], BrowserContext]
) -> None:
    page = contexts().new_page()
    sockets: list[WebSocketRoute] = []

    def flaky(ws: WebSocketRoute) -> None:
        sockets.append(ws)
        if len(sockets) == 1:
            ws.close(code=1011, reason="server error; reconnect later")  # as a restarting server would
            return
        ws.connect_to_server()

    page.route_web_socket(re.compile(r"/chat/ws"), flaky)
    page.goto(shop.page_url(chat["id"]))
    dialog = open_chat(page)
    expect(dialog.get_by_role("status")).to_contain_text("Connection lost. Reconnecting in")
    box = page.get_by_role("textbox", name="Message")
    box.fill("Written while offline")
    box.press("Enter")
    expect(page.locator("li.msg.pending", has_text="Written while offline")).to_have_count(1)
    # The retry (about a second later) connects; the waiting message goes with its client_id.
    expect(page.locator("li.msg.in[data-id]", has_text="Written while offline")).to_have_count(1)
    expect(page.locator("li.msg.pending")).to_have_count(0)
    expect(dialog.get_by_role("status")).to_be_hidden()  # empty again once connected
    assert len(sockets) == 2
    stored(amity.app, "Written while offline")  # exactly once


def identity_token(claims: dict[str, Any], secret: str = SITE_SECRET) -> str:
    """As the website's server signs it (docs/channels/chat.md, "Identity tokens")."""
    payload = base64.urlsafe_b64encode(dumps(claims).encode()).decode().rstrip("=")
    return payload + "." + hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def test_a_signed_in_visitor_is_verified_and_an_expired_token_falls_back_to_anonymous(
    amity: Amity, shop: Shop, contexts: Callable[[], BrowserContext]
) -> None:
    body = {
        "type": "chat",
        "name": "signed-in chat",
        "config": {"allowed_origins": [shop.origin], "identity_secret": SITE_SECRET},
    }
    signed = amity.api("POST", "/api/v1/channels", amity.admin, json=body)
    token = identity_token({"email": "rita@example.com", "name": "Rita", "exp": int(time.time()) + 600})
    page = contexts().new_page()
    page.goto(shop.page_url(signed["id"], **{"identity-token": token}))
    open_chat(page)
    write(page, "Where is my order A-77?")
    m = stored(amity.app, "Where is my order A-77?")
    assert m.meta["chat"]["verified"] is True
    assert identity_owner(amity.app, "email", "rita@example.com") == (
        identity_owner(amity.app, "device", f"chat-{m.meta['chat']['visitor_id']}")
    )
    # The site vouched for her: she is not asked for her email.
    expect(page.get_by_label("Leave your email so we can reply if you go.")).to_be_hidden()

    stale = identity_token({"email": "rita@example.com", "exp": int(time.time()) - 60})
    other = contexts().new_page()
    other.goto(shop.page_url(signed["id"], **{"identity-token": stale}))
    open_chat(other)
    write(other, "Hello from a page cached too long")
    assert stored(amity.app, "Hello from a page cached too long").meta["chat"]["verified"] is False


def test_a_site_that_is_not_allowed_gets_an_honest_message_and_nothing_is_stored(
    amity: Amity, shop: Shop, contexts: Callable[[], BrowserContext]
) -> None:
    body = {"type": "chat", "name": "elsewhere", "config": {"allowed_origins": ["https://other.example"]}}
    other = amity.api("POST", "/api/v1/channels", amity.admin, json=body)
    page = contexts().new_page()
    page.goto(shop.page_url(other["id"]))
    dialog = open_chat(page)
    expect(dialog.get_by_role("status")).to_have_text("Chat is not available on this site.")
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    assert visitor_token(page, other["id"]) is None


def test_the_help_centres_contact_link_opens_the_chat_with_what_was_searched(
    amity: Amity, contexts: Callable[[], BrowserContext]
) -> None:
    body = {"type": "chat", "name": "help centre chat", "config": {"allowed_origins": [amity.url]}}
    help_chat = amity.api("POST", "/api/v1/channels", amity.admin, json=body)
    page = contexts().new_page()
    errors = watch_console(page)
    page.goto(f"{amity.url}/help/search?q=wide+fit")
    expect(page.get_by_role("heading", name="No results for “wide fit”")).to_be_visible()
    page.get_by_role("link", name="Chat with us").click()
    box = page.get_by_role("textbox", name="Message")
    expect(box).to_have_value("I searched the help centre for “wide fit” and found nothing. ")
    box.press_sequentially("Do you sell wide shoes?")
    box.press("Enter")
    expect(page.locator("li.msg.in[data-id]")).to_have_count(1)
    m = stored(
        amity.app, "I searched the help centre for “wide fit” and found nothing. Do you sell wide shoes?"
    )
    with amity.app.db.read() as s:
        assert s.get(Message, m.id) is not None
    assert visitor_token(page, help_chat["id"])
    assert errors == [], errors  # the widget runs under Amity's own CSP too
