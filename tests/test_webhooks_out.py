"""Outgoing webhooks: admins subscribe URLs to events; each event is posted signed, retried with
backoff until a cap, and never posted twice by us (docs/webhooks.md)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from amity.channels import outgoing
from amity.channels.models import WebhookDelivery
from amity.channels.signing import sign, valid
from amity.config import Settings
from amity.core.actions import App
from amity.db import Database, utcnow
from amity.privacy.models import AuditEntry
from amity.web.app import build_app, create_app
from tests.conftest import auth, reset
from tests.conversation_helpers import api_channel, write_in

MAX_ATTEMPTS = 3
RECEIVER = "https://crm.example/hooks/amity-token-in-path-7f3a"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        secret_key="test-secret-key-not-for-production",
        delivery_max_attempts=MAX_ATTEMPTS,
    )


class Receiver:
    """The subscriber's server behind httpx2's MockTransport: answers ``statuses`` in turn (the last
    one repeats) and keeps every request it got."""

    def __init__(self, *statuses: int, before: Callable[[], None] | None = None) -> None:
        self.statuses = list(statuses) or [200]
        self.requests: list[httpx2.Request] = []
        self.before = before

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        if self.before is not None:
            self.before()
        self.requests.append(request)
        status = self.statuses[min(len(self.requests) - 1, len(self.statuses) - 1)]
        return httpx2.Response(status, text="ok" if status < 300 else "receiver is down")

    def keys(self) -> list[str]:
        return [r.headers["X-Amity-Delivery"] for r in self.requests]


@pytest.fixture
def hook_client(app: App) -> Iterator[Callable[[Receiver], None]]:
    made: list[httpx2.Client] = []

    def use(receiver: Receiver) -> None:
        client = httpx2.Client(transport=httpx2.MockTransport(receiver))
        made.append(client)
        app.cache[outgoing.HTTP_CLIENT_KEY] = client

    yield use
    for c in made:
        c.close()


def subscribe(client: TestClient, admin: str, url: str = RECEIVER, **extra: Any) -> dict[str, Any]:
    r = client.post("/api/v1/webhooks", json={"url": url, **extra}, headers=auth(admin))
    assert r.status_code == 201, r.text
    return dict(r.json())


def rows(app: App) -> list[WebhookDelivery]:
    with app.db.read() as s:
        return list(s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def audit_actions(app: App, prefix: str = "webhook.") -> list[str]:
    with app.db.read() as s:
        return [
            a for a in s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)) if a.startswith(prefix)
        ]


def a_customer_writes(client: TestClient, admin: str, text: str = "Where is my order?") -> dict[str, Any]:
    chat = api_channel(client, admin)
    r = write_in(client, chat["id"], ("email", "ana@example.com"), text)
    assert r.status_code == 201, r.text
    return dict(r.json())


# ---- subscriptions --------------------------------------------------------------------------------
def test_an_admin_subscribes_and_the_secret_is_shown_once_and_never_audited(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    admin = tokens["admin"]
    created = subscribe(client, admin, events=["message.created", "call.ringing", "message.created"])
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secret) > 30
    assert created["events"] == ["message.created", "call.ringing"]  # repeats dropped
    assert created["url"] == RECEIVER and created["enabled"] is True

    listed = client.get("/api/v1/webhooks", headers=auth(admin))
    one = client.get(f"/api/v1/webhooks/{created['id']}", headers=auth(admin))
    for r in (listed, one):
        assert r.status_code == 200 and secret not in r.text and "secret" not in r.json()
    assert [w["id"] for w in listed.json()["items"]] == [created["id"]]
    catalogue = {e["name"] for e in listed.json()["events"]}
    assert {"conversation.created", "message.created", "call.ringing", "call.ended"} <= catalogue

    with app.db.read() as s:
        (entry,) = s.scalars(select(AuditEntry).where(AuditEntry.action == "webhook.created"))
    details = orjson.dumps(entry.details).decode()
    assert secret not in details and "token-in-path" not in details  # host only, never the path
    assert entry.details["host"] == "https://crm.example" and entry.actor.startswith("token:")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://crm.example/x"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://"}, "url"),
        ({}, "url"),
        ({"url": RECEIVER, "events": ["order.placed"]}, "events[0]"),
        ({"url": RECEIVER, "events": ["message.created", "call.hung_up"]}, "events[1]"),
        ({"url": RECEIVER, "events": "message.created"}, "events"),
        ({"url": RECEIVER, "secret": "mine"}, "secret"),
    ],
)
def test_a_bad_subscription_is_refused_naming_the_field(
    client: TestClient, app: App, tokens: dict[str, str], body: dict[str, Any], field: str
) -> None:
    r = client.post("/api/v1/webhooks", json=body, headers=auth(tokens["admin"]))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert client.get("/api/v1/webhooks", headers=auth(tokens["admin"])).json()["items"] == []


def test_only_admins_manage_webhooks(client: TestClient, tokens: dict[str, str]) -> None:
    for role in ("supervisor", "agent", "integration"):
        r = client.post("/api/v1/webhooks", json={"url": RECEIVER}, headers=auth(tokens[role]))
        assert r.status_code == 403, role
        assert client.get("/api/v1/webhooks", headers=auth(tokens[role])).status_code == 403
    assert client.post("/api/v1/webhooks", json={"url": RECEIVER}).status_code == 401
    assert client.get("/api/v1/webhooks", headers=auth(tokens["admin"])).json()["items"] == []


def test_an_admin_changes_rotates_and_deletes_a_subscription(
    client: TestClient, app: App, tokens: dict[str, str], hook_client: Callable[[Receiver], None]
) -> None:
    admin = tokens["admin"]
    hook_client(Receiver(200))
    created = subscribe(client, admin)
    r = client.patch(
        f"/api/v1/webhooks/{created['id']}",
        json={"events": ["conversation.created"], "enabled": False},
        headers=auth(admin),
    )
    assert r.status_code == 200, r.text
    assert r.json()["events"] == ["conversation.created"] and r.json()["enabled"] is False
    assert "secret" not in r.json()
    rotated = client.patch(
        f"/api/v1/webhooks/{created['id']}", json={"rotate_secret": True}, headers=auth(admin)
    )
    assert rotated.json()["secret"] != created["secret"]
    bad = client.patch(f"/api/v1/webhooks/{created['id']}", json={"url": "mailto:a@b"}, headers=auth(admin))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "url"

    client.patch(f"/api/v1/webhooks/{created['id']}", json={"enabled": True}, headers=auth(admin))
    a_customer_writes(client, admin)
    assert len(rows(app)) == 1
    gone = client.delete(f"/api/v1/webhooks/{created['id']}", headers=auth(admin))
    assert gone.status_code == 200 and gone.json()["deliveries_removed"] == 1
    assert client.get(f"/api/v1/webhooks/{created['id']}", headers=auth(admin)).status_code == 404
    assert client.delete(f"/api/v1/webhooks/{created['id']}", headers=auth(admin)).status_code == 404
    assert rows(app) == []
    assert audit_actions(app) == [
        "webhook.created",
        "webhook.updated",
        "webhook.updated",
        "webhook.updated",
        "webhook.queued",
        "webhook.deleted",
    ]


# ---- delivery -------------------------------------------------------------------------------------
def test_an_event_is_posted_signed_and_the_receiver_can_verify_it(
    client: TestClient, app: App, tokens: dict[str, str], hook_client: Callable[[Receiver], None]
) -> None:
    receiver = Receiver(200)
    hook_client(receiver)
    admin = tokens["admin"]
    sub = subscribe(client, admin, events=["message.created"])
    wrote = a_customer_writes(client, admin)

    (row,) = rows(app)  # conversation.created is not asked for
    assert row.event == "message.created" and row.status == "pending"
    assert app.cache["webhooks"].sweep() == 1

    (request,) = receiver.requests
    assert request.method == "POST" and str(request.url) == RECEIVER
    assert valid(sub["secret"], request.content, request.headers["X-Amity-Signature"])
    assert request.headers["X-Amity-Signature"] == sign(sub["secret"], request.content)
    assert request.headers["X-Amity-Event"] == "message.created"
    assert request.headers["X-Amity-Delivery"] == row.idempotency_key
    assert request.headers["content-type"] == "application/json"
    body = orjson.loads(request.content)
    assert set(body) == {"id", "event", "created_at", "data"}
    assert body["event"] == "message.created"
    assert body["data"]["conversation_id"] == wrote["conversation_id"]
    assert body["data"]["message_id"] == wrote["message_id"]
    assert dt.datetime.fromisoformat(body["created_at"]).tzinfo is not None

    seen = client.get(f"/api/v1/webhooks/{sub['id']}/deliveries", headers=auth(admin)).json()
    (item,) = seen["items"]
    assert item["status"] == "delivered" and item["response_status"] == 200 and item["attempts"] == 1
    assert item["idempotency_key"] == row.idempotency_key and item["event_id"] == body["id"]
    assert seen["counts"]["delivered"] == 1
    assert audit_actions(app) == ["webhook.created", "webhook.queued", "webhook.delivered"]


def test_a_failing_receiver_is_retried_with_backoff_under_one_key_then_marked_failed(
    client: TestClient, app: App, tokens: dict[str, str], hook_client: Callable[[Receiver], None]
) -> None:
    receiver = Receiver(500)
    hook_client(receiver)
    sub = subscribe(client, tokens["admin"], events=["conversation.created"])
    a_customer_writes(client, tokens["admin"])
    (row,) = rows(app)
    now = utcnow()

    first = outgoing.deliver(app, row.id, now)
    assert first == outgoing.Outcome("retry", 30.0)
    (after,) = rows(app)
    assert after.status == "pending" and after.attempts == 1 and after.response_status == 500
    assert after.next_attempt_at == now + dt.timedelta(seconds=30)
    assert "receiver is down" in (after.last_error or "")
    assert outgoing.deliver(app, row.id, now + dt.timedelta(seconds=29)).status == "skipped"  # not due
    assert len(receiver.requests) == 1

    second = outgoing.deliver(app, row.id, now + dt.timedelta(seconds=30))
    assert second == outgoing.Outcome("retry", 60.0)  # the wait doubles
    third = outgoing.deliver(app, row.id, now + dt.timedelta(seconds=91))
    assert third.status == "failed"  # the cap (AMITY_DELIVERY_MAX_ATTEMPTS) is reached
    assert outgoing.deliver(app, row.id, now + dt.timedelta(days=1)).status == "skipped"

    assert len(receiver.requests) == MAX_ATTEMPTS
    assert set(receiver.keys()) == {row.idempotency_key}
    assert len({r.content for r in receiver.requests}) == 1  # byte-identical body, same signature
    assert all(valid(sub["secret"], r.content, r.headers["X-Amity-Signature"]) for r in receiver.requests)
    (done,) = rows(app)
    assert done.status == "failed" and done.attempts == MAX_ATTEMPTS and done.done_at is not None
    item = client.get(f"/api/v1/webhooks/{sub['id']}/deliveries?status=failed", headers=auth(tokens["admin"]))
    assert item.json()["items"][0]["response_status"] == 500
    assert item.json()["items"][0]["next_attempt_at"] is None
    assert audit_actions(app) == ["webhook.created", "webhook.queued", "webhook.failed"]


def test_backoff_grows_exponentially_to_a_cap() -> None:
    assert [outgoing.backoff(n) for n in range(1, 6)] == [30, 60, 120, 240, 480]
    assert outgoing.backoff(30) == 6 * 3600


def test_a_receiver_that_recovers_gets_the_event_on_the_next_attempt(
    client: TestClient, app: App, tokens: dict[str, str], hook_client: Callable[[Receiver], None]
) -> None:
    receiver = Receiver(503, 200)
    hook_client(receiver)
    subscribe(client, tokens["admin"], events=["conversation.created"])
    a_customer_writes(client, tokens["admin"])
    (row,) = rows(app)
    now = utcnow()
    assert outgoing.deliver(app, row.id, now).status == "retry"
    assert outgoing.deliver(app, row.id, now + dt.timedelta(minutes=1)).status == "delivered"
    assert receiver.keys() == [row.idempotency_key] * 2
    (done,) = rows(app)
    assert done.status == "delivered" and done.attempts == 2 and done.last_error is None


def test_a_connection_error_is_retried_and_names_only_the_receivers_origin(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    app.cache[outgoing.HTTP_CLIENT_KEY] = broken = httpx2.Client(transport=httpx2.MockTransport(refuse))
    try:
        subscribe(client, tokens["admin"], events=["message.created"])
        a_customer_writes(client, tokens["admin"])
        (row,) = rows(app)
        assert outgoing.deliver(app, row.id).status == "retry"
        (after,) = rows(app)
        assert after.response_status is None
        assert after.last_error == "could not reach https://crm.example: ConnectError"
    finally:
        broken.close()


def test_a_task_that_runs_twice_posts_once(
    client: TestClient, app: App, tokens: dict[str, str], hook_client: Callable[[Receiver], None]
) -> None:
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:  # the first worker is mid-request when the second one starts
        inside.set()
        release.wait(10)

    receiver = Receiver(200, before=hold)
    hook_client(receiver)
    subscribe(client, tokens["admin"], events=["message.created"])
    a_customer_writes(client, tokens["admin"])
    (row,) = rows(app)
    webhooks = app.cache["webhooks"]

    results: list[str] = []
    first = threading.Thread(target=lambda: results.append(webhooks.run(row.id)))
    first.start()
    assert inside.wait(10)
    results.append(webhooks.run(row.id))  # the same job again, while the first holds the claim
    assert webhooks.sweep() == 0  # and the sweep leaves a claimed row alone
    release.set()
    first.join(10)
    assert sorted(results) == ["delivered", "skipped"]
    assert webhooks.run(row.id) == "skipped"  # and once it is done, it stays done
    assert len(receiver.requests) == 1


def test_the_sweep_runs_a_lost_job_and_takes_over_from_a_dead_worker(
    client: TestClient, app: App, tokens: dict[str, str], hook_client: Callable[[Receiver], None]
) -> None:
    receiver = Receiver(200)
    hook_client(receiver)
    subscribe(client, tokens["admin"], events=["message.created"])
    a_customer_writes(client, tokens["admin"])
    (row,) = rows(app)
    now = utcnow()
    assert outgoing.claim(app, row.id, now)  # a worker claims it, then dies before posting
    assert outgoing.due(app, now) == []
    assert outgoing.deliver(app, row.id, now + dt.timedelta(minutes=1)).status == "skipped"  # lease held
    later = now + outgoing.LEASE + dt.timedelta(seconds=1)
    assert outgoing.due(app, later) == [row.id]
    assert outgoing.deliver(app, row.id, later).status == "delivered"
    (done,) = rows(app)
    assert done.attempts == 2 and done.status == "delivered"
    assert receiver.keys() == [row.idempotency_key]


def test_only_wanted_events_are_queued_and_disabled_subscriptions_get_nothing(
    client: TestClient, app: App, tokens: dict[str, str], hook_client: Callable[[Receiver], None]
) -> None:
    receiver = Receiver(200)
    hook_client(receiver)
    admin = tokens["admin"]
    everything = subscribe(client, admin)
    calls_only = subscribe(client, admin, url="https://pbx.example/amity", events=["call.ringing"])
    paused = subscribe(client, admin, url="https://paused.example/", enabled=False)
    a_customer_writes(client, admin)
    queued = {(r.subscription_id, r.event) for r in rows(app)}
    assert queued == {(everything["id"], "conversation.created"), (everything["id"], "message.created")}
    assert not any(sid in (calls_only["id"], paused["id"]) for sid, _ in queued)
    assert audit_actions(app).count("webhook.queued") == 2  # one audit row per event

    # Disabled after the rows were queued: they are cancelled, not posted.
    client.patch(f"/api/v1/webhooks/{everything['id']}", json={"enabled": False}, headers=auth(admin))
    assert {outgoing.deliver(app, r.id).status for r in rows(app)} == {"cancelled"}
    assert receiver.requests == []


def test_a_call_ringing_webhook_carries_the_screen_pop(
    client: TestClient, app: App, tokens: dict[str, str], hook_client: Callable[[Receiver], None]
) -> None:
    receiver = Receiver(200)
    hook_client(receiver)
    admin = tokens["admin"]
    subscribe(client, admin, events=["call.ringing", "call.ended"])
    line = client.post(
        "/api/v1/channels",
        json={"type": "voice", "name": "line", "config": {"secret": "pbx-secret-0123456789"}},
        headers=auth(admin),
    ).json()
    for event in ("ringing", "ended"):
        body = orjson.dumps(
            {"event": event, "call_id": "CA9", "from": "+447911123456", "duration_seconds": 5}
        )
        r = client.post(
            f"/hooks/{line['id']}/voice",
            content=body,
            headers={"X-Amity-Signature": sign("pbx-secret-0123456789", body)},
        )
        assert r.status_code == 201, r.text
    app.cache["webhooks"].sweep()
    events = {orjson.loads(r.content)["event"]: orjson.loads(r.content)["data"] for r in receiver.requests}
    assert set(events) == {"call.ringing", "call.ended"}
    assert events["call.ringing"]["customer"]["identities"] == [{"type": "phone", "value": "+447911123456"}]
    assert events["call.ended"]["conversation_id"] and events["call.ended"]["duration_seconds"] == 5


def test_secrets_and_receiver_paths_never_reach_the_logs(
    client: TestClient,
    app: App,
    tokens: dict[str, str],
    hook_client: Callable[[Receiver], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    hook_client(Receiver(500, 200))
    sub = subscribe(client, tokens["admin"])
    a_customer_writes(client, tokens["admin"])
    now = utcnow()
    for r in rows(app):
        outgoing.deliver(app, r.id, now)
        outgoing.deliver(app, r.id, now + dt.timedelta(hours=1))
    assert {r.status for r in rows(app)} == {"delivered"}
    assert "POST https://crm.example/…" in caplog.text  # requests are still logged, by origin…
    assert sub["secret"] not in caplog.text and "token-in-path" not in caplog.text  # …without secrets
    with app.db.read() as s:
        everything = orjson.dumps([e.details for e in s.scalars(select(AuditEntry))]).decode()
    assert sub["secret"] not in everything


def test_with_jobs_inline_an_event_is_delivered_by_the_huey_task(database: Database, tmp_path: Path) -> None:
    """The real path: bus -> rows in an action -> the registered huey task -> the receiver."""
    reset(database)
    settings = Settings(
        home=tmp_path / "inline", secret_key="test-secret-key-not-for-production", jobs_immediate=True
    )
    app = build_app(settings, database)
    receiver = Receiver(200)
    app.cache[outgoing.HTTP_CLIENT_KEY] = http = httpx2.Client(transport=httpx2.MockTransport(receiver))
    from amity.accounts.actions import create_token
    from amity.core.actions import SYSTEM, perform

    admin = perform(app, SYSTEM, create_token, "inline-admin", "admin")
    try:
        with TestClient(create_app(app)) as client:
            subscribe(client, admin, events=["conversation.created"])
            a_customer_writes(client, admin)
        (request,) = receiver.requests
        assert request.headers["X-Amity-Event"] == "conversation.created"
        assert [r.status for r in rows(app)] == ["delivered"]
    finally:
        http.close()


def test_a_row_deleted_mid_flight_is_left_alone(
    client: TestClient, app: App, tokens: dict[str, str], hook_client: Callable[[Receiver], None]
) -> None:
    hook_client(Receiver(200))
    sub = subscribe(client, tokens["admin"], events=["message.created"])
    a_customer_writes(client, tokens["admin"])
    (row,) = rows(app)
    with app.db.write_session() as s, s.begin():
        s.execute(update(WebhookDelivery).where(WebhookDelivery.id == row.id).values(status="delivered"))
    assert outgoing.deliver(app, row.id).status == "skipped"
    client.delete(f"/api/v1/webhooks/{sub['id']}", headers=auth(tokens["admin"]))
    assert outgoing.deliver(app, row.id).status == "skipped"


def test_a_subscription_made_after_quiet_traffic_gets_the_very_next_event(
    client: TestClient, app: App, tokens: dict[str, str], hook_client: Callable[[Receiver], None]
) -> None:
    # "Anyone listening?" is remembered between events; a change of subscriptions must renew it at
    # once, or the first events after subscribing (and after disabling) would go the wrong way.
    hook_client(Receiver(200))
    admin = tokens["admin"]
    chat = api_channel(client, admin)
    ana = ("email", "ana@example.com")
    write_in(client, chat["id"], ana, "hello")  # nobody subscribed: nothing queued, the answer is kept
    assert rows(app) == []
    sub = subscribe(client, admin, events=["message.created"])
    write_in(client, chat["id"], ana, "again")
    assert [r.event for r in rows(app)] == ["message.created"]
    client.patch(f"/api/v1/webhooks/{sub['id']}", json={"enabled": False}, headers=auth(admin))
    client.patch(f"/api/v1/webhooks/{sub['id']}", json={"enabled": True}, headers=auth(admin))
    write_in(client, chat["id"], ana, "and again")
    assert [r.event for r in rows(app)] == ["message.created", "message.created"]
