"""Story 1, connected service, across the real channels: a shopper chats on the website, then phones;
the clerk who answers sees the same conversation, and the reply reaches her open chat."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from amity.core.actions import App
from tests.conftest import auth
from tests.helpers import ev, one
from tests.test_channel_chat import connect, frame, identity_token, make_channel, opened, say, visitor
from tests.test_channel_voice import call, voice_channel

EMAIL, PHONE = "ana@example.com", "+447911123456"


def test_a_chat_then_a_phone_call_is_one_conversation_and_the_answer_reaches_the_chat(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    admin, agent = auth(tokens["admin"]), auth(tokens["agent"])
    # The shop already knows her: one order gave her email and her phone number.
    ana = one(app, ev("order.placed", f"email:{EMAIL}", f"phone:{PHONE}", traits={"name": "Ana Silva"}))
    chat: dict[str, Any] = make_channel(client, admin)
    line = voice_channel(client, tokens["admin"])

    # On the website, signed in (the site vouches for her email), she asks about her size.
    v = visitor(client, chat["id"], identity_token=identity_token({"email": EMAIL, "exp": 4102444800}))
    with connect(client, chat["id"], v["visitor_token"]) as ws:
        opened(ws)
        said = say(ws, "Is the trail shoe in 6.5 anywhere?")
        conv = client.get(f"/api/v1/conversations?customer_id={ana}", headers=agent).json()["items"]
        assert [c["customer"]["id"] for c in conv] == [ana]
        chat_conversation = conv[0]["id"]

        # She phones the store: the clerk's screen pops her, with the chat she has open.
        pop = call(client, line["id"], "ringing", "CA-7", frm=PHONE).json()
        assert pop["customer_id"] == ana and pop["conversation_id"] == chat_conversation
        assert [m["text"] for m in pop["conversation"]["last_messages"]] == [said["text"]]
        call(client, line["id"], "ended", "CA-7", frm=PHONE, transcript="Found a 6.5 in Porto; ordering it.")

        # The clerk answers in the same conversation; it goes out on the chat, live.
        r = client.post(
            f"/api/v1/conversations/{chat_conversation}/messages",
            json={"text": "Your 6.5 ships from Porto today."},
            headers=agent,
        )
        assert r.status_code == 201, r.text
        assert r.json()["channel_type"] == "chat"  # where she last wrote, not the phone line
        app.cache["jobs"].sweep()
        got = frame(ws)
        assert got["type"] == "message" and got["text"] == "Your 6.5 ships from Porto today."

    thread = client.get(f"/api/v1/conversations/{chat_conversation}", headers=agent).json()["messages"]
    assert [(m["channel_type"], m["direction"]) for m in thread] == [
        ("chat", "in"),
        ("voice", "in"),
        ("chat", "out"),
    ]
    assert thread[2]["delivery_status"] == "delivered"
