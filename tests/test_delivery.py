"""Outbound delivery: never lost, never sent twice by us, failures shown on the message."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from amity.config import Settings
from amity.conversations import delivery
from amity.conversations.models import Delivery, Message
from amity.core.actions import App
from amity.db import utcnow
from amity.web.app import build_app
from tests.conftest import auth
from tests.conversation_helpers import Receiver, api_channel, use_receiver, write_in

ANA = ("email", "ana@example.com")


@pytest.fixture
def admin(tokens: dict[str, str]) -> dict[str, str]:
    return auth(tokens["admin"])


def _reply(client: TestClient, app: App, admin: dict[str, str], **config: Any) -> tuple[str, int]:
    kiosk = api_channel(client, admin["Authorization"].split()[1], **config)
    cid = write_in(client, kiosk["id"], ANA, "where is my parcel?").json()["conversation_id"]
    r = client.post(f"/api/v1/conversations/{cid}/messages", json={"text": "On its way"}, headers=admin)
    assert r.status_code == 201, r.text
    with app.db.read() as s:
        d = s.scalar(select(Delivery).where(Delivery.message_id == r.json()["id"]))
    assert d is not None
    return r.json()["id"], d.id


def _message(app: App, message_id: str) -> Message:
    with app.db.read() as s:
        m = s.get(Message, message_id)
    assert m is not None
    return m


def _delivery(app: App, delivery_id: int) -> Delivery:
    with app.db.read() as s:
        d = s.get(Delivery, delivery_id)
    assert d is not None
    return d


def _make_due(app: App, delivery_id: int) -> None:
    with app.db.write_session() as s, s.begin():
        s.execute(update(Delivery).where(Delivery.id == delivery_id).values(next_attempt_at=utcnow()))


def test_a_temporary_failure_is_retried_with_backoff_and_shown_on_the_message(
    client: TestClient, app: App, admin: dict[str, str]
) -> None:
    receiver = Receiver(status=503)
    use_receiver(app, receiver)
    message_id, delivery_id = _reply(client, app, admin)
    assert delivery.deliver(app, delivery_id).status == "retry"
    m, d = _message(app, message_id), _delivery(app, delivery_id)
    assert m.delivery_status == "queued" and "503" in (m.delivery_error or "")
    assert d.status == "pending" and d.attempts == 1 and d.next_attempt_at > utcnow()
    assert delivery.deliver(app, delivery_id).status == "skipped"  # not due yet: nobody sends early
    receiver.status = 200
    _make_due(app, delivery_id)
    assert delivery.deliver(app, delivery_id).status == "sent"
    m = _message(app, message_id)
    assert (m.delivery_status, m.delivery_error) == ("sent", None)
    assert len({r.headers["Idempotency-Key"] for r in receiver.requests}) == 1  # the same key on every try
    assert delivery.backoff(1) < delivery.backoff(2) < delivery.backoff(3) <= 3600


def test_a_permanent_refusal_fails_at_once_with_its_reason(
    client: TestClient, app: App, admin: dict[str, str]
) -> None:
    use_receiver(app, Receiver(status=400))
    message_id, delivery_id = _reply(client, app, admin)
    assert delivery.deliver(app, delivery_id).status == "failed"
    m = _message(app, message_id)
    assert m.delivery_status == "failed" and "400" in (m.delivery_error or "")
    assert _delivery(app, delivery_id).status == "failed"


def test_retries_stop_after_the_configured_attempts(
    client: TestClient, app: App, admin: dict[str, str]
) -> None:
    app.settings.delivery_max_attempts = 3
    use_receiver(app, Receiver(status=500))
    message_id, delivery_id = _reply(client, app, admin)
    outcomes = []
    for _ in range(5):
        _make_due(app, delivery_id)
        outcomes.append(delivery.deliver(app, delivery_id).status)
    assert outcomes == ["retry", "retry", "failed", "skipped", "skipped"]
    assert _message(app, message_id).delivery_status == "failed"


def test_two_workers_racing_for_one_delivery_send_it_once(
    client: TestClient, app: App, admin: dict[str, str]
) -> None:
    receiver = Receiver()
    use_receiver(app, receiver)
    _, delivery_id = _reply(client, app, admin)
    results: list[str] = []
    barrier = threading.Barrier(4)

    def work() -> None:
        barrier.wait()
        results.append(delivery.deliver(app, delivery_id).status)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["sent", "skipped", "skipped", "skipped"]
    assert len(receiver.requests) == 1


def test_a_lost_job_is_found_by_the_sweep(client: TestClient, app: App, admin: dict[str, str]) -> None:
    """The process died between commit and enqueue: the row is there, the queue is not."""
    receiver = Receiver()
    use_receiver(app, receiver)
    message_id, _ = _reply(client, app, admin)  # nothing consumes the queue in tests
    assert _message(app, message_id).delivery_status == "queued"
    assert app.cache["jobs"].sweep() == 1
    assert _message(app, message_id).delivery_status == "sent" and len(receiver.requests) == 1
    assert app.cache["jobs"].sweep() == 0


def test_immediate_jobs_deliver_when_the_reply_commits(
    client: TestClient, app: App, admin: dict[str, str], settings: Settings
) -> None:
    """The enqueue path itself: the bus hands the committed delivery to huey, which runs it."""
    receiver = Receiver()
    immediate = build_app(settings.model_copy(update={"jobs_immediate": True}), app.db)
    use_receiver(immediate, receiver)
    from amity.web.app import create_app

    with TestClient(create_app(immediate)) as c:
        message_id, _ = _reply(c, immediate, admin)
    assert _message(app, message_id).delivery_status == "sent" and len(receiver.requests) == 1


# ---- a real worker process, killed mid-send -----------------------------------------------------
class _SlowProvider(BaseHTTPRequestHandler):
    """A provider that takes its time over the first request and honours Idempotency-Key."""

    seen: list[str] = []
    acted_on: set[str] = set()
    first_arrived = threading.Event()

    def do_POST(self) -> None:
        key = self.headers["Idempotency-Key"]
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append(key)
        if len(type(self).seen) == 1:
            type(self).first_arrived.set()
            time.sleep(3)  # the worker is killed while it waits for this answer
        type(self).acted_on.add(key)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"id": "prov-1"}')
        except BrokenPipeError:
            pass  # the worker that asked was killed; the provider acted all the same

    def log_message(self, *args: Any) -> None:
        pass


def _worker(app: App, home: str, log: Any) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "AMITY_HOME": home,
        "AMITY_DATABASE_URL": app.db.engine.url.render_as_string(hide_password=False),
        "AMITY_SECRET_KEY": "test-secret-key-not-for-production",
        "AMITY_DELIVERY_LEASE_SECONDS": "2",
        "AMITY_SWEEP_SECONDS": "0.5",
        "AMITY_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "amity.cli", "worker"],
        env=env,
        stdout=log,
        stderr=log,
    )


def test_a_worker_killed_mid_send_still_delivers_exactly_once(
    client: TestClient, app: App, admin: dict[str, str], settings: Settings
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowProvider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _SlowProvider.seen, _SlowProvider.acted_on = [], set()
    _SlowProvider.first_arrived.clear()
    url = f"http://127.0.0.1:{server.server_address[1]}/replies"
    settings.home.mkdir(parents=True, exist_ok=True)
    log = (settings.home / "workers.log").open("ab")
    try:
        message_id, delivery_id = _reply(client, app, admin, outbound_url=url)
        first = _worker(app, str(settings.home), log)
        assert _SlowProvider.first_arrived.wait(30), (settings.home / "workers.log").read_text()
        first.send_signal(signal.SIGKILL)  # dies holding the claim, before it can record the send
        first.wait(10)
        d = _delivery(app, delivery_id)
        assert d.status == "sending" and d.attempts == 1
        second = _worker(app, str(settings.home), log)
        try:
            deadline = time.monotonic() + 30
            while _message(app, message_id).delivery_status != "sent" and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(15)
        m, d = _message(app, message_id), _delivery(app, delivery_id)
        assert m.delivery_status == "sent", m.delivery_error
        assert d.attempts == 2
        assert len(_SlowProvider.seen) == 2 and len(set(_SlowProvider.seen)) == 1  # re-sent with the same key
        assert len(_SlowProvider.acted_on) == 1  # so the provider acted once: delivered exactly once
    finally:
        server.shutdown()
        server.server_close()
        log.close()


def test_due_lists_expired_claims_but_not_live_ones(
    client: TestClient, app: App, admin: dict[str, str]
) -> None:
    use_receiver(app, Receiver())
    _, delivery_id = _reply(client, app, admin)
    now = utcnow()
    assert delivery.claim(app, delivery_id, now)
    assert delivery_id not in delivery.due(app, now)
    later = now + dt.timedelta(seconds=app.settings.delivery_lease_seconds + 1)
    assert delivery_id in delivery.due(app, later)
