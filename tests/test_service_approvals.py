"""Approvals: an agent asks beyond their limit, an approver decides, the customer is told on their channel."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.conversations.models import Delivery, Message
from amity.core.actions import ActionContext, App
from amity.service.approvals import ApprovalRequest, register_executor, unregister_executor
from amity.service.models import Approval
from tests.conftest import auth
from tests.test_service_kit import (
    api_channel,
    audit_actions,
    conversation,
    inbound,
    ok,
    person,
    record_events,
    session_headers,
    set_traits,
)


@pytest.fixture
def shop(client: TestClient, app: App, tokens: dict[str, str]) -> dict[str, Any]:
    """A front-line agent (refunds up to 1.00 EUR), a supervisor, and Ana writing on the kiosk channel."""
    admin = auth(tokens["admin"])
    front = ok(client.post("/api/v1/tiers", json={"name": "Front line", "level": 1,
                                                  "limits": {"refund": {"EUR": 100}}}, headers=admin), 201)  # fmt: skip
    leads = ok(
        client.post(
            "/api/v1/tiers",
            json={"name": "Team leads", "level": 2, "may_approve": True, "limits": {"refund": {"EUR": 500}}},
            headers=admin,
        ),
        201,
    )
    alex = person(app, "alex@example.com", "agent", "Alex")
    sam = person(app, "sam@example.com", "supervisor", "Sam")
    lee = person(app, "lee@example.com", "agent", "Lee")
    ok(client.patch(f"/api/v1/agents/{alex}", json={"tier_id": front["id"]}, headers=admin))
    ok(client.patch(f"/api/v1/agents/{lee}", json={"tier_id": leads["id"]}, headers=admin))
    brand = ok(client.post("/api/v1/brands", json={"name": "Shoebox", "signature": "Warm regards,\nThe Shoebox team"},
                           headers=admin), 201)  # fmt: skip
    channel = api_channel(client, tokens["admin"], brand_id=brand["id"])
    set_traits(client, tokens["admin"], "ana@example.com", name="Ana Silva")
    cid = inbound(client, channel, "My trail runners arrived with a torn sole")["conversation_id"]
    return {
        "conversation": cid,
        "channel": channel,
        "ids": {"alex": alex, "sam": sam, "lee": lee},
        "as": {n: session_headers(client, f"{n}@example.com") for n in ("alex", "sam", "lee")},
    }


def _ask(client: TestClient, who: dict[str, str], cid: str, amount: int = 300, **kw: Any) -> Any:
    body = {"conversation_id": cid, "kind": "refund", "amount_minor": amount, "currency": "EUR",
            "reason": "Sole torn on arrival", "payload": {"order_id": "ord-10442"}, **kw}  # fmt: skip
    return client.post("/api/v1/approvals", json=body, headers=who)


def _messages(client: TestClient, token: str, cid: str) -> list[dict[str, Any]]:
    return list(conversation(client, token, cid)["messages"])


def test_an_agent_asks_over_their_limit_a_supervisor_approves_and_the_customer_is_told(
    client: TestClient, app: App, tokens: dict[str, str], shop: dict[str, Any]
) -> None:
    seen = record_events(app)
    cid = shop["conversation"]
    asked = ok(_ask(client, shop["as"]["alex"], cid), 201)
    assert (asked["status"], asked["auto"], asked["limit_minor"]) == ("pending", False, 100)
    assert asked["requested_by"] == f"user:{shop['ids']['alex']}"

    pending = ok(client.get("/api/v1/approvals?status=pending", headers=shop["as"]["sam"]))["items"]
    assert [a["id"] for a in pending] == [asked["id"]]
    # Alex may not decide (agent, and a tier that does not approve), and certainly not their own request.
    refused = client.post(f"/api/v1/approvals/{asked['id']}/decide", json={"decision": "approved"},
                          headers=shop["as"]["alex"])  # fmt: skip
    assert refused.status_code == 403

    decided = ok(
        client.post(
            f"/api/v1/approvals/{asked['id']}/decide",
            json={"decision": "approved", "comment": "Known batch defect; refund in full"},
            headers=shop["as"]["sam"],
        )
    )
    assert (decided["status"], decided["decided_by"], decided["execution"]["status"]) == (
        "approved",
        f"user:{shop['ids']['sam']}",
        "manual",
    )
    assert ok(client.get("/api/v1/approvals?status=pending", headers=shop["as"]["sam"]))["items"] == []

    with app.db.read() as s:
        row = s.get(Approval, asked["id"])
        assert row is not None
        assert (row.kind, row.amount_minor, row.currency, row.status) == ("refund", 300, "EUR", "approved")
        assert (
            row.payload == {"order_id": "ord-10442"} and row.comment == "Known batch defect; refund in full"
        )
    assert audit_actions(app, asked["id"]) == [
        "approval.requested",
        "approval.approved",
        "approval.manual",
        "approval.customer_notified",
    ]
    assert audit_actions(app, cid).count("note.added") == 2

    msgs = _messages(client, tokens["agent"], cid)
    notes = [m["text"] for m in msgs if m["is_note"]]
    assert notes[0].startswith(
        "Approval requested by Alex: refund of 3.00 EUR (the requester's limit is 1.00 EUR)"
    )
    assert "Reason: Sole torn on arrival" in notes[0]
    assert "Refund of 3.00 EUR approved by Sam." in notes[1]
    assert "Comment: Known batch defect; refund in full" in notes[1]
    assert "the refund must be carried out manually" in notes[1]

    out = [m for m in msgs if m["direction"] == "out" and not m["is_note"]]
    assert len(out) == 1
    reply = out[0]
    assert reply["channel_id"] == shop["channel"] and reply["delivery_status"] == "queued"
    assert reply["address"] == {"type": "email", "value": "ana@example.com"}
    assert reply["text"].startswith("Hello Ana,\n\nGood news: we have approved a refund of 3.00 EUR.")
    assert reply["text"].endswith("Warm regards,\nThe Shoebox team")
    assert "batch defect" not in reply["text"]  # the approver's comment is internal
    assert decided["execution"]["customer_message_id"] == reply["id"]
    with app.db.read() as s:
        delivery = s.scalar(select(Delivery).where(Delivery.message_id == reply["id"]))
        assert delivery is not None and (delivery.channel_id, delivery.status) == (shop["channel"], "pending")

    assert [e.name for e in seen if e.name.startswith("approval.")] == [
        "approval.requested",
        "approval.decided",
    ]
    decided_event = next(e for e in seen if e.name == "approval.decided")
    assert decided_event.data["decision"] == "approved" and decided_event.data["auto"] is False

    again = client.post(f"/api/v1/approvals/{asked['id']}/decide", json={"decision": "denied"},
                        headers=shop["as"]["sam"])  # fmt: skip
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "decision"


def test_within_the_requesters_own_limit_it_is_approved_at_once(
    client: TestClient, app: App, tokens: dict[str, str], shop: dict[str, Any]
) -> None:
    got = ok(_ask(client, shop["as"]["alex"], shop["conversation"], amount=100), 201)
    assert (got["status"], got["auto"]) == ("approved", True)
    notes = [m["text"] for m in _messages(client, tokens["agent"], shop["conversation"]) if m["is_note"]]
    assert notes == [notes[0]] and "approved by the requester's own authority" in notes[0]


def test_a_denial_is_told_kindly_and_carries_nothing_out(
    client: TestClient, app: App, tokens: dict[str, str], shop: dict[str, Any]
) -> None:
    calls: list[str] = []
    register_executor("refund", lambda ctx, req: calls.append(req.id) or {})
    try:
        asked = ok(_ask(client, shop["as"]["alex"], shop["conversation"]), 201)
        decided = ok(client.post(f"/api/v1/approvals/{asked['id']}/decide",
                                 json={"decision": "denied", "comment": "Outside the return window"},
                                 headers=shop["as"]["sam"]))  # fmt: skip
    finally:
        unregister_executor("refund")
    assert decided["status"] == "denied" and calls == []
    reply = [m for m in _messages(client, tokens["agent"], shop["conversation"]) if m["direction"] == "out"
             and not m["is_note"]][-1]  # fmt: skip
    assert "we are sorry that we cannot approve it" in reply["text"]
    assert "your request for a refund of 3.00 EUR" in reply["text"]


@pytest.fixture
def refunds() -> Iterator[list[ApprovalRequest]]:
    done: list[ApprovalRequest] = []

    def refund(ctx: ActionContext, request: ApprovalRequest) -> dict[str, Any]:
        ctx.audit("refund.issued", "approval", request.id, amount_minor=request.amount_minor)
        done.append(request)
        return {"refund_id": f"rf-{len(done)}"}

    register_executor("refund", refund)
    yield done
    unregister_executor("refund")


def test_a_registered_executor_carries_out_the_approved_refund(
    client: TestClient, app: App, tokens: dict[str, str], shop: dict[str, Any], refunds: list[ApprovalRequest]
) -> None:
    asked = ok(_ask(client, shop["as"]["alex"], shop["conversation"]), 201)
    decided = ok(client.post(f"/api/v1/approvals/{asked['id']}/decide", json={"decision": "approved"},
                             headers=shop["as"]["sam"]))  # fmt: skip
    assert decided["execution"]["status"] == "executed"
    assert decided["execution"]["result"] == {"refund_id": "rf-1"}
    assert [(r.id, r.payload) for r in refunds] == [(asked["id"], {"order_id": "ord-10442"})]
    assert "refund.issued" in audit_actions(app, asked["id"])
    reply = [m for m in _messages(client, tokens["agent"], shop["conversation"]) if m["direction"] == "out"
             and not m["is_note"]][-1]  # fmt: skip
    assert "It has been processed." in reply["text"]


def test_an_executor_that_fails_leaves_the_decision_and_asks_for_manual_work(
    client: TestClient, app: App, tokens: dict[str, str], shop: dict[str, Any]
) -> None:
    def broken(ctx: ActionContext, request: ApprovalRequest) -> dict[str, Any]:
        ctx.audit("refund.half_done", "approval", request.id)
        raise RuntimeError("payment provider unreachable")

    register_executor("refund", broken)
    try:
        asked = ok(_ask(client, shop["as"]["alex"], shop["conversation"]), 201)
        decided = ok(client.post(f"/api/v1/approvals/{asked['id']}/decide", json={"decision": "approved"},
                                 headers=shop["as"]["sam"]))  # fmt: skip
    finally:
        unregister_executor("refund")
    assert decided["status"] == "approved" and decided["execution"]["status"] == "failed"
    actions = audit_actions(app, asked["id"])
    assert "refund.half_done" not in actions and "approval.execution_failed" in actions
    note = [m["text"] for m in _messages(client, tokens["agent"], shop["conversation"]) if m["is_note"]][-1]
    assert "payment provider unreachable" in note and "must be carried out manually" in note


def test_nobody_decides_their_own_request(
    client: TestClient, app: App, tokens: dict[str, str], shop: dict[str, Any]
) -> None:
    asked = ok(
        _ask(client, shop["as"]["sam"], shop["conversation"]), 201
    )  # a supervisor has no tier: pending
    assert asked["status"] == "pending"
    own = client.post(f"/api/v1/approvals/{asked['id']}/decide", json={"decision": "approved"},
                      headers=shop["as"]["sam"])  # fmt: skip
    assert own.status_code == 403 and "own request" in own.json()["message"]
    ok(client.post(f"/api/v1/approvals/{asked['id']}/decide", json={"decision": "approved"},
                   headers=auth(tokens["supervisor"])))  # fmt: skip


def test_a_tier_that_may_approve_decides_up_to_its_own_limit(
    client: TestClient, app: App, tokens: dict[str, str], shop: dict[str, Any]
) -> None:
    big = ok(_ask(client, shop["as"]["alex"], shop["conversation"], amount=5000), 201)
    small = ok(_ask(client, shop["as"]["alex"], shop["conversation"], amount=300), 201)
    lee = shop["as"]["lee"]
    over = client.post(f"/api/v1/approvals/{big['id']}/decide", json={"decision": "approved"}, headers=lee)
    assert over.status_code == 403 and "above what tier 'Team leads' may approve" in over.json()["message"]
    ok(client.post(f"/api/v1/approvals/{big['id']}/decide", json={"decision": "denied"}, headers=lee))
    ok(client.post(f"/api/v1/approvals/{small['id']}/decide", json={"decision": "approved"}, headers=lee))


def test_when_the_customer_cannot_be_reached_the_note_says_so(
    client: TestClient, app: App, tokens: dict[str, str], shop: dict[str, Any]
) -> None:
    customer = set_traits(client, tokens["admin"], "walkin@example.com", name="Walk In")
    opened = ok(client.post("/api/v1/conversations", json={"customer_id": customer, "subject": "In store"},
                            headers=shop["as"]["alex"]), 201)  # fmt: skip
    got = ok(_ask(client, shop["as"]["alex"], opened["id"], amount=50), 201)
    assert got["status"] == "approved" and got["execution"]["customer_message_id"] is None
    note = [m["text"] for m in _messages(client, tokens["agent"], opened["id"]) if m["is_note"]][-1]
    assert "could not be told automatically" in note
    assert "approval.customer_not_notified" in audit_actions(app, got["id"])
    with app.db.read() as s:
        assert s.scalar(select(Message.id).where(Message.conversation_id == opened["id"],
                                                 Message.is_note.is_(False))) is None  # fmt: skip


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"kind": "bribe"}, 422, "kind"),
        ({"currency": "eur"}, 422, "currency"),
        ({"amount_minor": -1}, 422, "amount_minor"),
        ({"amount_minor": 10**16}, 422, "amount_minor"),
        ({"reason": ""}, 422, "reason"),
        ({"payload": {"n": 10**30}}, 422, "payload"),
        ({"conversation_id": "cnv_nope"}, 404, "conversation_id"),
        ({"approver": "me"}, 422, "approver"),
    ],
)
def test_a_wrong_request_is_refused_naming_the_field(
    client: TestClient, shop: dict[str, Any], change: dict[str, Any], status: int, field: str
) -> None:
    r = _ask(client, shop["as"]["alex"], shop["conversation"], **change)
    assert r.status_code == status, r.text
    assert r.json()["errors"][0]["field"] == field


def test_deciding_needs_a_known_request_and_a_real_decision(client: TestClient, shop: dict[str, Any]) -> None:
    sam = shop["as"]["sam"]
    r = client.post("/api/v1/approvals/apr_nope/decide", json={"decision": "approved"}, headers=sam)
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "approval_id"
    r = client.post("/api/v1/approvals/apr_nope/decide", json={"decision": "maybe"}, headers=sam)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "decision"
    r = client.get("/api/v1/approvals?status=sideways", headers=sam)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "status"
