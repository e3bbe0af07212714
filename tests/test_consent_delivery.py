"""The policy where every message leaves (the outbox): a marketing message without consent is never
sent and the agent sees why; with consent it goes; quiet hours hold proactive messages until they end;
service replies flow whatever marketing says."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from amity.consent import policy
from amity.consent.config import ConsentSettings
from amity.conversations import delivery
from amity.conversations.actions import add_message
from amity.conversations.models import Delivery, Message
from amity.core.actions import SYSTEM, ActionContext, App, perform
from amity.db import utcnow
from amity.privacy.models import AuditEntry
from tests.conftest import auth
from tests.conversation_helpers import Receiver, api_channel, use_receiver, write_in
from tests.test_ui_console import signed_in

ANA = ("email", "ana@example.com")
NO_QUIET = ConsentSettings(quiet_start=dt.time(0, 0), quiet_end=dt.time(0, 0))  # switched off


def labelled(ctx: ActionContext, conversation_id: str, text: str, label: dict[str, object]) -> int:
    """What a campaign or notification sender does: queue the message and say what it is."""
    msg = add_message(ctx, conversation_id, text=text, meta=label)
    d = ctx.session.scalar(select(Delivery).where(Delivery.message_id == msg.id))
    assert d is not None
    return d.id


@pytest.fixture
def desk(client: TestClient, app: App, tokens: dict[str, str]) -> dict[str, Any]:
    receiver = Receiver()
    use_receiver(app, receiver)
    kiosk = api_channel(client, tokens["admin"])
    r = write_in(client, kiosk["id"], ANA, "Do you have the trail shoes in 6.5?")
    assert r.status_code == 201, r.text
    app.cache["consent.config"] = NO_QUIET
    return {
        "receiver": receiver,
        "conversation_id": r.json()["conversation_id"],
        "customer_id": r.json()["customer_id"],
    }


def rows(app: App, delivery_id: int) -> tuple[Delivery, Message]:
    with app.db.read() as s:
        d = s.get(Delivery, delivery_id)
        assert d is not None
        m = s.get(Message, d.message_id)
        assert m is not None
        return d, m


def test_marketing_without_consent_is_blocked_with_its_reason_and_goes_once_granted(
    client: TestClient, app: App, tokens: dict[str, str], desk: dict[str, Any]
) -> None:
    conv, cid = desk["conversation_id"], desk["customer_id"]
    offer = policy.label("marketing", "campaign")
    first = perform(app, SYSTEM, labelled, conv, "20% off trail shoes this week", offer)
    assert delivery.deliver(app, first).status == "blocked"
    d, m = rows(app, first)
    assert (d.status, d.attempts, m.delivery_status) == ("blocked", 0, "blocked")
    assert m.delivery_error == "no marketing consent on api"
    assert desk["receiver"].requests == []  # nothing left the building
    with app.db.read() as s:
        [audit] = s.scalars(select(AuditEntry).where(AuditEntry.action == "message.blocked"))
    assert audit.subject_id == m.id and audit.details["code"] == "no_consent"
    assert delivery.deliver(app, first).status == "skipped"  # final: a sweep never sends it

    browser, _, _ = signed_in(client, app, "agent")
    page = browser.get(f"/conversations/{conv}").text
    assert "Not sent: no marketing consent on api" in page

    r = client.post(
        f"/api/v1/customers/{cid}/consents",
        json={"purpose": "marketing", "status": "granted", "lawful_basis": "consent", "source": "widget"},
        headers=auth(tokens["integration"]),
    )
    assert r.status_code == 201, r.text
    second = perform(app, SYSTEM, labelled, conv, "20% off trail shoes this week", offer)
    assert delivery.deliver(app, second).status == "sent"
    assert rows(app, second)[1].delivery_status == "sent"
    [sent] = desk["receiver"].bodies()
    assert sent["text"] == "20% off trail shoes this week"


def test_service_replies_flow_after_marketing_is_withdrawn(
    client: TestClient, app: App, tokens: dict[str, str], desk: dict[str, Any]
) -> None:
    cid, conv = desk["customer_id"], desk["conversation_id"]
    for status in ("granted", "withdrawn"):
        body = {"purpose": "marketing", "status": status, "lawful_basis": "consent", "source": "api"}
        assert (
            client.post(
                f"/api/v1/customers/{cid}/consents", json=body, headers=auth(tokens["admin"])
            ).status_code
            == 201
        )
    reply = client.post(
        f"/api/v1/conversations/{conv}/messages",
        json={"text": "Yes, in store"},
        headers=auth(tokens["agent"]),
    )
    assert reply.status_code == 201
    assert app.cache["jobs"].sweep() == 1
    with app.db.read() as s:
        m = s.get(Message, reply.json()["id"])
    assert m is not None and m.delivery_status == "sent"
    campaign = perform(app, SYSTEM, labelled, conv, "New arrivals", policy.label("marketing", "campaign"))
    assert delivery.deliver(app, campaign).status == "blocked"
    assert "withdrew marketing on every channel" in (rows(app, campaign)[1].delivery_error or "")
    assert len(desk["receiver"].requests) == 1


def test_quiet_hours_hold_a_notification_until_they_end_while_a_reply_goes_at_once(
    client: TestClient, app: App, tokens: dict[str, str], desk: dict[str, Any]
) -> None:
    now = utcnow()
    # quiet from an hour ago to an hour from now (UTC is the business zone here): it is quiet now
    app.cache["consent.config"] = ConsentSettings(
        quiet_start=(now - dt.timedelta(hours=1)).time().replace(second=0, microsecond=0),
        quiet_end=(now + dt.timedelta(hours=1)).time().replace(second=0, microsecond=0),
        active_minutes=0,
    )
    conv = desk["conversation_id"]
    notice = perform(
        app, SYSTEM, labelled, conv, "Your order has shipped", policy.label("service", "notification")
    )
    outcome = delivery.deliver(app, notice)
    assert outcome.status == "retry" and outcome.retry_in is not None and 3000 < outcome.retry_in <= 3600
    d, m = rows(app, notice)
    assert (d.status, d.attempts, m.delivery_status) == ("pending", 0, "held")
    assert m.delivery_error is not None and m.delivery_error.startswith("held for quiet hours until")
    assert d.next_attempt_at > now + dt.timedelta(minutes=50)
    assert delivery.deliver(app, notice).status == "skipped"  # not due: nobody sends it early
    with app.db.read() as s:
        assert s.scalar(select(AuditEntry.id).where(AuditEntry.action == "message.held")) is not None

    reply = client.post(
        f"/api/v1/conversations/{conv}/messages",
        json={"text": "Yes, size 6.5 is in"},
        headers=auth(tokens["agent"]),
    )
    assert app.cache["jobs"].sweep() == 1  # the reply; the notification is not due
    with app.db.read() as s:
        replied = s.get(Message, reply.json()["id"])
    assert replied is not None and replied.delivery_status == "sent"

    # the morning comes: the held message is due again and goes
    app.cache["consent.config"] = NO_QUIET
    with app.db.write_session() as s, s.begin():
        s.execute(update(Delivery).where(Delivery.id == notice).values(next_attempt_at=utcnow()))
    assert delivery.deliver(app, notice).status == "sent"
    d, m = rows(app, notice)
    assert (d.status, d.attempts, m.delivery_status, m.delivery_error) == ("sent", 1, "sent", None)
    assert [b["text"] for b in desk["receiver"].bodies()] == ["Yes, size 6.5 is in", "Your order has shipped"]


def test_a_withdrawal_made_while_a_message_waited_still_stops_it(
    client: TestClient, app: App, tokens: dict[str, str], desk: dict[str, Any]
) -> None:
    """The policy is asked when the worker sends, not when the message was queued."""
    cid, conv = desk["customer_id"], desk["conversation_id"]
    body = {"purpose": "marketing", "status": "granted", "lawful_basis": "consent", "source": "api"}
    client.post(f"/api/v1/customers/{cid}/consents", json=body, headers=auth(tokens["admin"]))
    queued = perform(app, SYSTEM, labelled, conv, "Flash sale", policy.label("marketing", "campaign"))
    client.post(
        f"/api/v1/customers/{cid}/consents",
        json={**body, "status": "withdrawn", "channel": "api"},
        headers=auth(tokens["admin"]),
    )
    assert delivery.deliver(app, queued).status == "blocked"
    assert desk["receiver"].requests == []
