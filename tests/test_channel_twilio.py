"""SMS and WhatsApp through Twilio: real signed webhooks in, real Messages API requests out.

Webhooks are signed with Twilio's own ``RequestValidator`` over the public URL (AMITY_PUBLIC_URL), as
Twilio signs them; replies go through the real ``TwilioTransport`` over httpx2's MockTransport, so each
test sees the exact request Twilio would receive.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx2
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import select, update
from starlette.datastructures import MultiDict
from twilio.request_validator import RequestValidator

from amity.channels.twilio import TwilioTransport
from amity.channels.twilio import signature as twilio_signature
from amity.config import Settings
from amity.conversations.delivery import deliver
from amity.conversations.models import Conversation, Delivery, Message
from amity.core.actions import App
from amity.customers.models import Customer, Identity
from amity.db import utcnow
from amity.privacy.models import AuditEntry
from tests.conftest import auth

PUBLIC = "https://support.example.com"
SID = "AC" + "0123456789abcdef" * 2
TOKEN = "f3a9c2e1b4d5a6978877665544332211"
ANA = "+447911123456"
OUR_NUMBER = "+447700900123"
Handler = Callable[[httpx2.Request], httpx2.Response]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Behind a proxy the request Amity sees (http://testserver) is not the URL Twilio signed.
    return Settings(
        home=tmp_path / "home", secret_key="test-secret-key-not-for-production", public_url=PUBLIC
    )


@pytest.fixture
def admin(tokens: dict[str, str]) -> dict[str, str]:
    return auth(tokens["admin"])


def make_channel(
    client: TestClient, admin: dict[str, str], type_: str = "sms", **config: Any
) -> dict[str, Any]:
    base = {"account_sid": SID, "auth_token": TOKEN, "from_number": OUR_NUMBER}
    r = client.post(
        "/api/v1/channels",
        json={"type": type_, "name": f"{type_} line", "config": {**base, **config}},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.fixture
def sms(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    return make_channel(client, admin)


def incoming(
    sid: str = "SM" + "a1" * 16, frm: str = ANA, body: str = "Is my order shipped?", **extra: str
) -> dict[str, str]:
    """What Twilio posts for an incoming SMS (its real parameter set, trimmed of geography)."""
    return {
        "ToCountry": "GB",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "FromCountry": "GB",
        "To": OUR_NUMBER,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": SID,
        "From": frm,
        "ApiVersion": "2010-04-01",
        **extra,
    }


def post_signed(
    client: TestClient,
    url: str,
    params: dict[str, str],
    token: str = TOKEN,
    signed_url: str | None = None,
    signature: str | None = None,
) -> Any:
    """POST as Twilio does: form-encoded, signed over the public URL with Twilio's own validator."""
    sig = (
        signature
        if signature is not None
        else RequestValidator(token).compute_signature(signed_url or url, params)
    )
    return client.post(
        url.removeprefix(PUBLIC),
        content=urlencode(params),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig},
    )


def rows(app: App, model: Any, *where: Any) -> list[Any]:
    with app.db.read() as s:
        return list(s.scalars(select(model).where(*where)))


def one(app: App, model: Any, *where: Any) -> Any:
    [found] = rows(app, model, *where)
    return found


class FakeTwilio:
    """Twilio's Messages API as MockTransport serves it: records each request, answers as told."""

    def __init__(self) -> None:
        self.requests: list[httpx2.Request] = []
        self.answers: list[httpx2.Response | Exception] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        if answer is not None:
            return answer
        form = parse_qs(request.content.decode())
        sid = f"SM{len(self.requests):032x}"
        return httpx2.Response(
            201,
            json={
                "sid": sid,
                "status": "queued",
                "to": form["To"][0],
                "from": form["From"][0],
                "body": form["Body"][0],
            },
        )

    def forms(self) -> list[dict[str, list[str]]]:
        return [parse_qs(r.content.decode(), keep_blank_values=True) for r in self.requests]


@pytest.fixture
def twilio(app: App) -> FakeTwilio:
    fake = FakeTwilio()
    transport = TwilioTransport(PUBLIC, client=httpx2.Client(transport=httpx2.MockTransport(fake)))
    app.cache.setdefault("transports", {}).update({"sms": transport, "whatsapp": transport})
    return fake


def reply(
    client: TestClient, app: App, admin: dict[str, str], conversation_id: str, text: str, **extra: Any
) -> tuple[str, int]:
    r = client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": text, **extra}, headers=admin
    )
    assert r.status_code == 201, r.text
    d = one(app, Delivery, Delivery.message_id == r.json()["id"])
    return r.json()["id"], d.id


def message(app: App, message_id: str) -> Message:
    return one(app, Message, Message.id == message_id)


# ---- configuration ----------------------------------------------------------------------------------
def test_a_channel_answers_with_its_public_webhook_url_and_never_shows_the_token(
    client: TestClient, admin: dict[str, str]
) -> None:
    ch = make_channel(client, admin, from_number="+44 7700 900-123")
    assert ch["webhook_url"] == f"{PUBLIC}/hooks/{ch['id']}/twilio"
    assert ch["reaches"] == ["phone"]
    assert ch["config"]["from_number"] == OUR_NUMBER
    assert ch["config"]["auth_token"] == "••••" + TOKEN[-4:]
    assert ch["config"]["api_base"] == "https://api.twilio.com" and ch["config"]["status_callback"] is True
    wa = make_channel(client, admin, "whatsapp", from_number="+14155238886")
    assert wa["config"]["from_number"] == "whatsapp:+14155238886"


@pytest.mark.parametrize(
    ("type_", "config", "field"),
    [
        ("sms", {"account_sid": "SK123"}, "config.account_sid"),
        ("sms", {"auth_token": "short"}, "config.auth_token"),
        ("sms", {"from_number": "07700 900123"}, "config.from_number"),
        ("sms", {"from_number": "whatsapp:+447700900123"}, "config.from_number"),
        ("whatsapp", {"from_number": "whatsapp:hello"}, "config.from_number"),
        ("sms", {"api_base": "ftp://api.twilio.com"}, "config.api_base"),
        ("sms", {"colour": "red"}, "config.colour"),
    ],
)
def test_a_bad_config_is_refused_naming_the_field(
    client: TestClient, admin: dict[str, str], type_: str, config: dict[str, Any], field: str
) -> None:
    base = {"account_sid": SID, "auth_token": TOKEN, "from_number": OUR_NUMBER}
    r = client.post(
        "/api/v1/channels", json={"type": type_, "name": "x", "config": {**base, **config}}, headers=admin
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field


# ---- the signature ----------------------------------------------------------------------------------
_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20)


@hsettings(max_examples=200, deadline=None)
@given(
    url=st.sampled_from(
        [
            f"{PUBLIC}/hooks/chn_x/twilio",
            "https://support.example.com:443/hooks/chn_x/twilio?kind=sms&x=%20y",
            "http://10.0.0.5:8000/hooks/chn_x/twilio/status",
        ]
    ),
    pairs=st.lists(
        st.tuples(st.sampled_from(["Body", "body", "From", "MediaUrl0", "Ä", "a"]), _text), max_size=8
    ),
)
def test_our_signature_is_twilios_signature(url: str, pairs: list[tuple[str, str]]) -> None:
    params = MultiDict(pairs)
    theirs = RequestValidator(TOKEN).compute_signature(url, params)
    assert twilio_signature.compute(TOKEN, url, pairs) == theirs
    assert twilio_signature.valid(TOKEN, url, pairs, theirs)
    assert RequestValidator(TOKEN).validate(url, params, theirs)
    assert not twilio_signature.valid(TOKEN[::-1], url, pairs, theirs)


def test_a_signature_over_the_url_with_its_default_port_is_accepted(
    client: TestClient, app: App, sms: dict[str, Any]
) -> None:
    """Twilio has signed both forms over the years; its own validators accept either, and so do we."""
    ported = sms["webhook_url"].replace(PUBLIC, PUBLIC + ":443")
    r = post_signed(client, sms["webhook_url"], incoming(), signed_url=ported)
    assert r.status_code == 200, r.text
    assert len(rows(app, Message)) == 1


def test_the_query_string_is_part_of_what_twilio_signs(
    client: TestClient, app: App, sms: dict[str, Any]
) -> None:
    url = sms["webhook_url"] + "?source=console"
    assert post_signed(client, url, incoming()).status_code == 200
    unsigned_query = post_signed(client, url, incoming(sid="SM" + "b2" * 16), signed_url=sms["webhook_url"])
    assert unsigned_query.status_code == 401
    assert len(rows(app, Message)) == 1


# ---- inbound ----------------------------------------------------------------------------------------
def test_an_incoming_sms_files_a_customer_a_conversation_and_a_message(
    client: TestClient, app: App, sms: dict[str, Any], admin: dict[str, str]
) -> None:
    r = post_signed(client, sms["webhook_url"], incoming())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/xml")
    assert r.text.endswith("<Response/>")  # empty TwiML: Twilio sends no automatic reply
    [ident] = rows(app, Identity, Identity.type == "phone")
    assert ident.value == ANA
    conv = one(app, Conversation)
    assert (conv.customer_id, conv.status, conv.last_channel_id) == (ident.customer_id, "open", sms["id"])
    assert conv.subject == "Is my order shipped?"
    m = one(app, Message)
    assert (m.direction, m.channel_type, m.author_type, m.text) == (
        "in",
        "sms",
        "customer",
        "Is my order shipped?",
    )
    assert m.external_id == "SM" + "a1" * 16 and m.address == {"type": "phone", "value": ANA}
    assert m.meta["twilio"] == {"to": OUR_NUMBER, "num_segments": 1}
    seen = client.get(f"/api/v1/conversations/{conv.id}", headers=admin).json()
    assert seen["customer"]["identities"] == [{"type": "phone", "value": ANA}]
    assert [a.actor for a in rows(app, AuditEntry, AuditEntry.action == "message.received")] == [
        f"channel:{sms['id']}"
    ]


def test_a_retried_webhook_is_stored_once(client: TestClient, app: App, sms: dict[str, Any]) -> None:
    for _ in range(3):
        r = post_signed(client, sms["webhook_url"], incoming())
        assert r.status_code == 200 and r.text.endswith("<Response/>")
    assert len(rows(app, Message)) == 1 and len(rows(app, Conversation)) == 1


def test_a_second_message_joins_the_open_conversation(
    client: TestClient, app: App, sms: dict[str, Any]
) -> None:
    post_signed(client, sms["webhook_url"], incoming())
    post_signed(client, sms["webhook_url"], incoming(sid="SM" + "c3" * 16, body="It was due Monday"))
    conv = one(app, Conversation)
    assert sorted(m.text for m in rows(app, Message, Message.conversation_id == conv.id)) == [
        "Is my order shipped?",
        "It was due Monday",
    ]


def test_a_whatsapp_message_with_media_keeps_the_urls_and_the_profile_name(
    client: TestClient, app: App, admin: dict[str, str]
) -> None:
    wa = make_channel(client, admin, "whatsapp", from_number="whatsapp:+14155238886")
    media = "https://api.twilio.com/2010-04-01/Accounts/" + SID + "/Messages/MM" + "d4" * 16 + "/Media/ME"
    params = incoming(
        sid="MM" + "d4" * 16,
        frm="whatsapp:" + ANA,
        body="This arrived broken",
        NumMedia="2",
        MediaUrl0=media + "1",
        MediaContentType0="image/jpeg",
        MediaUrl1=media + "2",
        MediaContentType1="video/mp4",
        ProfileName="Ana Silva",
        WaId=ANA.lstrip("+"),
        To="whatsapp:+14155238886",
    )
    r = post_signed(client, wa["webhook_url"], params)
    assert r.status_code == 200, r.text
    m = one(app, Message)
    assert m.channel_type == "whatsapp" and m.address == {"type": "phone", "value": ANA}
    assert m.meta["media"] == [
        {"url": media + "1", "content_type": "image/jpeg"},
        {"url": media + "2", "content_type": "video/mp4"},
    ]
    assert m.meta["sender_name"] == "Ana Silva" and m.meta["twilio"]["wa_id"] == "447911123456"
    assert one(app, Identity).value == ANA
    name = client.get(f"/api/v1/customers/{m.customer_id}", headers=admin).json()["traits"]["name"]
    assert name == "Ana Silva"


def test_a_shared_location_is_kept(client: TestClient, app: App, admin: dict[str, str]) -> None:
    wa = make_channel(client, admin, "whatsapp", from_number="whatsapp:+14155238886")
    params = incoming(frm="whatsapp:" + ANA, body="", Latitude="51.5072", Longitude="-0.1276", Label="Home")
    assert post_signed(client, wa["webhook_url"], params).status_code == 200
    assert one(app, Message).meta["location"] == {"latitude": 51.5072, "longitude": -0.1276, "label": "Home"}


def _forged(sms: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    url = sms["webhook_url"]
    good = incoming()
    return [
        ("no signature", {"signature": ""}),
        ("another account's token", {"token": "0" * 32}),
        (
            "signed over the URL Amity sees, not the public one",
            {"signed_url": "http://testserver" + url.removeprefix(PUBLIC)},
        ),
        ("signed for the status URL", {"signed_url": url + "/status"}),
        ("garbage", {"signature": "not-base64!"}),
        (
            "a signature of other params",
            {"signature": RequestValidator(TOKEN).compute_signature(url, {**good, "Body": "x"})},
        ),
    ]


def test_a_bad_or_missing_signature_is_refused_and_nothing_is_stored(
    client: TestClient, app: App, sms: dict[str, Any]
) -> None:
    for why, how in _forged(sms):
        r = post_signed(client, sms["webhook_url"], incoming(), **how)
        assert r.status_code == 401, f"{why}: {r.status_code} {r.text}"
        assert r.json()["error"] == "unauthorized", why
    unknown = sms["webhook_url"].replace(sms["id"], "chn_00000000000000000000000000")
    assert post_signed(client, unknown, incoming()).status_code == 401
    assert rows(app, Message) == [] and rows(app, Customer) == [] and rows(app, Identity) == []


def test_a_webhook_signed_for_one_channel_is_refused_by_another(
    client: TestClient, app: App, sms: dict[str, Any], admin: dict[str, str]
) -> None:
    other = make_channel(client, admin, from_number="+447700900999")
    params = incoming()
    sig = RequestValidator(TOKEN).compute_signature(sms["webhook_url"], params)
    r = post_signed(client, other["webhook_url"], params, signature=sig)
    assert r.status_code == 401
    assert rows(app, Message) == []


def test_a_disabled_channel_refuses_even_a_signed_message(
    client: TestClient, app: App, sms: dict[str, Any], admin: dict[str, str]
) -> None:
    client.patch(f"/api/v1/channels/{sms['id']}", json={"enabled": False}, headers=admin)
    r = post_signed(client, sms["webhook_url"], incoming())
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "channel_id"
    assert rows(app, Message) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"MessageSid": ""}, "MessageSid"),
        ({"From": ""}, "From"),
        ({"NumMedia": "lots"}, "NumMedia"),
        ({"NumMedia": "11"}, "NumMedia"),
        ({"Body": "nul\x00here"}, "Body"),
        ({"Latitude": "north"}, "Latitude"),
    ],
)
def test_a_signed_but_malformed_message_is_refused_naming_the_field(
    client: TestClient, app: App, sms: dict[str, Any], change: dict[str, str], field: str
) -> None:
    params = {k: v for k, v in {**incoming(), **change}.items() if v != "" or k not in change}
    r = post_signed(client, sms["webhook_url"], params)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field
    assert rows(app, Message) == [] and rows(app, Customer) == []


def test_a_sender_that_is_not_a_phone_number_is_refused_naming_from(
    client: TestClient, app: App, sms: dict[str, Any]
) -> None:
    r = post_signed(client, sms["webhook_url"], incoming(frm="SHOPCO"))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "from"
    assert rows(app, Message) == []


# ---- outbound ---------------------------------------------------------------------------------------
def _conversation(client: TestClient, app: App, channel: dict[str, Any], frm: str = ANA) -> str:
    params = incoming(frm=frm)
    if channel["type"] == "whatsapp":
        params |= {"To": "whatsapp:+14155238886"}
    assert post_signed(client, channel["webhook_url"], params).status_code == 200
    return str(one(app, Conversation).id)


def test_an_agent_reply_is_posted_to_twilios_messages_api(
    client: TestClient, app: App, sms: dict[str, Any], admin: dict[str, str], twilio: FakeTwilio
) -> None:
    cid = _conversation(client, app, sms)
    message_id, delivery_id = reply(client, app, admin, cid, "  Yes — it ships today.  ")
    assert message(app, message_id).delivery_status == "queued"
    assert deliver(app, delivery_id).status == "sent"
    [req] = twilio.requests
    assert req.method == "POST"
    assert str(req.url) == f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
    assert req.headers["authorization"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert req.headers["content-type"] == "application/x-www-form-urlencoded"
    assert twilio.forms() == [
        {
            "To": [ANA],
            "From": [OUR_NUMBER],
            "Body": ["Yes — it ships today."],
            "StatusCallback": [f"{PUBLIC}/hooks/{sms['id']}/twilio/status"],
        }
    ]
    m = message(app, message_id)
    assert (m.delivery_status, m.external_id, m.delivery_error) == ("sent", f"SM{1:032x}", None)
    assert m.address == {"type": "phone", "value": ANA}


def test_a_whatsapp_reply_goes_to_the_whatsapp_address(
    client: TestClient, app: App, admin: dict[str, str], twilio: FakeTwilio
) -> None:
    wa = make_channel(client, admin, "whatsapp", from_number="+14155238886", status_callback=False)
    cid = _conversation(client, app, wa, frm="whatsapp:" + ANA)
    _, delivery_id = reply(client, app, admin, cid, "We are sending a new pair")
    assert deliver(app, delivery_id).status == "sent"
    # No StatusCallback when the channel turned status callbacks off.
    assert twilio.forms() == [
        {"To": ["whatsapp:" + ANA], "From": ["whatsapp:+14155238886"], "Body": ["We are sending a new pair"]}
    ]


def test_a_custom_api_base_is_where_the_reply_goes(
    client: TestClient, app: App, admin: dict[str, str], twilio: FakeTwilio
) -> None:
    ch = make_channel(client, admin, api_base="https://twilio-gateway.internal:8443/proxy/")
    cid = _conversation(client, app, ch)
    _, delivery_id = reply(client, app, admin, cid, "hello")
    deliver(app, delivery_id)
    assert (
        str(twilio.requests[0].url)
        == f"https://twilio-gateway.internal:8443/proxy/2010-04-01/Accounts/{SID}/Messages.json"
    )


def _status(sid: str, status: str, **extra: str) -> dict[str, str]:
    return {
        "SmsSid": sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": ANA,
        "MessageSid": sid,
        "AccountSid": SID,
        "From": OUR_NUMBER,
        "ApiVersion": "2010-04-01",
        **extra,
    }


def _sent(client: TestClient, app: App, sms: dict[str, Any], admin: dict[str, str]) -> Message:
    cid = _conversation(client, app, sms)
    message_id, delivery_id = reply(client, app, admin, cid, "It ships today")
    assert deliver(app, delivery_id).status == "sent"
    return message(app, message_id)


def test_status_callbacks_move_the_message_to_delivered(
    client: TestClient, app: App, sms: dict[str, Any], admin: dict[str, str], twilio: FakeTwilio
) -> None:
    m = _sent(client, app, sms, admin)
    status_url = f"{sms['webhook_url']}/status"
    for state in ("queued", "sent", "delivered"):
        r = post_signed(client, status_url, _status(str(m.external_id), state))
        assert r.status_code == 200 and r.text.endswith("<Response/>")
    after = message(app, m.id)
    assert after.delivery_status == "delivered" and after.delivered_at is not None
    [entry] = rows(app, AuditEntry, AuditEntry.action == "message.status")
    assert entry.subject_id == m.id and entry.details["status"] == "delivered"


@pytest.mark.parametrize("state", ["undelivered", "failed"])
def test_an_undelivered_status_shows_twilios_reason_on_the_message(
    client: TestClient, app: App, sms: dict[str, Any], admin: dict[str, str], twilio: FakeTwilio, state: str
) -> None:
    m = _sent(client, app, sms, admin)
    r = post_signed(
        client, f"{sms['webhook_url']}/status", _status(str(m.external_id), state, ErrorCode="30003")
    )
    assert r.status_code == 200
    after = message(app, m.id)
    assert after.delivery_status == "failed"
    assert after.delivery_error == f"{state} — Twilio error 30003: unreachable destination handset"


def test_a_status_callback_posted_to_the_message_url_is_understood(
    client: TestClient, app: App, sms: dict[str, Any], admin: dict[str, str], twilio: FakeTwilio
) -> None:
    m = _sent(client, app, sms, admin)
    assert (
        post_signed(client, sms["webhook_url"], _status(str(m.external_id), "delivered")).status_code == 200
    )
    assert message(app, m.id).delivery_status == "delivered"
    assert len(rows(app, Message)) == 2  # the callback was not mistaken for a message from the customer


def test_a_status_callback_needs_a_valid_signature_and_a_known_sid(
    client: TestClient, app: App, sms: dict[str, Any], admin: dict[str, str], twilio: FakeTwilio
) -> None:
    m = _sent(client, app, sms, admin)
    url = f"{sms['webhook_url']}/status"
    forged = post_signed(client, url, _status(str(m.external_id), "failed"), token="0" * 32)
    assert forged.status_code == 401
    stranger = post_signed(client, url, _status("SM" + "e5" * 16, "delivered"))
    assert stranger.status_code == 200  # another system's message on the same number: nothing to do
    missing = post_signed(
        client, url, {k: v for k, v in _status(str(m.external_id), "x").items() if k != "MessageStatus"}
    )
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "MessageStatus"
    assert message(app, m.id).delivery_status == "sent"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            httpx2.Response(
                400,
                json={
                    "code": 21211,
                    "message": "The 'To' number +4479 is not a valid phone number.",
                    "more_info": "https://www.twilio.com/docs/errors/21211",
                    "status": 400,
                },
            ),
            "Twilio answered 400 (error 21211: The 'To' number +4479 is not a valid phone number.)",
        ),
        (
            httpx2.Response(
                400,
                json={"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400},
            ),
            "Twilio answered 400 (error 21610: Attempt to send to unsubscribed recipient)",
        ),
        (
            httpx2.Response(401, json={"code": 20003, "message": "Authenticate", "status": 401}),
            "Twilio answered 401 (error 20003: Authenticate (check the channel's account_sid and auth_token))",
        ),
        (
            httpx2.Response(
                201,
                json={
                    "sid": "SM1",
                    "status": "failed",
                    "error_code": 30007,
                    "error_message": "Carrier violation",
                },
            ),
            "Twilio could not send it (error 30007: Carrier violation)",
        ),
    ],
)
def test_a_permanent_refusal_fails_the_message_at_once_with_the_reason(
    client: TestClient,
    app: App,
    sms: dict[str, Any],
    admin: dict[str, str],
    twilio: FakeTwilio,
    answer: httpx2.Response,
    reason: str,
) -> None:
    cid = _conversation(client, app, sms)
    message_id, delivery_id = reply(client, app, admin, cid, "hello")
    twilio.answers.append(answer)
    assert deliver(app, delivery_id).status == "failed"
    m, d = message(app, message_id), one(app, Delivery, Delivery.id == delivery_id)
    assert (m.delivery_status, m.delivery_error) == ("failed", reason)
    assert (d.status, d.attempts) == ("failed", 1)
    shown = client.get(f"/api/v1/conversations/{cid}", headers=admin).json()["messages"][-1]
    assert shown["delivery_status"] == "failed" and shown["delivery_error"] == reason


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (httpx2.Response(503, text="<html>Service Unavailable</html>"), "Twilio answered 503"),
        (
            httpx2.Response(429, json={"code": 20429, "message": "Too Many Requests", "status": 429}),
            "error 20429",
        ),
        (
            httpx2.Response(
                400, json={"code": 14107, "message": "SMS send rate limit exceeded", "status": 400}
            ),
            "error 14107",
        ),
        (
            httpx2.ConnectError("connection refused"),
            "could not reach Twilio: ConnectError: connection refused",
        ),
        (httpx2.ReadTimeout("timed out"), "could not reach Twilio: ReadTimeout"),
    ],
)
def test_a_temporary_failure_is_retried_later_and_shown_meanwhile(
    client: TestClient,
    app: App,
    sms: dict[str, Any],
    admin: dict[str, str],
    twilio: FakeTwilio,
    answer: httpx2.Response | Exception,
    reason: str,
) -> None:
    cid = _conversation(client, app, sms)
    message_id, delivery_id = reply(client, app, admin, cid, "hello")
    twilio.answers.append(answer)
    outcome = deliver(app, delivery_id)
    assert outcome.status == "retry" and outcome.retry_in == 5.0
    m, d = message(app, message_id), one(app, Delivery, Delivery.id == delivery_id)
    assert m.delivery_status == "queued" and reason in (m.delivery_error or "")
    assert d.status == "pending" and d.next_attempt_at > utcnow() + dt.timedelta(seconds=3)
    with app.db.write_session() as s, s.begin():
        s.execute(update(Delivery).where(Delivery.id == delivery_id).values(next_attempt_at=utcnow()))
    assert deliver(app, delivery_id).status == "sent"
    m = message(app, message_id)
    assert (m.delivery_status, m.delivery_error, m.external_id) == ("sent", None, f"SM{2:032x}")


@pytest.mark.parametrize(
    ("text", "attach", "reason"),
    [
        ("x" * 1601, False, "the text is 1601 characters; Twilio sends at most 1600 in one message"),
        ("see the label", True, "sms replies cannot carry attachments yet; send the text alone"),
    ],
)
def test_what_twilio_would_refuse_is_failed_without_calling_it(
    client: TestClient,
    app: App,
    sms: dict[str, Any],
    admin: dict[str, str],
    twilio: FakeTwilio,
    text: str,
    attach: bool,
    reason: str,
) -> None:
    cid = _conversation(client, app, sms)
    files = (
        [{"filename": "label.txt", "content_base64": base64.b64encode(b"label").decode()}] if attach else []
    )
    message_id, delivery_id = reply(client, app, admin, cid, text, attachments=files)
    assert deliver(app, delivery_id).status == "failed"
    assert message(app, message_id).delivery_error == reason
    assert twilio.requests == []
