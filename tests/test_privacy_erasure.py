"""Erasure: canaries planted in every personal field are found nowhere afterwards (database file,
PostgreSQL dump, data directory, logs), aggregates stay, and tombstones stop silent re-creation."""

from __future__ import annotations

import base64
import logging
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from amity.channels.models import WebhookDelivery
from amity.conversations.models import Attachment, Conversation, Message
from amity.core.actions import SYSTEM, App
from amity.customers import service
from amity.customers.models import Customer, Event, Identity
from amity.logs import JsonFormatter
from amity.privacy.request_models import Tombstone
from tests.conftest import auth
from tests.conversation_helpers import api_channel, write_in
from tests.test_privacy_kit import file, ingest, now_app, now_client, request_row

__all__ = ["now_app", "now_client"]  # fixtures used by name below


class Canaries:
    def __init__(self) -> None:
        tag = secrets.token_hex(6)
        self.tag = tag
        self.name = f"Zanzibar Canary{tag}"
        self.email = f"canary{tag}@example.com"
        self.phone = "+4479111" + str(int(tag, 16) % 100000).zfill(5)
        self.text = f"my secret order note canarytext{tag}"
        self.subject = f"canarysubject{tag}"
        self.file = f"canaryfile{tag}".encode()
        self.filename = f"canaryname{tag}.txt"
        self.prop = f"canaryprop{tag}"
        self.hook = f"canaryhook{tag}"
        self.log = f"canarylog{tag}"

    def needles(self) -> list[bytes]:
        raw = [
            self.name,
            self.email,
            self.phone,
            self.text,
            self.subject,
            self.filename,
            self.prop,
            self.hook,
            self.log,
        ]
        return [s.encode() for s in raw] + [self.file]


@pytest.fixture
def log_file(now_app: App) -> Iterator[Path]:
    """Amity's JSON log lines, kept in AMITY_HOME/logs as an install that logs to files does."""
    path = now_app.settings.home / "logs" / "amity.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("amity.canary")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield path
    logger.removeHandler(handler)
    handler.close()


def _plant(client: TestClient, app: App, admin: str, agent: str, c: Canaries) -> tuple[str, str]:
    first = ingest(
        app,
        {
            "type": "page.viewed",
            "identities": [{"type": "email", "value": c.email}],
            "traits": {"name": c.name},
            "properties": {"note": c.prop, "amount": 5},
        },
    )
    cid = str(first[0]["customer_id"])
    ingest(app, {"type": "call.ended", "identities": [{"type": "phone", "value": c.phone}]})
    ingest(
        app,
        {
            "type": "order.placed",
            "identities": [{"type": "email", "value": c.email}, {"type": "phone", "value": c.phone}],
            "properties": {"amount": 80, "currency": "EUR", "gift_message": c.prop},
        },
    )
    kiosk = api_channel(client, admin, name=f"kiosk-{c.tag}")
    r = write_in(
        client,
        kiosk["id"],
        ("email", c.email),
        c.text,
        subject=c.subject,
        name=c.name,
        external_id=f"ext-{c.tag}",
        attachments=[{"filename": c.filename, "content_base64": base64.b64encode(c.file).decode()}],
    )
    assert r.status_code in (200, 201, 202), r.text
    conv = str(r.json()["conversation_id"])
    note = client.post(
        f"/api/v1/conversations/{conv}/messages",
        json={"text": f"note: {c.text}", "note": True},
        headers=auth(agent),
    )
    assert note.status_code == 201, note.text
    # An event as another capability might publish it, on its way to an outside system.
    with app.db.write_session() as s, s.begin():
        from amity.channels.models import WebhookSubscription

        s.add(
            WebhookSubscription(id=f"whs_{c.tag}", url="https://hooks.example/x", secret="s" * 20, events=[])
        )
        s.flush()
        s.add(
            WebhookDelivery(
                subscription_id=f"whs_{c.tag}",
                event="order.note",
                idempotency_key=c.tag,
                payload={"id": "whe_1", "event": "order.note", "data": {"customer_id": cid, "text": c.hook}},
            )
        )
    logging.getLogger("amity.canary").info("inbound from %s (%s): %s", c.email, c.phone, c.log)
    return cid, conv


def _scan_dir(root: Path, needles: list[bytes]) -> list[str]:
    hits = []
    for p in root.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            hits += [
                f"{p.relative_to(root)}: {n!r}" for n in needles if n in data or n.lower() in data.lower()
            ]
    return hits


def _pg_dump(app: App) -> bytes:
    url = make_url(app.db.url)
    dsn = f"postgresql://{url.username}@{url.host}:{url.port or 5432}/{url.database}"
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is needed for this check"
    return subprocess.run([pg_dump, "--data-only", dsn], check=True, capture_output=True, timeout=120).stdout


def _database_bytes(app: App) -> bytes:
    if app.db.is_sqlite:
        db_file = Path(make_url(app.db.url).database or "")
        return b"".join(
            p.read_bytes() for p in (db_file, db_file.with_name(db_file.name + "-wal")) if p.exists()
        )
    assert shutil.which("pg_dump"), "pg_dump is needed for this check"
    return _pg_dump(app)


def test_erasure_leaves_no_canary_anywhere_and_keeps_the_aggregates(
    now_client: TestClient, now_app: App, tokens: dict[str, str], log_file: Path
) -> None:
    c = Canaries()
    cid, conv = _plant(now_client, now_app, tokens["admin"], tokens["agent"], c)
    access = file(now_client, tokens["admin"], type="access", customer_id=cid, verification_method="in store")
    with now_app.db.read() as s:
        events_before = s.scalar(select(func.count()).select_from(Event).where(Event.customer_id == cid))
        messages_before = s.scalar(
            select(func.count()).select_from(Message).where(Message.conversation_id == conv)
        )
        [att] = s.scalars(select(Attachment).where(Attachment.customer_id == cid)).all()
    assert (now_app.settings.home / att.storage_path).exists()
    assert c.log.encode() in log_file.read_bytes()
    # Everything planted is really there before (else the scan below would prove nothing).
    home = now_app.settings.home
    assert _scan_dir(home, [c.file]) and _scan_dir(home, [c.log.encode()])
    assert c.email.encode() in _database_bytes(now_app)

    r = file(
        now_client, tokens["admin"], type="erasure", customer_id=cid, verification_method="letter with ID"
    )
    assert request_row(now_app, r["id"]).status == "completed"

    needles = c.needles()
    assert _scan_dir(home, needles) == []  # data directory: attachment files, exports, logs
    assert request_row(now_app, access["id"]).export_path is None
    # The database: SQLite's file and write-ahead log byte for byte (free pages included), or a
    # complete pg_dump of the PostgreSQL database.
    stored = _database_bytes(now_app)
    assert [n for n in needles if n in stored] == []
    # Aggregates stay: the same number of events and messages, the conversation and its status.
    with now_app.db.read() as s:
        assert (
            s.scalar(select(func.count()).select_from(Event).where(Event.customer_id == cid)) == events_before
        )
        assert (
            s.scalar(select(func.count()).select_from(Message).where(Message.conversation_id == conv))
            == messages_before
        )
        cv = s.get(Conversation, conv)
        assert cv is not None and cv.status == "open" and cv.last_inbound_at is not None
        order = s.scalar(select(Event).where(Event.customer_id == cid, Event.type == "order.placed"))
        assert order is not None and order.properties == {"amount": 80, "currency": "EUR"}
        assert s.scalar(select(func.count()).select_from(Identity).where(Identity.customer_id == cid)) == 0
        assert (
            s.scalar(select(func.count()).select_from(Tombstone).where(Tombstone.request_id == r["id"])) >= 3
        )


def test_a_tombstoned_identifier_is_refused_without_a_new_lawful_basis(
    now_client: TestClient, now_app: App, tokens: dict[str, str]
) -> None:
    [first] = ingest(
        now_app,
        {
            "type": "page.viewed",
            "identities": [{"type": "email", "value": "gone@example.com"}],
            "traits": {"name": "Gone Person"},
        },
    )
    cid = first["customer_id"]
    file(now_client, tokens["admin"], type="erasure", customer_id=cid, verification_method="letter")
    again = now_client.post(
        "/api/v1/events",
        json={
            "type": "crm.sync",
            "identities": [{"type": "email", "value": "Gone@Example.com"}],
            "traits": {"name": "Gone Person"},
        },
        headers=auth(tokens["integration"]),
    )
    body = again.json()
    assert body["rejected"] == 1 and body["results"][0]["errors"][0]["field"].endswith("identities")
    by_id = service.ingest(
        now_app, SYSTEM, [{"type": "crm.sync", "customer_id": cid, "traits": {"name": "X"}}]
    )
    assert by_id["results"][0]["status"] == "rejected"
    assert by_id["results"][0]["errors"][0]["field"] == "customer_id"
    with now_app.db.read() as s:
        assert (
            s.scalar(select(func.count()).select_from(Identity).where(Identity.value == "gone@example.com"))
            == 0
        )
    # With a new lawful basis the person may be recorded again, starting from nothing; later events flow.
    ok = service.ingest(
        now_app,
        SYSTEM,
        [
            {
                "type": "consent.given",
                "identities": [{"type": "email", "value": "gone@example.com"}],
                "properties": {"lawful_basis": "consent"},
            }
        ],
    )
    assert ok["results"][0]["status"] == "accepted" and ok["results"][0]["customer_id"] != cid
    later = service.ingest(
        now_app,
        SYSTEM,
        [{"type": "page.viewed", "identities": [{"type": "email", "value": "gone@example.com"}]}],
    )
    assert later["results"][0]["status"] == "accepted"


def test_the_person_writing_to_us_again_starts_a_new_empty_record(
    now_client: TestClient, now_app: App, tokens: dict[str, str]
) -> None:
    kiosk = api_channel(now_client, tokens["admin"])
    first = write_in(now_client, kiosk["id"], ("email", "back@example.com"), "hello").json()
    with now_app.db.read() as s:
        old = s.scalar(select(Message.customer_id).where(Message.conversation_id == first["conversation_id"]))
    file(now_client, tokens["admin"], type="erasure", customer_id=old, verification_method="letter")
    again = write_in(now_client, kiosk["id"], ("email", "back@example.com"), "it's me again")
    assert again.status_code in (200, 201, 202), again.text
    with now_app.db.read() as s:
        new = s.scalar(select(Identity.customer_id).where(Identity.value == "back@example.com"))
        lifted = s.scalars(select(Tombstone.lifted_reason).where(Tombstone.lifted_at.is_not(None))).all()
    assert new is not None and new != old and "new lawful basis: contacted_us" in lifted


def test_a_shared_attachment_file_stays_for_the_other_customer(
    now_client: TestClient, now_app: App, tokens: dict[str, str]
) -> None:
    kiosk = api_channel(now_client, tokens["admin"])
    same = {"filename": "menu.pdf", "content_base64": base64.b64encode(b"same bytes for both").decode()}
    a = write_in(now_client, kiosk["id"], ("email", "one@example.com"), "a", attachments=[same]).json()
    write_in(now_client, kiosk["id"], ("email", "two@example.com"), "b", attachments=[same])
    with now_app.db.read() as s:
        cid = s.scalar(select(Conversation.customer_id).where(Conversation.id == a["conversation_id"]))
        path = s.scalars(select(Attachment.storage_path)).first()
    assert path is not None
    file(now_client, tokens["admin"], type="erasure", customer_id=cid, verification_method="letter")
    assert (now_app.settings.home / path).read_bytes() == b"same bytes for both"
    with now_app.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Attachment)) == 1


def test_an_erasure_that_fails_changes_nothing_and_is_tried_again(
    app: App, client: TestClient, tokens: dict[str, str]
) -> None:
    from amity.privacy import holders, runner

    [first] = ingest(
        app,
        {
            "type": "page.viewed",
            "identities": [{"type": "email", "value": "fail@example.com"}],
            "traits": {"name": "Fail Once"},
        },
    )
    cid = first["customer_id"]
    r = file(client, tokens["admin"], type="erasure", customer_id=cid, verification_method="letter")

    def boom(session: object, ids: list[str]) -> None:
        raise RuntimeError("disk full")

    broken = holders.DataHolder(name="zz.broken", tables=(), export=lambda s, i: {}, erase=boom)
    holders.register(broken)
    try:
        assert runner.run(app, r["id"]) == "failed"
    finally:
        holders._HOLDERS.pop("zz.broken")
    row = request_row(app, r["id"])
    assert row.status == "identity_verified" and "disk full" in row.result["last_error"]
    with app.db.read() as s:
        assert s.scalar(select(Customer.traits).where(Customer.id == cid)) == {"name": "Fail Once"}
        assert s.scalar(select(func.count()).select_from(Identity).where(Identity.customer_id == cid)) == 1
    assert runner.run(app, r["id"]) == "completed"
    assert request_row(app, r["id"]).status == "completed"
