"""The demo retailer: loaded through the real action layer, deterministic, resolved into few customers."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from amity.accounts import actions as accounts_actions
from amity.accounts.queries import user_by_email
from amity.conversations.models import Conversation, Message
from amity.core.actions import App
from amity.customers import queries
from amity.customers.models import Customer, Event, Identity, Merge
from amity.db import utcnow
from amity.demo import ANCHOR, DEMO_EMAIL, DEMO_PASSWORD, already_loaded, generate, load_demo
from amity.privacy.models import AuditEntry
from amity.service.models import Approval, Escalation
from tests.conftest import reset

PEOPLE = 60


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo creates three sign-ins per load; argon2 at production cost would dominate these tests."""
    monkeypatch.setattr(
        accounts_actions, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def _snapshot(app: App) -> dict[str, Any]:
    """What must be identical between two loads of one seed (ids of customers and merges are random)."""
    with app.db.read() as s:
        return {
            # Ingested events have ids from the seed; a call's timeline event is named after its
            # channel, whose id is random like every other row id: those are counted.
            "events": sorted(s.scalars(select(Event.id).where(Event.id.like("demo%")))),
            "other_events": s.scalar(select(func.count()).select_from(Event).where(~Event.id.like("demo%"))),
            "identities": sorted(s.execute(select(Identity.type, Identity.value))),
            "live": s.scalar(
                select(func.count()).select_from(Customer).where(Customer.merged_into_id.is_(None))
            ),
            "merges": s.scalar(select(func.count()).select_from(Merge)),
            "messages": sorted(s.execute(select(Message.channel_type, Message.text))),
            "conversations": s.scalar(select(func.count()).select_from(Conversation)),
            "approvals": s.scalar(select(func.count()).select_from(Approval)),
        }


def test_demo_loads_a_retailer_whose_channels_resolve_into_connected_customers(app: App) -> None:
    assert not already_loaded(app)
    stats = load_demo(app, people=PEOPLE, seed=3)
    assert already_loaded(app)
    assert stats["merges"] > PEOPLE // 2 and stats["flagged"] == 0
    # islands merge, but about one link in ten never happens: more customers than people, far fewer than islands
    assert PEOPLE <= stats["customers"] < PEOPLE * 1.4
    with app.db.read() as s:
        ingested = select(func.count()).select_from(Event).where(Event.id.like("demo%"))
        assert s.scalar(ingested) == stats["events"] > PEOPLE * 8
        # every event sits on a live customer's timeline
        orphans = select(func.count()).select_from(Event).join(Customer, Customer.id == Event.customer_id)
        assert s.scalar(orphans.where(Customer.merged_into_id.is_not(None))) == 0
        assert s.scalar(select(func.count()).select_from(Event).where(Event.customer_id.is_(None))) == 0
        types = set(s.scalars(select(Event.type).distinct()))
        assert {"order.placed", "page.viewed", "call.ended", "chat.started", "chat.message"} <= types
        assert {"loyalty.joined", "coupon.issued", "review.posted", "account.created"} <= types
        idents = set(s.scalars(select(Identity.type).distinct()))
        assert idents == {"email", "phone", "loyalty", "device", "external:shop", "social:telegram"}
        per_customer = Counter(
            n
            for _, n in s.execute(
                select(Identity.customer_id, func.count(func.distinct(Identity.type))).group_by(
                    Identity.customer_id
                )
            )
        )
        assert sum(v for k, v in per_customer.items() if k >= 4) >= PEOPLE // 4
        # The retailer's history lies before the anchor (today's conversations are live, now).
        newest, oldest = (
            s.scalar(select(func.max(Event.timestamp)).where(Event.id.like("demo%"))),
            s.scalar(select(func.min(Event.timestamp)).where(Event.id.like("demo%"))),
        )
        assert newest is not None and oldest is not None
        assert ANCHOR - dt.timedelta(days=731) < oldest < newest < min(ANCHOR, utcnow())
        assert {m.actor for m in s.scalars(select(Merge))} == {"system:demo"}

        schema = queries.trait_schema(s)
        assert schema["shoe_size"].type == "number" and schema["shoe_size"].purpose == "fit advice"
        assert schema["loyalty_tier"].enum_values == ("bronze", "silver", "gold")
        assert schema["city"].pii
        traits = Counter(k for t in s.scalars(select(Customer.traits)) for k in t)
        assert {"name", "language", "timezone", "shoe_size", "loyalty_tier", "city"} <= set(traits)

        admin = user_by_email(s, DEMO_EMAIL)
        assert (
            admin is not None
            and admin.role == "admin"
            and accounts_actions.verify_password(admin, DEMO_PASSWORD)
        )
        for email, role in (("agent@amity.example", "agent"), ("supervisor@amity.example", "supervisor")):
            user = user_by_email(s, email)
            assert (
                user is not None
                and user.role == role
                and accounts_actions.verify_password(user, DEMO_PASSWORD)
            )


def test_demo_is_deterministic_and_loading_it_again_stores_nothing_new(app: App) -> None:
    assert generate(PEOPLE, 3) == generate(PEOPLE, 3) != generate(PEOPLE, 4)
    first = load_demo(app, people=PEOPLE, seed=3)
    before = _snapshot(app)
    again = load_demo(app, people=PEOPLE, seed=3)
    assert first["conversations"] > 20
    # Everything stored by the first load (events, merges, conversations, and what other capabilities'
    # demo loaders count) is found again, and nothing is stored twice.
    added = {k for k in first if k not in ("people", "customers", "flagged")}
    assert {"events", "merges", "conversations"} <= added
    assert again == {**first, **dict.fromkeys(added, 0)}
    assert _snapshot(app) == before

    reset(app.db)
    assert not already_loaded(app)
    assert load_demo(app, people=PEOPLE, seed=3) == first
    assert _snapshot(app) == before


def test_the_cli_loads_the_demo_and_the_already_loaded_guard_is_cheap(app: App, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMITY_")}
    env.update(AMITY_HOME=str(tmp_path), AMITY_DATABASE_URL=app.db.url)
    cmd = [sys.executable, "-m", "amity.cli", "demo", "--customers", "20", "--if-empty"]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0, r.stderr
    assert "merges through shared identifiers" in r.stdout and DEMO_EMAIL in r.stdout

    started = time.perf_counter()
    assert already_loaded(app)  # what `amity demo --if-empty` asks before loading anything
    assert time.perf_counter() - started < 0.5


def test_the_demo_inbox_has_live_conversations_on_every_channel_through_the_real_actions(app: App) -> None:
    load_demo(app, people=PEOPLE, seed=3)
    now = utcnow()
    with app.db.read() as s:
        convs = list(s.scalars(select(Conversation)))
        msgs = list(s.scalars(select(Message)))
        audit = Counter(s.scalars(select(AuditEntry.action)))
        approvals = list(s.scalars(select(Approval)))
        escalations = s.scalar(select(func.count()).select_from(Escalation))
        live = {c.id for c in s.scalars(select(Customer).where(Customer.merged_into_id.is_(None)))}
        named = {c.id for c in s.scalars(select(Customer)) if c.traits.get("name")}
    assert len(convs) > 20
    # Every channel the desk has: chat, email, SMS, WhatsApp, a phone line and the store tablets (API).
    inbound = {m.channel_type for m in msgs if m.direction == "in"}
    assert {"chat", "email", "sms", "whatsapp", "voice", "api"} <= inbound
    # Written by the demo's customers (people with names from the shop and the tills).
    assert all(c.customer_id in named for c in convs)
    assert {c.customer_id for c in convs} <= live
    assigned = [c for c in convs if c.assignee_id]
    assert 0 < len(assigned) < len(convs)  # some assigned, some waiting in Unassigned
    overdue = [
        c
        for c in convs
        if c.next_due_at and c.next_due_at.replace(tzinfo=dt.UTC) < now and c.status == "open"
    ]
    assert 2 <= len(overdue) < len(convs) // 2  # a few breaching the first-response target
    assert any(m.is_note for m in msgs) and escalations >= 1
    assert {a.status for a in approvals} == {"pending", "approved"}
    # Replies that went out before the demo began are recorded as delivered, not left for a worker.
    out = [m for m in msgs if m.direction == "out" and not m.is_note]
    assert out and {m.delivery_status for m in out} == {"delivered"}
    # Through the actions: their audit rows are there.
    assert audit["message.received"] >= len(convs) and audit["message.sent"] == len(out)
    assert audit["note.added"] >= 1 and audit["approval.requested"] == len(approvals)
