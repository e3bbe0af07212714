"""The rest of the profile from the business's systems: shipments with their history (a delivery
solves the conversation the order came from), returns, payments, subscriptions, visits, devices and
loyalty; what changed lands on the timeline, and a load that changes nothing adds nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from amity.core.actions import App
from amity.db import utcnow
from tests.conftest import auth
from tests.test_commerce_kit import EMAIL, events, ok, order, shop
from tests.test_service_kit import api_channel, conversation, inbound

ANA = [{"type": "email", "value": EMAIL}]


def test_a_shipment_moves_on_with_history_and_its_delivery_is_on_the_timeline(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    shop(client, tokens)
    h = auth(tokens["integration"])
    placed = order(client, h)
    shp = ok(client.post(f"/api/v1/orders/{placed['id']}/shipments", json={
        "carrier": "DPD", "tracking_number": "DPD123", "tracking_url": "https://track.example/DPD123",
        "service_level": "expedited", "status": "dispatched"}, headers=h), 201)  # fmt: skip
    assert [x["status"] for x in shp["history"]] == ["pending", "dispatched"]
    back = client.patch(f"/api/v1/shipments/{shp['id']}", json={"status": "pending"}, headers=h)
    assert back.status_code == 409 and back.json()["errors"][0]["field"] == "status"
    done = ok(client.patch(f"/api/v1/shipments/{shp['id']}", json={"status": "delivered"}, headers=h))
    assert done["status"] == "delivered" and done["delivered_at"]
    got = ok(client.get(f"/api/v1/orders/{placed['id']}", headers=auth(tokens["agent"])))
    assert got["status"] == "delivered"
    kinds = [t for t, p in events(app, placed["customer_id"], "shipment.")]
    assert kinds == ["shipment.dispatched", "shipment.delivered"]
    bad = client.post(
        f"/api/v1/orders/{placed['id']}/shipments",
        json={"carrier": "DPD", "tracking_url": "javascript:x"},
        headers=h,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "tracking_url"


def test_delivery_of_an_order_made_from_a_conversation_solves_it(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    s = shop(client, tokens, stock={("6", "lon-cg"): 2})
    h = auth(tokens["integration"])
    order(client, h)
    channel = api_channel(client, tokens["admin"])
    cid = inbound(client, channel, "Can I get another pair?")["conversation_id"]
    customer = conversation(client, tokens["agent"], cid)["customer_id"]
    made = ok(client.post("/api/v1/commerce/actions/order", json={
        "customer_id": customer, "currency": "EUR", "conversation_id": cid,
        "lines": [{"sku": "NW-TRL-01-6", "quantity": 1, "location_id": s.stores["lon-cg"]}]}, headers=auth(tokens["agent"])), 201)  # fmt: skip
    shp = ok(
        client.post(
            f"/api/v1/orders/{made['order_id']}/shipments",
            json={"carrier": "UPS", "status": "dispatched"},
            headers=h,
        ),
        201,
    )
    assert conversation(client, tokens["agent"], cid)["status"] == "open"
    ok(client.patch(f"/api/v1/shipments/{shp['id']}", json={"status": "delivered"}, headers=h))
    conv = conversation(client, tokens["agent"], cid)
    assert conv["status"] == "solved"
    assert "was delivered: solved" in [m["text"] for m in conv["messages"] if m["is_note"]][-1]


def test_returns_name_what_was_not_ordered_and_payments_stay_in_the_orders_currency(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    shop(client, tokens)
    h = auth(tokens["integration"])
    placed = order(client, h, payments=[])
    assert placed["status"] == "placed"
    wrong = client.post(
        f"/api/v1/orders/{placed['id']}/payments", json={"amount_minor": 8900, "currency": "GBP"}, headers=h
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "currency"
    paid = ok(
        client.post(
            f"/api/v1/orders/{placed['id']}/payments",
            json={"amount_minor": 8900, "currency": "EUR"},
            headers=h,
        ),
        201,
    )
    assert paid["status"] == "paid"
    more = client.post(
        f"/api/v1/orders/{placed['id']}/payments", json={"amount_minor": 1, "currency": "EUR"}, headers=h
    )
    assert more.status_code == 422 and more.json()["errors"][0]["field"] == "amount_minor"
    not_on = client.post(
        f"/api/v1/orders/{placed['id']}/returns",
        json={"lines": [{"sku": "NW-TRL-01-7", "quantity": 1}]},
        headers=h,
    )
    assert not_on.status_code == 422 and not_on.json()["errors"][0]["field"] == "lines[0].sku"
    too_many = client.post(
        f"/api/v1/orders/{placed['id']}/returns",
        json={"lines": [{"sku": "NW-TRL-01-6", "quantity": 2}]},
        headers=h,
    )
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "lines[0].quantity"
    ret = ok(client.post(f"/api/v1/orders/{placed['id']}/returns", json={"lines": [{"sku": "NW-TRL-01-6", "quantity": 1}], "reason": "too small"}, headers=h), 201)  # fmt: skip
    rid = ret["returns"][0]["id"]
    ok(client.patch(f"/api/v1/returns/{rid}", json={"status": "received"}, headers=h))
    refunded = ok(
        client.post(
            f"/api/v1/orders/{placed['id']}/refunds",
            json={"amount_minor": 8900, "currency": "EUR"},
            headers=h,
        ),
        201,
    )
    assert refunded["refunded_minor"] == 8900
    again = client.post(
        f"/api/v1/orders/{placed['id']}/refunds", json={"amount_minor": 1, "currency": "EUR"}, headers=h
    )
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "amount_minor"
    kinds = [
        t for t, p in events(app, placed["customer_id"]) if t.startswith(("return.", "refund.", "payment."))
    ]
    assert kinds == ["payment.received", "return.requested", "return.received", "refund.issued"]


def _bulk(client: TestClient, h: dict[str, str], path: str, key: str, items: list[dict[str, Any]]) -> Any:
    return ok(client.post(f"/api/v1/{path}/bulk", json={key: items}, headers=h))


def test_subscriptions_devices_and_visits_load_in_bulk_and_only_changes_reach_the_timeline(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    h = auth(tokens["integration"])
    renews = utcnow() + dt.timedelta(days=30)
    sub = {"external_id": "S-1", "identities": ANA, "plan": "Home Care", "price_minor": 999, "currency": "EUR",
           "renews_at": renews.isoformat()}  # fmt: skip
    first = _bulk(
        client, h, "subscriptions", "subscriptions", [sub, {**sub, "external_id": "S-2", "currency": None}]
    )
    assert [r["status"] for r in first["results"]] == ["accepted", "rejected"]
    assert first["results"][1]["errors"][0]["field"] == "subscriptions[1].currency"
    cid = first["results"][0]["customer_id"]
    same = _bulk(client, h, "subscriptions", "subscriptions", [sub])
    assert same["results"][0]["status"] == "unchanged"
    later = {**sub, "renews_at": (renews + dt.timedelta(days=30)).isoformat()}
    assert _bulk(client, h, "subscriptions", "subscriptions", [later])["results"][0]["status"] == "accepted"

    dev = {"serial": "HUB-77", "identities": ANA, "model": "Hub 2", "state": "online"}
    _bulk(client, h, "devices", "devices", [dev])
    assert (
        _bulk(client, h, "devices", "devices", [{**dev, "state": "online"}])["results"][0]["status"]
        == "unchanged"
    )
    _bulk(
        client, h, "devices", "devices", [{**dev, "state": "offline", "last_seen_at": utcnow().isoformat()}]
    )
    visit = {"external_id": "V-9", "identities": ANA, "kind": "engineer_visit", "scheduled_at": renews.isoformat(),
             "engineer": "Rui", "address": {"line1": "Rua Augusta 1", "city": "Lisbon", "country": "PT"}}  # fmt: skip
    ok(client.post("/api/v1/appointments", json=visit, headers=h), 201)
    ok(client.post("/api/v1/appointments", json={**visit, "status": "completed"}, headers=h), 201)
    nobody = client.post("/api/v1/devices", json={"serial": "X-1", "model": "Hub"}, headers=h)
    assert nobody.status_code == 422 and nobody.json()["errors"][0]["field"] == "identities"

    kinds = [t for t, p in events(app, cid)]
    assert [k for k in kinds if k.split(".")[0] in ("subscription", "device", "engineer_visit")] == [
        "subscription.started", "subscription.renewed", "device.registered", "device.offline",
        "engineer_visit.scheduled", "engineer_visit.completed",
    ]  # fmt: skip
    prof = ok(client.get(f"/api/v1/customers/{cid}/commerce", headers=auth(tokens["agent"])))
    assert [d["state"] for d in prof["devices"]] == ["offline"]
    assert [s["plan"] for s in prof["subscriptions"]] == ["Home Care"]
    assert prof["appointments"][0]["status"] == "completed"


def test_loyalty_tiers_carry_benefits_and_a_membership_names_an_unknown_tier(
    client: TestClient, tokens: dict[str, str]
) -> None:
    h = auth(tokens["integration"])
    prog = ok(client.post("/api/v1/loyalty/programmes", json={"name": "Club", "tiers": [
        {"name": "Silver", "rank": 1}, {"name": "Gold", "rank": 2, "benefits": ["free_expedited_shipping"]}]}, headers=h), 201)  # fmt: skip
    dup = client.post("/api/v1/loyalty/programmes", json={"name": "Club"}, headers=h)
    assert dup.status_code == 409 and dup.json()["errors"][0]["field"] == "name"
    res = _bulk(client, h, "loyalty/memberships", "memberships", [
        {"programme_id": prog["id"], "identities": ANA, "tier": "Gold", "points": 10},
        {"programme_id": prog["id"], "identities": ANA, "tier": "Platinum"},
        {"programme_id": "lpg_nope", "identities": ANA},
    ])  # fmt: skip
    assert [r["status"] for r in res["results"]] == ["accepted", "rejected", "rejected"]
    assert [r["errors"][0]["field"] for r in res["results"][1:]] == [
        "memberships[1].tier",
        "memberships[2].programme_id",
    ]
    prof = ok(
        client.get(
            f"/api/v1/customers/{res['results'][0]['customer_id']}/commerce", headers=auth(tokens["agent"])
        )
    )
    assert [(m["tier"], m["benefits"], m["points"]) for m in prof["memberships"]] == [
        ("Gold", ["free_expedited_shipping"], 10)
    ]
    listed = ok(client.get("/api/v1/loyalty/programmes", headers=auth(tokens["agent"])))["items"]
    assert [t["name"] for t in listed[0]["tiers"]] == ["Silver", "Gold"]
