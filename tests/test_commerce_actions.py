"""Agent actions: within the agent's tier limit they run at once; over it an approval request is made
and the action runs when a supervisor approves. Every one audited, on the timeline, noted on the
conversation; impossible ones (more than was paid, a used or expired coupon) refused by field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from amity.catalog.models import Stock
from amity.commerce.models import Coupon, Order, Refund
from amity.core.actions import App
from amity.db import utcnow
from tests.conftest import auth
from tests.test_commerce_kit import audit, events, ok, order, shop
from tests.test_service_kit import api_channel, conversation, inbound, person, session_headers, set_traits

A = "/api/v1/commerce/actions"


@pytest.fixture
def desk(client: TestClient, app: App, tokens: dict[str, str]) -> dict[str, Any]:
    """Ana paid 89.00 EUR for trail shoes and writes in; Alex (front line) answers, Sam supervises."""
    admin = auth(tokens["admin"])
    s = shop(client, tokens, stock={("6.5", "opo-sc"): 1, ("6", "lon-cg"): 3})
    limits = {
        "refund": {"EUR": 2000},
        "goodwill": {"EUR": 1000},
        "credit": {"EUR": 500},
        "replacement": {"EUR": 5000},
    }
    tier = ok(
        client.post(
            "/api/v1/tiers", json={"name": "Front line", "level": 1, "limits": limits}, headers=admin
        ),
        201,
    )
    alex = person(app, "alex@example.com", "agent", "Alex")
    person(app, "sam@example.com", "supervisor", "Sam")
    ok(client.patch(f"/api/v1/agents/{alex}", json={"tier_id": tier["id"]}, headers=admin))
    set_traits(client, tokens["admin"], "ana@example.com", name="Ana Silva")
    placed = order(client, auth(tokens["integration"]))
    channel = api_channel(client, tokens["admin"])
    cid = inbound(client, channel, "The sole came off after a week")["conversation_id"]
    return {"shop": s, "order": placed, "customer": placed["customer_id"], "conversation": cid,
            "alex": session_headers(client, "alex@example.com"), "sam": session_headers(client, "sam@example.com")}  # fmt: skip


def _notes(client: TestClient, tokens: dict[str, str], cid: str) -> list[str]:
    return [m["text"] for m in conversation(client, tokens["agent"], cid)["messages"] if m["is_note"]]


def _decide(client: TestClient, desk: dict[str, Any], approval_id: str, decision: str = "approved") -> Any:
    return ok(
        client.post(
            f"/api/v1/approvals/{approval_id}/decide", json={"decision": decision}, headers=desk["sam"]
        )
    )


def _refunds(app: App) -> list[tuple[int, str | None]]:
    with app.db.read() as s:
        return [
            (r.amount_minor, r.approval_id) for r in s.scalars(select(Refund).order_by(Refund.created_at))
        ]


def test_a_refund_within_the_agents_limit_runs_at_once_and_is_noted_everywhere(
    client: TestClient, app: App, tokens: dict[str, str], desk: dict[str, Any]
) -> None:
    body = {"order_id": desk["order"]["id"], "amount_minor": 1500, "currency": "EUR", "reason": "sole came off",
            "conversation_id": desk["conversation"]}  # fmt: skip
    done = ok(client.post(f"{A}/refund", json=body, headers=desk["alex"]), 201)
    assert done["status"] == "done" and done["amount_minor"] == 1500
    assert _refunds(app) == [(1500, None)]
    assert [p["amount_minor"] for t, p in events(app, desk["customer"], "refund.")] == [1500]
    assert "Refund of 15.00 EUR issued" in _notes(client, tokens, desk["conversation"])[-1]
    [row] = audit(app, "refund.issued")
    assert row.actor.startswith("user:") and row.subject_id == desk["order"]["id"]
    shown = ok(client.get(f"/api/v1/orders/{desk['order']['id']}", headers=auth(tokens["agent"])))
    assert (shown["paid_minor"], shown["refunded_minor"]) == (8900, 1500)


def test_a_refund_is_never_more_than_was_paid_nor_in_another_currency(
    client: TestClient, app: App, desk: dict[str, Any]
) -> None:
    base = {
        "order_id": desk["order"]["id"],
        "currency": "EUR",
        "reason": "x",
        "conversation_id": desk["conversation"],
    }
    over = client.post(f"{A}/refund", json={**base, "amount_minor": 8901}, headers=desk["alex"])
    assert over.status_code == 422 and over.json()["errors"][0]["field"] == "amount_minor"
    assert "89.00 EUR paid" in over.json()["message"]
    other = client.post(
        f"{A}/refund", json={**base, "amount_minor": 100, "currency": "GBP"}, headers=desk["alex"]
    )
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "currency"
    zero = client.post(f"{A}/refund", json={**base, "amount_minor": -1}, headers=desk["alex"])
    assert zero.status_code == 422 and zero.json()["errors"][0]["field"] == "amount_minor"
    assert _refunds(app) == []


def test_a_refund_over_the_limit_waits_for_approval_and_runs_when_approved(
    client: TestClient, app: App, tokens: dict[str, str], desk: dict[str, Any]
) -> None:
    body = {"order_id": desk["order"]["id"], "amount_minor": 8900, "currency": "EUR", "reason": "faulty pair",
            "conversation_id": desk["conversation"]}  # fmt: skip
    asked = ok(client.post(f"{A}/refund", json=body, headers=desk["alex"]), 202)
    assert (asked["status"], asked["kind"], asked["limit_minor"]) == ("approval_requested", "refund", 2000)
    assert _refunds(app) == []
    _decide(client, desk, asked["approval_id"])
    assert _refunds(app) == [(8900, asked["approval_id"])]
    assert [p["amount_minor"] for t, p in events(app, desk["customer"], "refund.")] == [8900]
    notes = _notes(client, tokens, desk["conversation"])
    assert any("Refund of 89.00 EUR issued" in n for n in notes)
    # One decision note, saying it was done: nobody is told to refund by hand what was refunded.
    decided = [n for n in notes if "approved by" in n]
    assert len(decided) == 1 and "Carried out automatically (commerce)" in decided[0]
    assert not any("manually" in n for n in notes)
    # Without a conversation there is nobody to ask: refused, naming what is missing.
    alone = client.post(
        f"{A}/refund", json={**body, "conversation_id": None, "amount_minor": 1}, headers=desk["alex"]
    )
    assert alone.status_code == 422  # nothing left to refund
    assert (
        client.post(f"{A}/refund", json={**body, "conversation_id": None}, headers=desk["alex"]).status_code
        == 422
    )


def test_a_denied_refund_gives_nothing_back(client: TestClient, app: App, desk: dict[str, Any]) -> None:
    body = {"order_id": desk["order"]["id"], "amount_minor": 5000, "currency": "EUR", "reason": "changed mind",
            "conversation_id": desk["conversation"]}  # fmt: skip
    asked = ok(client.post(f"{A}/refund", json=body, headers=desk["alex"]), 202)
    _decide(client, desk, asked["approval_id"], "denied")
    assert _refunds(app) == []


def test_over_the_limit_without_a_conversation_is_refused_naming_it(
    client: TestClient, desk: dict[str, Any]
) -> None:
    body = {"customer_id": desk["customer"], "amount_minor": 5000, "currency": "EUR", "reason": "sorry"}
    r = client.post(f"{A}/goodwill", json=body, headers=desk["alex"])
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "conversation_id"


def test_a_goodwill_coupon_within_limit_is_issued_and_over_it_is_issued_on_approval(
    client: TestClient, app: App, desk: dict[str, Any]
) -> None:
    base = {
        "customer_id": desk["customer"],
        "currency": "EUR",
        "reason": "late parcel",
        "conversation_id": desk["conversation"],
    }
    small = ok(client.post(f"{A}/goodwill", json={**base, "amount_minor": 500}, headers=desk["alex"]), 201)
    assert small["code"].startswith("GW-")
    big = ok(client.post(f"{A}/goodwill", json={**base, "amount_minor": 2500}, headers=desk["alex"]), 202)
    with app.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Coupon)) == 1
    decided = _decide(client, desk, big["approval_id"])
    assert decided["execution"]["status"] == "executed"
    with app.db.read() as s:
        amounts = sorted(
            c.amount_minor or 0 for c in s.scalars(select(Coupon).where(Coupon.goodwill.is_(True)))
        )
    assert amounts == [500, 2500]
    assert [p["amount_minor"] for t, p in events(app, desk["customer"], "coupon.issued")] == [500, 2500]
    credit = ok(
        client.post(
            f"{A}/goodwill", json={**base, "form": "credit", "amount_minor": 400}, headers=desk["alex"]
        ),
        201,
    )
    assert credit["credit_id"]
    prof = ok(client.get(f"/api/v1/customers/{desk['customer']}/commerce", headers=desk["alex"]))
    assert prof["credit"] == {"EUR": 400}


def _coupon(client: TestClient, tokens: dict[str, str], code: str, **kw: Any) -> Any:
    body = {"code": code, "identities": [{"type": "email", "value": "ana@example.com"}], "amount_minor": 1000,
            "currency": "EUR", **kw}  # fmt: skip
    return client.post("/api/v1/coupons", json=body, headers=auth(tokens["integration"]))


def test_applying_a_held_coupon_once_and_never_an_expired_used_or_foreign_one(
    client: TestClient, app: App, tokens: dict[str, str], desk: dict[str, Any]
) -> None:
    ok(_coupon(client, tokens, "LOST-10"), 201)
    past = (utcnow() - dt.timedelta(days=1)).isoformat()
    ok(_coupon(client, tokens, "OLD-10", expires_at=past), 201)
    ok(_coupon(client, tokens, "BOB-10", identities=[{"type": "email", "value": "bob@example.com"}]), 201)
    apply = {"order_id": desk["order"]["id"], "conversation_id": desk["conversation"]}
    expired = client.post(f"{A}/apply-coupon", json={**apply, "code": "OLD-10"}, headers=desk["alex"])
    assert expired.status_code == 422 and expired.json()["errors"][0]["field"] == "code"
    foreign = client.post(f"{A}/apply-coupon", json={**apply, "code": "BOB-10"}, headers=desk["alex"])
    assert foreign.status_code == 404 and foreign.json()["errors"][0]["field"] == "code"
    done = ok(client.post(f"{A}/apply-coupon", json={**apply, "code": "LOST-10"}, headers=desk["alex"]), 201)
    assert (done["discount_minor"], done["total_minor"]) == (1000, 7900)
    # She had paid in full: the coupon's value goes back to her.
    assert _refunds(app) == [(1000, None)]
    again = client.post(f"{A}/apply-coupon", json={**apply, "code": "LOST-10"}, headers=desk["alex"])
    assert again.status_code == 409 and "already redeemed" in again.json()["message"]
    assert [p["code"] for t, p in events(app, desk["customer"], "coupon.redeemed")] == ["LOST-10"]
    assert _coupon(client, tokens, "BAD", percent=10).status_code == 422  # amount and percent both


def test_shipping_upgrades_free_with_a_loyalty_benefit_otherwise_by_approval(
    client: TestClient, app: App, tokens: dict[str, str], desk: dict[str, Any]
) -> None:
    body = {
        "order_id": desk["order"]["id"],
        "service_level": "expedited",
        "conversation_id": desk["conversation"],
    }
    asked = ok(client.post(f"{A}/upgrade-shipping", json=body, headers=desk["alex"]), 202)
    assert asked["kind"] == "shipping" and asked["limit_minor"] is None
    _decide(client, desk, asked["approval_id"], "denied")
    system = auth(tokens["integration"])
    prog = ok(client.post("/api/v1/loyalty/programmes", json={"name": "Trail Club", "tiers": [
        {"name": "Gold", "rank": 2, "benefits": ["free_expedited_shipping", "priority_routing"]}]}, headers=system), 201)  # fmt: skip
    ok(client.post("/api/v1/loyalty/memberships", json={"programme_id": prog["id"], "customer_id": desk["customer"],
                                                        "tier": "Gold", "points": 1200}, headers=system), 201)  # fmt: skip
    done = ok(client.post(f"{A}/upgrade-shipping", json=body, headers=desk["alex"]), 201)
    assert done["why"] == "free_expedited_shipping from Trail Club Gold"
    with app.db.read() as s:
        o = s.get(Order, desk["order"]["id"])
        assert o is not None and (o.service_level, o.total_minor) == ("expedited", 8900)
    again = client.post(f"{A}/upgrade-shipping", json=body, headers=desk["alex"])
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "service_level"
    assert [p["free_by"] for t, p in events(app, desk["customer"], "shipping.")] == [done["why"]]


def _on_hand(app: App, location_id: str) -> list[tuple[int, int]]:
    with app.db.read() as s:
        return [
            (r.quantity, r.reserved) for r in s.scalars(select(Stock).where(Stock.location_id == location_id))
        ]


def test_an_order_from_a_far_store_takes_its_last_pair_and_a_second_one_is_refused_whole(
    client: TestClient, app: App, tokens: dict[str, str], desk: dict[str, Any]
) -> None:
    porto = desk["shop"].stores["opo-sc"]
    body = {"customer_id": desk["customer"], "currency": "EUR", "conversation_id": desk["conversation"],
            "lines": [{"sku": "NW-TRL-01-6.5", "quantity": 1, "location_id": porto, "unit_price_minor": 8900}]}  # fmt: skip
    done = ok(client.post(f"{A}/order", json=body, headers=desk["alex"]), 201)
    assert _on_hand(app, porto) == [(0, 0)]
    placed = ok(client.get(f"/api/v1/orders/{done['order_id']}", headers=desk["alex"]))
    assert placed["lines"][0]["location_id"] == porto and placed["conversation_id"] == desk["conversation"]
    gone = client.post(f"{A}/order", json=body, headers=desk["alex"])
    assert gone.status_code == 409 and gone.json()["errors"][0]["field"] == "lines[0].location_id"
    with app.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 2  # the shop's and the first
    unknown = client.post(f"{A}/order", json={**body, "lines": [{"sku": "NOPE", "quantity": 1, "unit_price_minor": 1}]},
                          headers=desk["alex"])  # fmt: skip
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "lines[0].sku"


def test_a_replacement_over_the_limit_is_created_when_approved(
    client: TestClient, app: App, tokens: dict[str, str], desk: dict[str, Any]
) -> None:
    body = {"customer_id": desk["customer"], "currency": "EUR", "kind": "replacement", "conversation_id": desk["conversation"],
            "replaces_order_id": desk["order"]["id"], "lines": [{"sku": "NW-TRL-01-6", "quantity": 1}]}  # fmt: skip
    asked = ok(client.post(f"{A}/order", json=body, headers=desk["alex"]), 202)
    assert (asked["kind"], asked["amount_minor"]) == ("replacement", 8900)  # the price she paid
    decided = _decide(client, desk, asked["approval_id"])
    assert decided["execution"]["status"] == "executed"
    order_id = decided["execution"]["result"]["order_id"]
    got = ok(client.get(f"/api/v1/orders/{order_id}", headers=desk["alex"]))
    assert (got["kind"], got["total_minor"], got["replaces_order_id"]) == (
        "replacement",
        0,
        desk["order"]["id"],
    )
    assert [t for t, p in events(app, desk["customer"], "order.")] == ["order.placed", "order.placed"]
    no_ref = client.post(f"{A}/order", json={**body, "replaces_order_id": None}, headers=desk["alex"])
    assert no_ref.status_code == 422 and no_ref.json()["errors"][0]["field"] == "replaces_order_id"
