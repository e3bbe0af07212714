"""Story 1, the whole shoe story, over the real channels and APIs: a shopper chats on the website
about a trail shoe out of stock in her size; the agent finds the last pair in a store 2,000 km away and
recommends 6.5 (she bought 6 and 6.5, reviews say it runs small); she phones that store; the clerk sees
the same conversation, orders the pair, applies the coupon she had lost, her membership ships it
expedited at no charge; two days later the shipment is delivered and the conversation is solved."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.catalog.models import Stock
from amity.core.actions import App
from amity.db import utcnow
from tests.conftest import auth
from tests.test_catalog_kit import ok, shop
from tests.test_channel_chat import connect, identity_token, make_channel, opened, say, visitor
from tests.test_channel_voice import call, voice_channel
from tests.test_commerce_kit import events
from tests.test_service_kit import person, session_headers

EMAIL, PHONE = "ana@example.com", "+447911123456"
ANA = [{"type": "email", "value": EMAIL}, {"type": "phone", "value": PHONE}]


def _history(client: TestClient, tokens: dict[str, str]) -> dict[str, Any]:
    """What the shop, the loyalty system and the consent widget told Amity before she wrote in."""
    system, admin = auth(tokens["integration"]), auth(tokens["admin"])
    s = shop(client, tokens, stock={("6.5", "opo-sc"): 1, ("6", "lon-cg"): 4, ("7", "lon-cg"): 2})
    for n in range(3):
        ok(client.post("/api/v1/reviews", json={"product_id": s.product["id"], "rating": 4, "fit": "small",
                                                "title": f"Runs small {n}"}, headers=system), 201)  # fmt: skip
    ok(
        client.post(
            "/api/v1/traits", json={"name": "city", "type": "string", "purpose": "service"}, headers=admin
        ),
        201,
    )
    months_ago = (utcnow() - dt.timedelta(days=200)).isoformat()
    for ext, size in (("W-1001", "6"), ("W-1002", "6.5")):
        ok(client.post("/api/v1/orders", json={
            "external_id": ext, "identities": ANA, "currency": "EUR", "placed_at": months_ago,
            "lines": [{"sku": f"NW-TRL-01-{size}", "quantity": 1, "unit_price_minor": 8900}],
            "payments": [{"amount_minor": 8900, "currency": "EUR"}]}, headers=system), 201)  # fmt: skip
    first = ok(client.get(f"/api/v1/customers?identity=email:{EMAIL}", headers=system))["items"][0]["id"]
    ok(client.post("/api/v1/events", json={"type": "profile.updated", "customer_id": first,
                                           "traits": {"name": "Ana Silva", "city": "London"}}, headers=system))  # fmt: skip
    ok(client.post(f"/api/v1/customers/{first}/consents", json={"purpose": "personalisation", "status": "granted",
                                                               "lawful_basis": "consent", "source": "widget"}, headers=system), 201)  # fmt: skip
    club = ok(client.post("/api/v1/loyalty/programmes", json={"name": "Trail Club", "tiers": [
        {"name": "Member", "rank": 1}, {"name": "Gold", "rank": 2, "benefits": ["free_expedited_shipping"]}]}, headers=system), 201)  # fmt: skip
    ok(client.post("/api/v1/loyalty/memberships", json={"programme_id": club["id"], "identities": ANA, "tier": "Gold",
                                                        "number": "TC-0042", "points": 2400}, headers=system), 201)  # fmt: skip
    expires = (utcnow() + dt.timedelta(days=60)).isoformat()
    ok(client.post("/api/v1/coupons", json={"code": "WELCOME-15", "identities": ANA, "amount_minor": 1500,
                                            "currency": "EUR", "expires_at": expires}, headers=system), 201)  # fmt: skip
    return {"shop": s, "ana": first}


def test_the_shoe_story_from_web_chat_to_a_delivered_pair(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    h = _history(client, tokens)
    s, ana = h["shop"], h["ana"]
    admin, system = auth(tokens["admin"]), auth(tokens["integration"])
    porto = s.stores["opo-sc"]
    store_tier = ok(client.post("/api/v1/tiers", json={"name": "Store", "level": 1, "limits": {"refund": {"EUR": 5000}}},
                                headers=admin), 201)  # fmt: skip
    person(app, "alex@example.com", "agent", "Alex")
    clara = person(app, "clara@example.com", "agent", "Clara")
    ok(client.patch(f"/api/v1/agents/{clara}", json={"tier_id": store_tier["id"]}, headers=admin))
    alex_h, clara_h = (
        session_headers(client, "alex@example.com"),
        session_headers(client, "clara@example.com"),
    )
    chat = make_channel(client, admin)
    store_line = voice_channel(client, tokens["admin"], number="+351 22 000 0000")

    # 1. On the website, signed in, she asks about the trail shoe in her size.
    v = visitor(client, chat["id"], identity_token=identity_token({"email": EMAIL, "exp": 4102444800}))
    with connect(client, chat["id"], v["visitor_token"]) as ws:
        opened(ws)
        said = say(ws, "The Ridgeline is out of stock in my size online. Is there a 6.5 anywhere?")
    [conv] = ok(client.get(f"/api/v1/conversations?customer_id={ana}", headers=alex_h))["items"]
    cid = conv["id"]

    # 2. The agent finds stock nearest her (London): the only 6.5 is in Porto, 2,000 km away ...
    found = ok(
        client.post(
            "/api/v1/stock-lookups", json={"sku": "NW-TRL-01-6.5", "conversation_id": cid}, headers=alex_h
        )
    )
    in_stock = [loc for loc in found["locations"] if loc["available"] > 0]
    assert [loc["location_id"] for loc in in_stock] == [porto]
    assert in_stock[0]["distance_km"] > 1000
    # ... and recommends the size from her purchases and the reviews.
    advice = ok(client.post("/api/v1/size-recommendations", json={"product_id": s.product["id"], "customer_id": ana,
                                                                  "conversation_id": cid}, headers=alex_h))  # fmt: skip
    assert advice["size"] == "6.5" and advice["bought_sizes"] == ["6", "6.5"] and advice["fit"] == "small"

    # 3. She phones the Porto store: the clerk's screen pops her with the chat she has open.
    pop = call(client, store_line["id"], "ringing", "PT-1", frm=PHONE).json()
    assert pop["customer_id"] == ana and pop["conversation_id"] == cid
    assert said["text"] in [m["text"] for m in pop["conversation"]["last_messages"]]
    call(client, store_line["id"], "answered", "PT-1", frm=PHONE, agent_id=clara)

    # 4. The clerk sees the same conversation, with the agent's findings: nothing to repeat.
    seen = ok(client.get(f"/api/v1/conversations/{cid}", headers=clara_h))
    notes = [m["text"] for m in seen["messages"] if m["is_note"]]
    assert any("Porto" in n for n in notes) and any("6.5" in n and "small" in n for n in notes)
    prof = ok(client.get(f"/api/v1/customers/{ana}/commerce", headers=clara_h))
    assert [c["code"] for c in prof["coupons"] if c["state"] == "usable"] == ["WELCOME-15"]
    assert prof["memberships"][0]["benefits"] == ["free_expedited_shipping"]

    # 5. She orders the pair from the store's stock, with the coupon she had lost, shipped expedited.
    made = ok(client.post("/api/v1/commerce/actions/order", json={
        "customer_id": ana, "currency": "EUR", "conversation_id": cid,
        "lines": [{"sku": advice["sku"], "quantity": 1, "location_id": porto}]}, headers=clara_h), 201)  # fmt: skip
    order_id = made["order_id"]
    coupon = ok(client.post("/api/v1/commerce/actions/apply-coupon", json={"order_id": order_id, "code": "WELCOME-15",
                                                                         "conversation_id": cid}, headers=clara_h), 201)  # fmt: skip
    assert coupon["total_minor"] == 7400  # the price she paid before, less 15.00
    upgraded = ok(client.post("/api/v1/commerce/actions/upgrade-shipping", json={"order_id": order_id,
                              "service_level": "expedited", "conversation_id": cid}, headers=clara_h), 201)  # fmt: skip
    assert upgraded["why"] == "free_expedited_shipping from Trail Club Gold"
    with app.db.read() as db:
        assert [r.quantity for r in db.scalars(select(Stock).where(Stock.location_id == porto))] == [0]
    call(client, store_line["id"], "ended", "PT-1", frm=PHONE, duration_seconds=240)

    # 6. The shop takes payment and ships it; two days later it is delivered.
    ok(
        client.post(
            f"/api/v1/orders/{order_id}/payments",
            json={"amount_minor": 7400, "currency": "EUR"},
            headers=system,
        ),
        201,
    )
    sent = ok(client.post(f"/api/v1/orders/{order_id}/shipments", json={
        "carrier": "CTT Expresso", "tracking_number": "EA123456789PT", "service_level": "expedited",
        "tracking_url": "https://track.example/EA123456789PT", "status": "dispatched"}, headers=system), 201)  # fmt: skip
    later = (utcnow() + dt.timedelta(minutes=1)).isoformat()
    ok(
        client.patch(
            f"/api/v1/shipments/{sent['id']}", json={"status": "delivered", "at": later}, headers=system
        )
    )

    # 7. The conversation is solved, and her timeline tells the whole story.
    final = ok(client.get(f"/api/v1/conversations/{cid}", headers=alex_h))
    assert final["status"] == "solved"
    assert [(m["channel_type"], m["direction"]) for m in final["messages"] if not m["is_note"]][:2] == [
        ("chat", "in"), ("voice", "in"),
    ]  # fmt: skip
    order = ok(client.get(f"/api/v1/orders/{order_id}", headers=alex_h))
    assert (order["status"], order["service_level"], order["coupon_code"], order["total_minor"]) == (
        "delivered", "expedited", "WELCOME-15", 7400,
    )  # fmt: skip
    story = [t for t, _ in events(app, ana) if t.split(".")[0] in ("order", "coupon", "shipping", "shipment")]
    assert story == [
        "order.placed", "order.placed",  # her earlier sizes 6 and 6.5
        "coupon.issued",
        "order.placed", "coupon.redeemed", "shipping.upgraded", "shipment.dispatched", "shipment.delivered",
    ]  # fmt: skip
