"""Telegram: real Bot API updates in (with the webhook's secret token), real sendMessage calls out.

Replies go through the real ``TelegramTransport`` over httpx2's MockTransport, so each test sees the
exact request the Bot API would receive.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx2
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from amity.channels.telegram import TelegramTransport
from amity.channels.twilio import TwilioTransport
from amity.config import Settings
from amity.conversations.delivery import deliver
from amity.conversations.models import Conversation, Delivery, Message
from amity.core.actions import App
from amity.customers.models import Customer, Identity
from amity.db import utcnow
from tests.conftest import auth
from tests.test_channel_twilio import PUBLIC, FakeTwilio, incoming, make_channel, post_signed

BOT_TOKEN = "7312345678:AAHd8xQ3k-Wq_9LmZr0pTnYvB2cE4fG6hJk"
SECRET = "wh_s3cr3t-0123456789abcdefABCDEF"
CHAT = 481516234
# When the customer wrote (whole seconds, as Telegram sends it): a minute ago, as a live update is.
SENT_AT = int(dt.datetime.now(dt.UTC).timestamp()) - 60


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home", secret_key="test-secret-key-not-for-production", public_url=PUBLIC
    )


@pytest.fixture
def admin(tokens: dict[str, str]) -> dict[str, str]:
    return auth(tokens["admin"])


def make_bot(client: TestClient, admin: dict[str, str], **config: Any) -> dict[str, Any]:
    r = client.post(
        "/api/v1/channels",
        json={
            "type": "telegram",
            "name": "Support bot",
            "config": {"bot_token": BOT_TOKEN, "webhook_secret": SECRET, **config},
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.fixture
def bot(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    return make_bot(client, admin)


def tg_message(
    message_id: int = 101, text: str | None = "Hi, my thermostat is offline", chat: int = CHAT, **extra: Any
) -> dict[str, Any]:
    user = {
        "id": chat,
        "is_bot": False,
        "first_name": "Ana",
        "last_name": "Silva",
        "username": "anasilva",
        "language_code": "pt-BR",
    }
    body: dict[str, Any] = {
        "message_id": message_id,
        "from": user,
        "chat": {
            "id": chat,
            "first_name": "Ana",
            "last_name": "Silva",
            "username": "anasilva",
            "type": "private",
        },
        "date": SENT_AT,
    }
    if text is not None:
        body["text"] = text
    return {**body, **extra}


def update_of(update_id: int = 900_001, **kinds: Any) -> dict[str, Any]:
    return {"update_id": update_id, **kinds}


def post_update(
    client: TestClient, bot: dict[str, Any], update: Any, secret: str | bytes | None = SECRET
) -> Any:
    headers: dict[str, str | bytes] = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    # The standard library's encoder, because it also writes numbers too big for 64 bits (orjson refuses).
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    return client.post(bot["webhook_url"].removeprefix(PUBLIC), content=body, headers=headers)


def rows(app: App, model: Any, *where: Any) -> list[Any]:
    with app.db.read() as s:
        return list(s.scalars(select(model).where(*where)))


def one(app: App, model: Any, *where: Any) -> Any:
    [found] = rows(app, model, *where)
    return found


class FakeBotApi:
    """The Bot API's sendMessage as MockTransport serves it: records each request, answers as told."""

    def __init__(self) -> None:
        self.requests: list[httpx2.Request] = []
        self.answers: list[httpx2.Response | Exception] = []
        self.next_id = 500

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        if answer is not None:
            return answer
        sent = orjson.loads(request.content)
        self.next_id += 1
        result = {
            "message_id": self.next_id,
            "from": {
                "id": 7312345678,
                "is_bot": True,
                "first_name": "Support",
                "username": "shop_support_bot",
            },
            "chat": {"id": sent["chat_id"], "type": "private"},
            "date": SENT_AT + 60,
            "text": sent["text"],
        }
        return httpx2.Response(200, json={"ok": True, "result": result})

    def bodies(self) -> list[dict[str, Any]]:
        return [orjson.loads(r.content) for r in self.requests]


@pytest.fixture
def botapi(app: App) -> FakeBotApi:
    fake = FakeBotApi()
    client = httpx2.Client(transport=httpx2.MockTransport(fake))
    app.cache.setdefault("transports", {})["telegram"] = TelegramTransport(client=client)
    return fake


def reply(
    client: TestClient, app: App, admin: dict[str, str], conversation_id: str, text: str, **extra: Any
) -> tuple[str, int]:
    r = client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": text, **extra}, headers=admin
    )
    assert r.status_code == 201, r.text
    return r.json()["id"], one(app, Delivery, Delivery.message_id == r.json()["id"]).id


def message(app: App, message_id: str) -> Message:
    return one(app, Message, Message.id == message_id)


# ---- configuration ----------------------------------------------------------------------------------
def test_a_bot_channel_shows_its_webhook_url_and_hides_its_secrets(
    client: TestClient, bot: dict[str, Any]
) -> None:
    assert bot["webhook_url"] == f"{PUBLIC}/hooks/{bot['id']}/telegram"
    assert bot["reaches"] == ["social:telegram"]
    assert bot["config"] == {
        "bot_token": "••••" + BOT_TOKEN[-4:],
        "webhook_secret": "••••" + SECRET[-4:],
        "api_base": "https://api.telegram.org",
    }


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"bot_token": "not a token"}, "config.bot_token"),
        ({"webhook_secret": "has spaces in it"}, "config.webhook_secret"),
        ({"webhook_secret": ""}, "config.webhook_secret"),
        ({"webhook_secret": "a" * 257}, "config.webhook_secret"),
        ({"api_base": "api.telegram.org"}, "config.api_base"),
        ({"chat": "x"}, "config.chat"),
    ],
)
def test_a_bad_config_is_refused_naming_the_field(
    client: TestClient, admin: dict[str, str], config: dict[str, Any], field: str
) -> None:
    base = {"bot_token": BOT_TOKEN, "webhook_secret": SECRET}
    r = client.post(
        "/api/v1/channels",
        json={"type": "telegram", "name": "bot", "config": {**base, **config}},
        headers=admin,
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field


def test_a_secret_telegram_accepts_and_long_enough_not_to_be_guessed_is_required(
    client: TestClient, admin: dict[str, str]
) -> None:
    for secret in ("A-z_9" * 3 + "q", "A-z_9" * 51 + "q"):  # 16 and 256 characters
        assert (
            make_bot(client, admin, webhook_secret=secret)["config"]["webhook_secret"] == "••••" + secret[-4:]
        )
    r = client.post(
        "/api/v1/channels",
        json={
            "type": "telegram",
            "name": "bot",
            "config": {"bot_token": BOT_TOKEN, "webhook_secret": "x" * 15},
        },
        headers=admin,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "config.webhook_secret"


# ---- inbound ----------------------------------------------------------------------------------------
def test_a_private_message_files_a_customer_a_conversation_and_a_message(
    client: TestClient, app: App, bot: dict[str, Any], admin: dict[str, str]
) -> None:
    r = post_update(client, bot, update_of(message=tg_message()))
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "stored": True, "duplicate": False}
    ident = one(app, Identity)
    assert (ident.type, ident.value) == ("social:telegram", str(CHAT))
    conv = one(app, Conversation)
    assert conv.customer_id == ident.customer_id and conv.last_channel_id == bot["id"]
    m = one(app, Message)
    assert (m.direction, m.channel_type, m.text) == ("in", "telegram", "Hi, my thermostat is offline")
    assert m.external_id == f"{CHAT}:101"
    assert m.address == {"type": "social:telegram", "value": str(CHAT)}
    assert m.created_at == dt.datetime.fromtimestamp(SENT_AT, dt.UTC)
    assert m.meta["sender_name"] == "Ana Silva"
    assert m.meta["telegram"] == {
        "update_id": 900_001,
        "message_id": 101,
        "user_id": CHAT,
        "username": "anasilva",
        "language_code": "pt-BR",
    }
    customer = client.get(f"/api/v1/customers/{ident.customer_id}", headers=admin).json()
    assert customer["traits"]["name"] == "Ana Silva"


def test_a_user_without_a_name_is_known_by_username(
    client: TestClient, app: App, bot: dict[str, Any]
) -> None:
    msg = tg_message()
    msg["from"] = {"id": CHAT, "is_bot": False, "first_name": "", "username": "anasilva"}
    post_update(client, bot, update_of(message=msg))
    assert one(app, Message).meta["sender_name"] == "@anasilva"


def test_a_retried_update_is_stored_once(client: TestClient, app: App, bot: dict[str, Any]) -> None:
    first = post_update(client, bot, update_of(message=tg_message()))
    again = post_update(client, bot, update_of(message=tg_message()))
    assert first.json()["stored"] is True
    assert again.status_code == 200 and again.json() == {"ok": True, "stored": False, "duplicate": True}
    assert len(rows(app, Message)) == 1


def test_the_same_message_id_in_another_chat_is_another_message(
    client: TestClient, app: App, bot: dict[str, Any]
) -> None:
    post_update(client, bot, update_of(1, message=tg_message()))
    post_update(client, bot, update_of(2, message=tg_message(chat=CHAT + 1)))
    assert sorted(m.external_id for m in rows(app, Message)) == [f"{CHAT}:101", f"{CHAT + 1}:101"]
    assert len(rows(app, Customer)) == 2


def test_an_edit_is_kept_beside_the_original_once_per_edit(
    client: TestClient, app: App, bot: dict[str, Any]
) -> None:
    post_update(client, bot, update_of(1, message=tg_message()))
    edited = tg_message(text="Hi, my thermostat is offline since Monday", edit_date=SENT_AT + 30)
    for _ in range(2):
        assert post_update(client, bot, update_of(2, edited_message=edited)).status_code == 200
    original, edit = sorted(rows(app, Message), key=lambda m: m.created_at)
    assert original.text == "Hi, my thermostat is offline"
    assert edit.text == "Hi, my thermostat is offline since Monday"
    assert edit.external_id == f"{CHAT}:101:edit:{SENT_AT + 30}"
    assert edit.meta["edited"] == {"original_external_id": f"{CHAT}:101", "edit_date": SENT_AT + 30}
    assert edit.conversation_id == original.conversation_id


def test_a_photo_keeps_its_caption_as_text_and_its_largest_size(
    client: TestClient, app: App, bot: dict[str, Any]
) -> None:
    photo = [
        {"file_id": "AgAD-small", "file_unique_id": "s1", "width": 90, "height": 60, "file_size": 1200},
        {"file_id": "AgAD-large", "file_unique_id": "l1", "width": 1280, "height": 853, "file_size": 98000},
        {"file_id": "AgAD-mid", "file_unique_id": "m1", "width": 320, "height": 213, "file_size": 14000},
    ]
    post_update(
        client, bot, update_of(message=tg_message(text=None, caption="The display shows E4", photo=photo))
    )
    m = one(app, Message)
    assert m.text == "The display shows E4"
    assert m.meta["media"] == [
        {"kind": "photo", "file_id": "AgAD-large", "file_unique_id": "l1", "file_size": 98000}
    ]


def test_a_document_without_caption_is_stored_with_its_file(
    client: TestClient, app: App, bot: dict[str, Any]
) -> None:
    doc = {
        "file_id": "BQAC-doc",
        "file_unique_id": "d1",
        "file_name": "receipt.pdf",
        "mime_type": "application/pdf",
        "file_size": 5123,
    }
    post_update(client, bot, update_of(message=tg_message(text=None, document=doc)))
    m = one(app, Message)
    assert m.text == "" and m.meta["media"] == [{"kind": "document", **doc}]


@pytest.mark.parametrize(
    "update",
    [
        update_of(
            callback_query={
                "id": "1",
                "from": {"id": CHAT, "is_bot": False, "first_name": "Ana"},
                "data": "x",
            }
        ),
        update_of(my_chat_member={"chat": {"id": CHAT, "type": "private"}, "date": SENT_AT}),
        update_of(
            channel_post={
                "message_id": 1,
                "date": SENT_AT,
                "chat": {"id": -1001, "type": "channel"},
                "text": "news",
            }
        ),
        update_of(
            message=tg_message(chat=CHAT) | {"chat": {"id": -4001234, "type": "group", "title": "Friends"}}
        ),
        update_of(message=tg_message(text=None, pinned_message={"message_id": 5})),
        update_of(message=tg_message() | {"from": {"id": 99, "is_bot": True, "first_name": "Other bot"}}),
    ],
    ids=["callback query", "membership", "channel post", "group chat", "service message", "from a bot"],
)
def test_updates_that_are_not_a_customer_writing_are_acknowledged_and_ignored(
    client: TestClient, app: App, bot: dict[str, Any], update: dict[str, Any]
) -> None:
    r = post_update(client, bot, update)
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "stored": False}
    assert rows(app, Message) == [] and rows(app, Customer) == []


def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_stored(
    client: TestClient, app: App, bot: dict[str, Any], admin: dict[str, str]
) -> None:
    other = make_bot(client, admin, webhook_secret="another-bots-secret")
    good = update_of(message=tg_message())
    for secret in (None, "", SECRET + "x", SECRET[:-1], "another-bots-secret", "sécret".encode()):
        r = post_update(client, bot, good, secret=secret)
        assert r.status_code == 401, f"{secret!r}: {r.status_code} {r.text}"
        assert r.json()["error"] == "unauthorized"
    unknown = {"webhook_url": bot["webhook_url"].replace(bot["id"], "chn_00000000000000000000000000")}
    assert post_update(client, unknown, good).status_code == 401
    assert post_update(client, other, good).status_code == 401  # this bot's secret, the other bot's URL
    assert rows(app, Message) == [] and rows(app, Customer) == []


def test_a_disabled_bot_refuses_even_a_valid_update(
    client: TestClient, app: App, bot: dict[str, Any], admin: dict[str, str]
) -> None:
    client.patch(f"/api/v1/channels/{bot['id']}", json={"enabled": False}, headers=admin)
    assert post_update(client, bot, update_of(message=tg_message())).status_code == 409
    assert rows(app, Message) == []


@pytest.mark.parametrize(
    ("update", "field"),
    [
        (b"{not json", "body"),
        (b"[]", "body"),
        ({"message": tg_message()}, "update_id"),
        (update_of(message={k: v for k, v in tg_message().items() if k != "chat"}), "message.chat"),
        (update_of(message=tg_message() | {"text": 42}), "message.text"),
        (update_of(message=tg_message(text="nul\x00here")), "message.text"),
        (update_of(message=tg_message() | {"date": "yesterday"}), "message.date"),
        (update_of(message=tg_message() | {"date": 10**12}), "message.date"),
        (update_of(message=tg_message(chat=2**64)), "message.chat.id"),
        (update_of(10**20, message=tg_message()), "update_id"),
    ],
)
def test_a_malformed_update_is_refused_naming_the_field(
    client: TestClient, app: App, bot: dict[str, Any], update: Any, field: str
) -> None:
    r = post_update(client, bot, update)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field
    assert rows(app, Message) == []


# ---- outbound ---------------------------------------------------------------------------------------
def _conversation(client: TestClient, app: App, bot: dict[str, Any]) -> str:
    assert post_update(client, bot, update_of(message=tg_message())).status_code == 200
    return str(one(app, Conversation).id)


def test_an_agent_reply_is_sent_with_send_message_in_reply_to_the_customer(
    client: TestClient, app: App, bot: dict[str, Any], admin: dict[str, str], botapi: FakeBotApi
) -> None:
    cid = _conversation(client, app, bot)
    message_id, delivery_id = reply(
        client, app, admin, cid, "Sorry about that! Try holding the reset button."
    )
    assert deliver(app, delivery_id).status == "sent"
    [req] = botapi.requests
    assert req.method == "POST"
    assert str(req.url) == f"https://api.telegram.org/bot{BOT_TOKEN}/sendMessage"
    assert req.headers["content-type"] == "application/json"
    assert botapi.bodies() == [
        {
            "chat_id": CHAT,
            "text": "Sorry about that! Try holding the reset button.",
            "reply_parameters": {"message_id": 101, "allow_sending_without_reply": True},
        }
    ]
    m = message(app, message_id)
    assert (m.delivery_status, m.external_id, m.delivery_error) == ("sent", f"{CHAT}:501", None)


def test_a_reply_after_an_edit_quotes_the_edited_message(
    client: TestClient, app: App, bot: dict[str, Any], admin: dict[str, str], botapi: FakeBotApi
) -> None:
    cid = _conversation(client, app, bot)
    edited = tg_message(text="Hi, my thermostat is offline again", edit_date=SENT_AT + 30)
    post_update(client, bot, update_of(2, edited_message=edited))
    deliver(app, reply(client, app, admin, cid, "Looking into it")[1])
    assert botapi.bodies()[0]["reply_parameters"] == {"message_id": 101, "allow_sending_without_reply": True}


def test_a_reply_to_our_answer_reopens_the_solved_conversation(
    client: TestClient, app: App, bot: dict[str, Any], admin: dict[str, str], botapi: FakeBotApi
) -> None:
    """Quoting our message is an explicit reference: it finds the conversation even once solved."""
    cid = _conversation(client, app, bot)
    _, delivery_id = reply(client, app, admin, cid, "Fixed remotely; all good now?", status="solved")
    deliver(app, delivery_id)
    answer = tg_message(
        message_id=102,
        text="Yes, thanks!",
        reply_to_message={"message_id": 501, "date": SENT_AT, "chat": {"id": CHAT, "type": "private"}},
    )
    assert post_update(client, bot, update_of(2, message=answer)).status_code == 200
    conv = one(app, Conversation)
    assert conv.id == cid and conv.status == "open"
    assert one(app, Message, Message.external_id == f"{CHAT}:102").in_reply_to == f"{CHAT}:501"


def test_a_custom_api_base_is_where_the_reply_goes(
    client: TestClient, app: App, admin: dict[str, str], botapi: FakeBotApi
) -> None:
    bot = make_bot(client, admin, api_base="http://127.0.0.1:8081/")
    cid = _conversation(client, app, bot)
    deliver(app, reply(client, app, admin, cid, "hello")[1])
    assert str(botapi.requests[0].url) == f"http://127.0.0.1:8081/bot{BOT_TOKEN}/sendMessage"


def _error(status: int, description: str, **parameters: Any) -> httpx2.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return httpx2.Response(status, json=body)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            _error(403, "Forbidden: bot was blocked by the user"),
            "Telegram refused the message (error 403: Forbidden: bot was blocked by the user)",
        ),
        (
            _error(400, "Bad Request: chat not found"),
            "Telegram refused the message (error 400: Bad Request: chat not found)",
        ),
        (
            _error(401, "Unauthorized"),
            "Telegram refused the message (error 401: Unauthorized) (check the channel's bot_token)",
        ),
    ],
)
def test_a_permanent_refusal_fails_the_message_at_once_with_the_reason(
    client: TestClient,
    app: App,
    bot: dict[str, Any],
    admin: dict[str, str],
    botapi: FakeBotApi,
    answer: httpx2.Response,
    reason: str,
) -> None:
    cid = _conversation(client, app, bot)
    message_id, delivery_id = reply(client, app, admin, cid, "hello")
    botapi.answers.append(answer)
    assert deliver(app, delivery_id).status == "failed"
    m, d = message(app, message_id), one(app, Delivery, Delivery.id == delivery_id)
    assert (m.delivery_status, m.delivery_error) == ("failed", reason)
    assert (d.status, d.attempts) == ("failed", 1)
    shown = client.get(f"/api/v1/conversations/{cid}", headers=admin).json()["messages"][-1]
    assert shown["delivery_error"] == reason


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            _error(429, "Too Many Requests: retry after 7", retry_after=7),
            "Telegram is rate-limiting the bot (Too Many Requests: retry after 7); Telegram asks to wait 7 s",
        ),
        (_error(500, "Internal Server Error"), "Telegram answered 500 (Internal Server Error)"),
        (httpx2.Response(502, text="<html>502 Bad Gateway</html>"), "Telegram answered 502 (HTTP 502)"),
        (
            httpx2.ConnectError("connection refused"),
            "could not reach Telegram: ConnectError: connection refused",
        ),
    ],
)
def test_a_temporary_failure_is_retried_later_and_shown_meanwhile(
    client: TestClient,
    app: App,
    bot: dict[str, Any],
    admin: dict[str, str],
    botapi: FakeBotApi,
    answer: httpx2.Response | Exception,
    reason: str,
) -> None:
    cid = _conversation(client, app, bot)
    message_id, delivery_id = reply(client, app, admin, cid, "hello")
    botapi.answers.append(answer)
    outcome = deliver(app, delivery_id)
    assert outcome.status == "retry" and outcome.retry_in == 5.0
    m, d = message(app, message_id), one(app, Delivery, Delivery.id == delivery_id)
    assert (m.delivery_status, m.delivery_error) == ("queued", reason)
    assert d.status == "pending" and d.next_attempt_at > utcnow() + dt.timedelta(seconds=3)
    with app.db.write_session() as s, s.begin():
        s.execute(update(Delivery).where(Delivery.id == delivery_id).values(next_attempt_at=utcnow()))
    assert deliver(app, delivery_id).status == "sent"
    assert (message(app, message_id).delivery_status, message(app, message_id).delivery_error) == (
        "sent",
        None,
    )


def test_the_bot_token_never_appears_in_a_failure_reason(
    client: TestClient, app: App, bot: dict[str, Any], admin: dict[str, str], botapi: FakeBotApi
) -> None:
    cid = _conversation(client, app, bot)
    message_id, delivery_id = reply(client, app, admin, cid, "hello")
    botapi.answers.append(
        httpx2.ConnectError(f"cannot connect to https://api.telegram.org/bot{BOT_TOKEN}/sendMessage")
    )
    deliver(app, delivery_id)
    error = message(app, message_id).delivery_error or ""
    assert BOT_TOKEN not in error and "/bot<bot_token>/sendMessage" in error


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("x" * 4097, "the text is 4097 characters; Telegram sends at most 4096 in one message"),
        # Telegram counts UTF-16 code units: an emoji outside the BMP is two.
        ("😀" * 2049, "the text is 4098 characters; Telegram sends at most 4096 in one message"),
    ],
)
def test_a_reply_too_long_for_telegram_fails_without_calling_it(
    client: TestClient,
    app: App,
    bot: dict[str, Any],
    admin: dict[str, str],
    botapi: FakeBotApi,
    text: str,
    reason: str,
) -> None:
    cid = _conversation(client, app, bot)
    message_id, delivery_id = reply(client, app, admin, cid, text)
    assert deliver(app, delivery_id).status == "failed"
    assert message(app, message_id).delivery_error == reason
    assert botapi.requests == []


def test_a_reply_to_a_username_that_never_wrote_fails_with_a_reason(
    client: TestClient, app: App, bot: dict[str, Any], admin: dict[str, str], botapi: FakeBotApi
) -> None:
    """A bot can only write to a chat that wrote to it first; a handle from elsewhere is not a chat id."""
    r = client.post(
        "/api/v1/events",
        json={"type": "profile.updated", "identities": [{"type": "social:telegram", "value": "@AnaS"}]},
        headers=admin,
    )
    customer_id = r.json()["results"][0]["customer_id"]
    r = client.post(
        "/api/v1/conversations",
        json={
            "customer_id": customer_id,
            "subject": "Your repair",
            "channel_id": bot["id"],
            "message": {"text": "Hello!"},
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    [out] = r.json()["messages"]
    assert deliver(app, one(app, Delivery).id).status == "failed"
    assert message(app, out["id"]).delivery_error == (
        "Telegram replies go to a chat id; social:telegram 'anas' is not one (the customer has to write to the bot first)"
    )
    assert botapi.requests == []


# ---- one customer across channels -------------------------------------------------------------------
ANA_PHONE = "+447911123456"


@pytest.fixture
def sms(client: TestClient, admin: dict[str, str], app: App) -> dict[str, Any]:
    fake = FakeTwilio()
    transport = TwilioTransport(PUBLIC, client=httpx2.Client(transport=httpx2.MockTransport(fake)))
    app.cache.setdefault("transports", {})["sms"] = transport
    return make_channel(client, admin)


def test_sms_then_telegram_with_her_shared_number_is_one_customer_and_one_conversation(
    client: TestClient,
    app: App,
    bot: dict[str, Any],
    sms: dict[str, Any],
    admin: dict[str, str],
    botapi: FakeBotApi,
) -> None:
    assert (
        post_signed(
            client, sms["webhook_url"], incoming(frm=ANA_PHONE, body="My thermostat is offline")
        ).status_code
        == 200
    )
    # Telegram's "share my phone number": a contact whose user_id is the sender's own.
    contact = {"phone_number": ANA_PHONE.lstrip("+"), "first_name": "Ana", "user_id": CHAT}
    shared = tg_message(text=None, contact=contact)
    assert post_update(client, bot, update_of(1, message=shared)).status_code == 200
    assert (
        post_update(
            client, bot, update_of(2, message=tg_message(message_id=102, text="Still offline"))
        ).status_code
        == 200
    )
    [customer] = [c for c in rows(app, Customer) if c.merged_into_id is None]
    assert {(i.type, i.value) for i in rows(app, Identity)} == {
        ("phone", ANA_PHONE),
        ("social:telegram", str(CHAT)),
    }
    conv = one(app, Conversation)
    assert sorted(m.channel_type for m in rows(app, Message, Message.conversation_id == conv.id)) == [
        "sms",
        "telegram",
        "telegram",
    ]
    assert conv.last_channel_id == bot["id"] and conv.customer_id == customer.id
    # The reply goes where she last wrote: Telegram, to her chat.
    _, delivery_id = reply(client, app, admin, conv.id, "We see it offline too; a new unit is on its way.")
    assert deliver(app, delivery_id).status == "sent"
    assert botapi.bodies()[0]["chat_id"] == CHAT


def test_sms_then_telegram_known_from_the_shop_is_one_conversation(
    client: TestClient, app: App, bot: dict[str, Any], sms: dict[str, Any], admin: dict[str, str]
) -> None:
    """The business already linked her Telegram chat to her phone (an event carrying both)."""
    r = client.post(
        "/api/v1/events",
        json={
            "type": "profile.updated",
            "identities": [
                {"type": "phone", "value": ANA_PHONE},
                {"type": "social:telegram", "value": str(CHAT)},
            ],
        },
        headers=admin,
    )
    assert r.status_code in (200, 201), r.text
    post_signed(client, sms["webhook_url"], incoming(frm=ANA_PHONE, body="My thermostat is offline"))
    post_update(client, bot, update_of(message=tg_message(text="Any news?")))
    conv = one(app, Conversation)
    assert sorted(m.text for m in rows(app, Message, Message.conversation_id == conv.id)) == [
        "Any news?",
        "My thermostat is offline",
    ]
    assert len([c for c in rows(app, Customer) if c.merged_into_id is None]) == 1


def test_a_forwarded_contact_card_is_not_taken_as_the_sender(
    client: TestClient, app: App, bot: dict[str, Any], sms: dict[str, Any]
) -> None:
    """Someone else's card says nothing about who is writing: it must not merge two people."""
    post_signed(client, sms["webhook_url"], incoming(frm=ANA_PHONE, body="My thermostat is offline"))
    card = {"phone_number": ANA_PHONE.lstrip("+"), "first_name": "Ana", "user_id": 111222333}
    post_update(client, bot, update_of(message=tg_message(chat=CHAT + 7, text=None, contact=card)))
    assert len([c for c in rows(app, Customer) if c.merged_into_id is None]) == 2
    assert len(rows(app, Conversation)) == 2
    assert one(app, Message, Message.channel_type == "telegram").meta["contact"]["user_id"] == 111222333
