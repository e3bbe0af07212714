"""The voice channel: a call from a known number pops the customer on every console and is filed,
once, in the conversation they already have open (docs/channels/voice.md)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from amity.channels.signing import sign
from amity.channels.voice_calls import duration_text
from amity.conversations.models import Message
from amity.core.actions import Actor, App
from amity.customers.models import Customer, Event
from amity.privacy.models import AuditEntry
from tests.conftest import auth
from tests.conversation_helpers import api_channel, write_in

VOICE_SECRET = "pbx-secret-0123456789abcdef"
ANA = "+447911123456"


def voice_channel(client: TestClient, admin: str, **config: Any) -> dict[str, Any]:
    r = client.post(
        "/api/v1/channels",
        json={"type": "voice", "name": "main line", "config": {"secret": VOICE_SECRET, **config}},
        headers=auth(admin),
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def post_raw(client: TestClient, channel_id: str, body: bytes, secret: str = VOICE_SECRET) -> Any:
    return client.post(
        f"/hooks/{channel_id}/voice",
        content=body,
        headers={"content-type": "application/json", "X-Amity-Signature": sign(secret, body)},
    )


def call(client: TestClient, channel_id: str, event: str, call_id: str, frm: str = ANA, **extra: Any) -> Any:
    body = orjson.dumps({"event": event, "call_id": call_id, "from": frm, **extra})
    return post_raw(client, channel_id, body)


class LiveConsole:
    """An agent's console as the broadcaster sees it: a subscriber on its own event loop.

    The loop runs in its own thread: a browser test earlier in the same process may leave a loop
    running in the main thread (Playwright's sync API), where a second one cannot run.
    """

    def __init__(self, app: App) -> None:
        self.broadcaster = app.cache["broadcaster"]
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        agent = Actor(kind="user", id="usr_console", role="agent")

        async def subscribe() -> Any:
            return self.broadcaster.subscribe(agent)

        self.sub = self._run(subscribe())

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def received(self) -> list[dict[str, Any]]:
        async def drain() -> list[dict[str, Any]]:
            await asyncio.sleep(0.05)  # let the updates handed over from other threads land
            out = []
            while not self.sub.queue.empty():
                out.append(orjson.loads(self.sub.queue.get_nowait()))
            return out

        return list(self._run(drain()))

    def calls(self) -> list[dict[str, Any]]:
        return [e for e in self.received() if e["event"].startswith("call.")]

    def close(self) -> None:
        self.broadcaster.unsubscribe(self.sub)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def console(app: App) -> Iterator[LiveConsole]:
    c = LiveConsole(app)
    yield c
    c.close()


def voice_messages(app: App) -> list[Message]:
    with app.db.read() as s:
        return list(s.scalars(select(Message).where(Message.channel_type == "voice")))


def call_facts(app: App) -> dict[str, int]:
    with app.db.read() as s:
        rows = s.execute(
            select(Event.type, func.count()).where(Event.type.like("call.%")).group_by(Event.type)
        )
        return dict(rows.all())


def test_a_phone_call_from_a_known_number_pops_the_customer_and_joins_their_open_chat_conversation(
    client: TestClient, app: App, tokens: dict[str, str], console: LiveConsole
) -> None:
    admin = tokens["admin"]
    chat = api_channel(client, admin, name="web chat")
    wrote = write_in(client, chat["id"], ("phone", ANA), "Shoes out of stock in 6.5?", name="Ana Silva")
    assert wrote.status_code == 201, wrote.text
    ana, chat_conversation = wrote.json()["customer_id"], wrote.json()["conversation_id"]
    line = voice_channel(client, admin, number="+44 161 496 0000")
    console.received()  # what the chat itself streamed

    # She phones: every console pops her, with the chat she already has open.
    r = call(client, line["id"], "ringing", "CA100", to="+441614960000")
    assert r.status_code == 201, r.text
    pop = r.json()
    assert pop["duplicate"] is False
    assert pop["customer_id"] == ana and pop["conversation_id"] == chat_conversation
    assert pop["customer"]["name"] == "Ana Silva"
    assert {"type": "phone", "value": ANA} in pop["customer"]["identities"]
    assert pop["customer"]["counts"]["events_by_type"]["call.ringing"] == 1
    assert pop["conversation"]["status"] == "open"
    assert [m["text"] for m in pop["conversation"]["last_messages"]] == ["Shoes out of stock in 6.5?"]
    assert pop["call"]["status"] == "ringing" and pop["call"]["from"] == ANA
    streamed = console.calls()
    assert [e["event"] for e in streamed] == ["call.ringing"]
    assert streamed[0]["data"]["customer"]["id"] == ana
    assert streamed[0]["data"]["conversation"]["id"] == chat_conversation

    # A retried webhook is stored once and pops nobody again.
    again = call(client, line["id"], "ringing", "CA100")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["conversation_id"] == chat_conversation
    assert console.calls() == []

    answered = call(client, line["id"], "answered", "CA100", agent_id="usr_clerk")
    assert answered.status_code == 201, answered.text
    assert answered.json()["call"]["status"] == "answered"
    assert answered.json()["call"]["agent_id"] == "usr_clerk"
    assert [e["event"] for e in console.calls()] == ["call.answered"]

    ended = call(
        client,
        line["id"],
        "ended",
        "CA100",
        duration_seconds=192,
        recording_url="https://rec.example/CA100.mp3",
    )
    assert ended.status_code == 201, ended.text
    assert ended.json()["conversation_id"] == chat_conversation
    for _ in range(2):  # the provider retries; the call is still filed once
        repeat = call(client, line["id"], "ended", "CA100", duration_seconds=192)
        assert repeat.status_code == 200 and repeat.json()["duplicate"] is True
        assert repeat.json()["message_id"] == ended.json()["message_id"]

    conv = client.get(f"/api/v1/conversations/{chat_conversation}", headers=auth(tokens["agent"])).json()
    by_channel = [(m["channel_type"], m["direction"], m["text"]) for m in conv["messages"]]
    assert by_channel == [("api", "in", "Shoes out of stock in 6.5?"), ("voice", "in", "Call, 3 min 12 s")]
    filed = conv["messages"][1]
    assert filed["meta"]["duration_seconds"] == 192
    assert filed["meta"]["recording_url"] == "https://rec.example/CA100.mp3"
    assert filed["meta"]["call_id"] == "CA100" and filed["meta"]["agent_id"] == "usr_clerk"
    assert filed["address"] == {"type": "phone", "value": ANA}
    assert len(voice_messages(app)) == 1
    assert call_facts(app) == {"call.ringing": 1, "call.answered": 1, "call.ended": 1}
    ended_events = [e for e in console.calls() if e["event"] == "call.ended"]
    assert len(ended_events) == 1 and ended_events[0]["data"]["conversation_id"] == chat_conversation

    # Voice cannot send: a reply goes out on the channel she wrote on, never on the phone line.
    reply = client.post(
        f"/api/v1/conversations/{chat_conversation}/messages",
        json={"text": "We found a pair", "channel_id": line["id"]},
        headers=auth(tokens["agent"]),
    )
    assert reply.status_code == 422 and reply.json()["errors"][0]["field"] == "channel_id"


def test_the_screen_pop_reaches_an_agents_live_sse_stream(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    line = voice_channel(client, tokens["admin"])
    got: dict[str, Any] = {}

    def watch() -> None:
        got["stream"] = client.get(
            "/api/v1/stream", params={"max_seconds": 1.5}, headers=auth(tokens["agent"])
        )

    watcher = threading.Thread(target=watch)
    watcher.start()
    deadline = time.monotonic() + 5
    while app.cache["broadcaster"].listeners == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    r = call(client, line["id"], "ringing", "CA-sse-1")
    assert r.status_code == 201, r.text
    watcher.join(10)
    text = got["stream"].text
    assert "event: call.ringing" in text
    data = next(
        orjson.loads(line[len("data: ") :])
        for line in text.splitlines()
        if line.startswith("data: ") and "call.ringing" in line
    )
    assert data["data"]["call_id"] == "CA-sse-1"
    assert data["data"]["customer"]["id"] == r.json()["customer_id"]


def test_a_console_that_missed_the_pop_reads_it_back(client: TestClient, tokens: dict[str, str]) -> None:
    admin = tokens["admin"]
    chat = api_channel(client, admin)
    conversation = write_in(client, chat["id"], ("phone", ANA), "Hello").json()["conversation_id"]
    line = voice_channel(client, admin)
    rung = call(client, line["id"], "ringing", "CA200").json()

    read = client.get("/api/v1/calls/CA200/screen-pop", headers=auth(tokens["agent"]))
    assert read.status_code == 200, read.text
    pop = read.json()
    assert pop["conversation_id"] == conversation
    for key in ("call", "customer", "conversation", "customer_id", "channel_id"):
        assert pop[key] == rung[key], key
    assert client.get(
        f"/api/v1/calls/CA200/screen-pop?channel_id={line['id']}", headers=auth(admin)
    ).is_success

    missing = client.get("/api/v1/calls/CA-none/screen-pop", headers=auth(tokens["agent"]))
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "call_id"
    other_line = client.get(
        f"/api/v1/calls/CA200/screen-pop?channel_id={chat['id']}", headers=auth(tokens["agent"])
    )
    assert other_line.status_code == 404
    bad = client.get("/api/v1/calls/has%20space/screen-pop", headers=auth(tokens["agent"]))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "call_id"


def test_an_unknown_number_becomes_a_customer_and_the_call_opens_a_conversation(
    client: TestClient, app: App, tokens: dict[str, str], console: LiveConsole
) -> None:
    line = voice_channel(client, tokens["admin"])
    r = call(client, line["id"], "ringing", "CA300", frm="+447912345678")
    assert r.status_code == 201, r.text
    pop = r.json()
    assert pop["conversation"] is None and pop["conversation_id"] is None
    assert pop["customer"]["identities"] == [{"type": "phone", "value": "+447912345678"}]
    with app.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 1
    assert [e["event"] for e in console.calls()] == ["call.ringing"]

    ended = call(client, line["id"], "ended", "CA300", frm="+447912345678", duration_seconds=45)
    assert ended.status_code == 201
    assert ended.json()["customer_id"] == pop["customer_id"]
    conv = client.get(
        f"/api/v1/conversations/{ended.json()['conversation_id']}", headers=auth(tokens["agent"])
    )
    assert [m["text"] for m in conv.json()["messages"]] == ["Call, 45 s"]
    assert (
        client.get("/api/v1/calls/CA300/screen-pop", headers=auth(tokens["agent"])).json()["conversation_id"]
        == ended.json()["conversation_id"]
    )


def test_events_out_of_order_still_file_the_call_once_and_pop_no_one_for_a_finished_call(
    client: TestClient, app: App, tokens: dict[str, str], console: LiveConsole
) -> None:
    line = voice_channel(client, tokens["admin"])
    ended = call(client, line["id"], "ended", "CA400", duration_seconds=75)
    assert ended.status_code == 201, ended.text
    answered = call(client, line["id"], "answered", "CA400", agent_id="usr_late")
    assert answered.status_code == 201, answered.text
    ringing = call(client, line["id"], "ringing", "CA400")
    assert ringing.status_code == 201, ringing.text
    assert ringing.json()["call"]["status"] == "ended"
    assert ringing.json()["conversation_id"] == ended.json()["conversation_id"]
    assert call(client, line["id"], "ended", "CA400", duration_seconds=75).json()["duplicate"] is True

    events = [e["event"] for e in console.calls()]
    assert events == ["call.ended", "call.answered"]  # no pop for a call that is already over
    (msg,) = voice_messages(app)
    assert msg.text == "Call, 1 min 15 s"
    assert msg.meta["agent_id"] == "usr_late"  # the late ``answered`` told the filed call who took it
    assert call_facts(app) == {"call.ringing": 1, "call.answered": 1, "call.ended": 1}


def test_a_transcript_becomes_the_call_message_and_the_duration_is_kept(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    line = voice_channel(client, tokens["admin"])
    call(client, line["id"], "answered", "CA500", agent_id="usr_a", timestamp="2024-05-01T10:00:00Z")
    r = call(
        client,
        line["id"],
        "ended",
        "CA500",
        timestamp="2024-05-01T10:02:05Z",
        transcript="Caller asked about her order; we rebooked the delivery.",
    )
    assert r.status_code == 201, r.text
    (msg,) = voice_messages(app)
    assert msg.text == "Caller asked about her order; we rebooked the delivery."
    # No duration given: it is the time from answer to hang-up.
    assert msg.meta["duration_seconds"] == 125 and msg.meta["has_transcript"] is True
    assert msg.created_at.isoformat().startswith("2024-05-01T10:02:05")


def _nothing_stored(app: App) -> None:
    with app.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 0
        assert s.scalar(select(func.count()).select_from(Event)) == 0
        assert s.scalar(select(func.count()).select_from(Message)) == 0
        actions = set(s.scalars(select(AuditEntry.action)))
    assert actions <= {"channel.created", "channel.updated", "token.created"}, actions


def test_a_bad_signature_is_refused_and_nothing_is_stored(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    line = voice_channel(client, tokens["admin"])
    chat = api_channel(client, tokens["admin"])
    body = orjson.dumps({"event": "ringing", "call_id": "CA600", "from": ANA})
    attempts = {
        "wrong secret": post_raw(client, line["id"], body, secret="not-the-line-secret-at-all"),
        "no signature": client.post(f"/hooks/{line['id']}/voice", content=body),
        "body changed after signing": client.post(
            f"/hooks/{line['id']}/voice",
            content=body.replace(b"CA600", b"CA601"),
            headers={"X-Amity-Signature": sign(VOICE_SECRET, body)},
        ),
        "unknown channel": post_raw(client, "chn_00000000000000000000000000", body),
        "an api channel at the voice path": post_raw(
            client, chat["id"], body, secret=chat["config"]["secret"]
        ),
    }
    for why, r in attempts.items():
        assert r.status_code == 401, f"{why}: {r.status_code} {r.text}"
        assert r.json()["error"] == "unauthorized", why
    _nothing_stored(app)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event": "dialing", "call_id": "CA1", "from": ANA}, "event"),
        ({"event": "ringing", "from": ANA}, "call_id"),
        ({"event": "ringing", "call_id": "has space", "from": ANA}, "call_id"),
        ({"event": "ringing", "call_id": "CA1"}, "from"),
        ({"event": "ringing", "call_id": "CA1", "from": "call me maybe"}, "from"),
        ({"event": "ended", "call_id": "CA1", "from": ANA, "duration_seconds": -5}, "duration_seconds"),
        ({"event": "ended", "call_id": "CA1", "from": ANA, "recording_url": "ftp://x/y"}, "recording_url"),
        (
            {"event": "ringing", "call_id": "CA1", "from": ANA, "timestamp": "2999-01-01T00:00:00Z"},
            "timestamp",
        ),
        ({"event": "ringing", "call_id": "CA1", "from": ANA, "colour": "blue"}, "colour"),
        ({"event": "ringing", "call_id": "CA1", "from": ANA, "agent_id": "a\u0000b"}, "agent_id"),
        ([1, 2, 3], "body"),
    ],
)
def test_an_invalid_call_event_is_refused_naming_the_field_and_nothing_is_stored(
    client: TestClient, app: App, tokens: dict[str, str], body: Any, field: str
) -> None:
    line = voice_channel(client, tokens["admin"])
    r = post_raw(client, line["id"], orjson.dumps(body))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
    _nothing_stored(app)


def test_a_body_that_is_not_json_is_refused_naming_the_body(
    client: TestClient, tokens: dict[str, str]
) -> None:
    line = voice_channel(client, tokens["admin"])
    r = post_raw(client, line["id"], b"event=ringing")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"


def test_the_voice_channel_config_is_checked_and_its_secret_masked(
    client: TestClient, tokens: dict[str, str]
) -> None:
    admin = tokens["admin"]
    for config, field in (({"secret": "short"}, "config.secret"), ({}, "config.secret")):
        r = client.post(
            "/api/v1/channels", json={"type": "voice", "name": "x", "config": config}, headers=auth(admin)
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    r = client.post(
        "/api/v1/channels",
        json={"type": "voice", "name": "x", "config": {"secret": VOICE_SECRET, "number": "not a number"}},
        headers=auth(admin),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "config.number"
    line = voice_channel(client, admin, number="+44 161 496 0000")
    assert line["config"]["number"] == "+441614960000"
    assert VOICE_SECRET not in orjson.dumps(line).decode()
    assert line["webhook_url"].endswith(f"/hooks/{line['id']}/voice")
    assert line["reaches"] == ["phone"]


def test_a_disabled_line_refuses_calls_and_stores_nothing(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    line = voice_channel(client, tokens["admin"])
    client.patch(f"/api/v1/channels/{line['id']}", json={"enabled": False}, headers=auth(tokens["admin"]))
    r = call(client, line["id"], "ringing", "CA700")
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "channel_id"
    _nothing_stored(app)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (192, "Call, 3 min 12 s"),
        (45, "Call, 45 s"),
        (0, "Call, 0 s"),
        (180, "Call, 3 min"),
        (3725, "Call, 1 h 2 min 5 s"),
        (None, "Call (duration unknown)"),
    ],
)
def test_a_call_without_a_transcript_reads_as_its_duration(seconds: int | None, text: str) -> None:
    assert duration_text(seconds) == text
