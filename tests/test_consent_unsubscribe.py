"""One-click unsubscribe (RFC 8058) through real mail: the marketing email carries the headers, a POST
to its URL writes a withdrawal, and a bad link says so without disclosing anything."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from amity.channels.email.listener import SmtpListener
from amity.consent import policy
from amity.consent.links import MAX_AGE, SALT, make_token
from amity.consent.models import ConsentRecord
from amity.core.actions import SYSTEM, App, perform
from tests.conftest import auth
from tests.helpers import ev, one
from tests.test_channel_email_kit import (
    Sink,
    channel,
    deliver_all,
    inbound_messages,
    listener,
    mail,
    reply,
    send,
    sink,
)
from tests.test_consent_delivery import NO_QUIET, labelled, rows

__all__ = ["channel", "listener", "sink"]  # fixtures used by name below


def withdrawals(app: App) -> list[ConsentRecord]:
    with app.db.read() as s:
        return list(s.scalars(select(ConsentRecord).where(ConsentRecord.status == "withdrawn")))


def test_marketing_mail_unsubscribes_in_one_click_and_the_next_offer_is_blocked(
    app: App,
    client: TestClient,
    tokens: dict[str, str],
    listener: SmtpListener,
    channel: dict[str, Any],
    sink: Sink,
) -> None:
    app.cache["consent.config"] = NO_QUIET
    send(listener, mail("Do you ship to Porto?", subject="Shipping"))
    [incoming] = inbound_messages(app)
    cid = incoming.customer_id
    grant = {
        "purpose": "marketing",
        "channel": "email",
        "status": "granted",
        "lawful_basis": "consent",
        "source": "widget",
    }
    assert (
        client.post(
            f"/api/v1/customers/{cid}/consents", json=grant, headers=auth(tokens["admin"])
        ).status_code
        == 201
    )

    reply(client, tokens["agent"], incoming.conversation_id, "Yes, we do.")
    offer = perform(
        app, SYSTEM, labelled, incoming.conversation_id, "Spring sale", policy.label("marketing", "campaign")
    )
    assert deliver_all(app) == 2
    service_mail, marketing_mail = sink.messages()
    assert service_mail["List-Unsubscribe"] is None  # a reply is not a mailing
    header = marketing_mail["List-Unsubscribe"]
    assert header.startswith("<http") and header.endswith(">")
    assert marketing_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = urlsplit(header[1:-1]).path
    assert path.startswith("/unsubscribe/")

    # a person opening the link sees a confirm page; nothing is written until they press the button
    page = TestClient(client.app).get(path)
    assert page.status_code == 200 and "Unsubscribe from marketing email?" in page.text
    assert withdrawals(app) == []
    # the mail provider's one-click POST, without cookies or credentials
    r = TestClient(client.app).post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200 and "You are unsubscribed" in r.text
    [w] = withdrawals(app)
    assert (w.customer_id, w.purpose, w.channel, w.source, w.recorded_by) == (
        cid,
        "marketing",
        "email",
        "email_link",
        "system:amity",
    )
    TestClient(client.app).post(path, content=b"List-Unsubscribe=One-Click")  # providers retry
    assert len(withdrawals(app)) == 1

    again = perform(
        app, SYSTEM, labelled, incoming.conversation_id, "Last chance", policy.label("marketing", "campaign")
    )
    deliver_all(app)
    assert len(sink.messages()) == 2  # no third mail
    assert rows(app, again)[1].delivery_status == "blocked"
    assert rows(app, offer)[1].delivery_status == "sent"


def test_a_tampered_or_foreign_link_gets_a_plain_page_and_writes_nothing(
    app: App, client: TestClient
) -> None:
    good = make_token(app, "cus_01xxxxxxxxxxxxxxxxxxxxxxxx")
    tampered = good[:-3] + ("aaa" if not good.endswith("aaa") else "bbb")
    foreign = URLSafeTimedSerializer("another-installation", salt=SALT).dumps(
        {"c": "x", "p": "marketing", "ch": "email"}
    )
    for token in (tampered, foreign, "not-a-token", "x" * 2000):
        for method in ("GET", "POST"):
            r = client.request(method, f"/unsubscribe/{token}")
            assert r.status_code == 400, (method, token)
            assert "This link is not valid" in r.text and "cus_" not in r.text
    assert withdrawals(app) == []


class _LongAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - MAX_AGE - 60  # signed just over the link's lifetime ago


def test_an_expired_link_is_refused_like_a_tampered_one(app: App, client: TestClient) -> None:
    old = URLSafeTimedSerializer(app.cache["secret_key"], salt=SALT, signer=_LongAgo)
    [cid] = [one(app, ev("x", "email:old@example.com"))]
    token = old.dumps({"c": cid, "p": "marketing", "ch": "email"})
    r = client.post(f"/unsubscribe/{token}")
    assert r.status_code == 400 and "This link is not valid" in r.text
    assert withdrawals(app) == []


def test_a_link_for_someone_erased_or_unknown_answers_as_if_done(app: App, client: TestClient) -> None:
    token = make_token(app, "cus_01nobodynobodynobodynobod")
    r = client.post(f"/unsubscribe/{token}")
    assert r.status_code == 200 and "You are unsubscribed" in r.text
    assert withdrawals(app) == []
