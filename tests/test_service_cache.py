"""The service set-up each process keeps (amity.service.cache): what an inbound message costs with and
without policies and rules, and how soon a change to them is seen."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select, update

from amity.core.actions import App
from amity.service import cache
from amity.service.models import SlaClock, SlaPolicy
from tests.conftest import auth
from tests.test_service_kit import api_channel, conversation, inbound, ok

TARGETS = {"*": {"first_response": 60, "next_response": 30, "resolution": 480}}


@contextmanager
def write_transactions(app: App) -> Iterator[list[str]]:
    """The writes (INSERT/UPDATE/DELETE) of each transaction committed inside the block, one entry per
    transaction; reads commit nothing and are not listed."""
    done: list[str] = []
    pending: list[str] = []

    def on_execute(_conn: object, _cur: object, statement: str, *_: object) -> None:
        verb = statement.lstrip().split(" ", 1)[0].upper()
        if verb in ("INSERT", "UPDATE", "DELETE"):
            pending.append(f"{verb} {statement.split()[2] if verb != 'UPDATE' else statement.split()[1]}")

    def on_commit(_conn: object) -> None:
        if pending:
            done.append(", ".join(pending))
            pending.clear()

    engine = app.db.engine
    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        yield done
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)


def test_a_desk_without_rules_or_policies_writes_only_the_customer_and_the_message(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    channel = api_channel(client, tokens["admin"])
    inbound(client, channel, "warm up", sender="someone@example.com")
    for text, sender in (("Hello", "new@example.com"), ("Me again", "new@example.com")):
        with write_transactions(app) as writes:
            inbound(client, channel, text, sender=sender)
        # identity resolution's timeline event, then the message: routing and SLA open no transaction
        assert len(writes) == 2, writes
        assert "messages" in writes[1]


def test_a_policy_added_in_this_process_applies_to_the_next_message_at_once(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    channel = api_channel(client, tokens["admin"])
    first = inbound(client, channel, "Before any policy", sender="a@example.com")["conversation_id"]
    assert conversation(client, tokens["agent"], first)["sla"]["policy_id"] is None
    policy = ok(
        client.post(
            "/api/v1/sla-policies",
            json={"name": "Standard", "targets": TARGETS},
            headers=auth(tokens["admin"]),
        ),
        201,
    )
    cid = inbound(client, channel, "After the policy", sender="b@example.com")["conversation_id"]
    sla = conversation(client, tokens["agent"], cid)["sla"]
    assert sla["policy_id"] == policy["id"] and sla["first_response_due_at"] is not None


def test_a_disabled_policy_stops_applying_and_its_clocks_are_cleared(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    admin = auth(tokens["admin"])
    channel = api_channel(client, tokens["admin"])
    policy = ok(
        client.post("/api/v1/sla-policies", json={"name": "Standard", "targets": TARGETS}, headers=admin), 201
    )
    cid = inbound(client, channel, "Help", sender="c@example.com")["conversation_id"]
    assert conversation(client, tokens["agent"], cid)["sla"]["policy_id"] == policy["id"]
    ok(client.patch(f"/api/v1/sla-policies/{policy['id']}", json={"enabled": False}, headers=admin))
    inbound(client, channel, "Still waiting", sender="c@example.com")
    assert conversation(client, tokens["agent"], cid)["sla"] == {
        "policy_id": None,
        "first_response_due_at": None,
        "next_response_due_at": None,
        "resolution_due_at": None,
        "next_due_at": None,
    }
    with app.db.read() as s:
        assert s.scalars(select(SlaClock).where(SlaClock.conversation_id == cid)).all() == []


def test_a_change_made_by_another_process_is_seen_within_the_ttl(
    client: TestClient, app: App, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = ok(
        client.post(
            "/api/v1/sla-policies",
            json={"name": "Standard", "targets": TARGETS},
            headers=auth(tokens["admin"]),
        ),
        201,
    )
    assert [p.id for p in cache.current(app).policies] == [policy["id"]]
    # Another process's write: no mapper event reaches this one.
    with app.db.engine.begin() as c:
        c.execute(update(SlaPolicy).where(SlaPolicy.id == policy["id"]).values(enabled=False))
    assert [p.id for p in cache.current(app).policies] == [policy["id"]]  # still within the TTL
    monkeypatch.setattr(cache, "TTL_SECONDS", 0.0)
    assert cache.current(app).policies == ()


def test_a_rolled_back_change_leaves_the_copy_as_it_was(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    r = client.post(
        "/api/v1/sla-policies", json={"name": "Broken", "targets": {}}, headers=auth(tokens["admin"])
    )
    assert r.status_code == 422
    assert cache.current(app).policies == ()


def test_a_rule_that_does_not_match_opens_no_transaction_and_one_that_does_still_routes(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    admin = auth(tokens["admin"])
    channel = api_channel(client, tokens["admin"])
    ok(
        client.post(
            "/api/v1/routing-rules",
            json={
                "name": "Refunds",
                "conditions": {"keywords": ["refund"]},
                "actions": {"priority": "high", "tags": ["refund"]},
            },
            headers=admin,
        ),
        201,
    )
    with write_transactions(app) as writes:
        inbound(client, channel, "Where is my parcel?", sender="d@example.com")
    assert len(writes) == 2, writes
    cid = inbound(client, channel, "I want a refund", sender="e@example.com")["conversation_id"]
    conv = conversation(client, tokens["agent"], cid)
    assert conv["priority"] == "high" and conv["tags"] == ["refund"]
