"""The orders half in access and erasure requests: every row handed over; erasure removes what points
at the person (addresses, card numbers, tracking, free text, device serials) and keeps the amounts."""

from __future__ import annotations

from fastapi.testclient import TestClient

from amity.commerce.models import Appointment, Device, Membership, Order, Refund, Shipment
from amity.commerce.privacy import HOLDER
from amity.core.actions import App
from amity.privacy.holders import covered_tables
from tests.conftest import auth
from tests.test_commerce_kit import EMAIL, ok, order, shop

ANA = [{"type": "email", "value": EMAIL}]
ADDRESS = {
    "name": "Ana Silva",
    "line1": "Rua das Flores 12",
    "city": "Porto",
    "postcode": "4050-262",
    "country": "PT",
}


def _plant(client: TestClient, tokens: dict[str, str]) -> str:
    shop(client, tokens)
    h = auth(tokens["integration"])
    placed = order(client, h, shipping_address=ADDRESS)
    shp = ok(
        client.post(
            f"/api/v1/orders/{placed['id']}/shipments",
            json={"carrier": "CTT", "tracking_number": "EA1PT"},
            headers=h,
        ),
        201,
    )
    assert shp["tracking_number"] == "EA1PT"
    ok(client.post(f"/api/v1/orders/{placed['id']}/refunds", json={"amount_minor": 900, "currency": "EUR", "reason": "Ana said the box was torn"}, headers=h), 201)  # fmt: skip
    ok(client.post("/api/v1/devices", json={"serial": "HUB-ANA-1", "identities": ANA, "model": "Hub", "name": "Ana's hub"}, headers=h), 201)  # fmt: skip
    ok(client.post("/api/v1/appointments", json={"external_id": "V1", "identities": ANA, "kind": "installation",
                                                 "scheduled_at": "2026-11-01T10:00:00Z", "address": ADDRESS, "notes": "gate code 1234"}, headers=h), 201)  # fmt: skip
    prog = ok(
        client.post(
            "/api/v1/loyalty/programmes", json={"name": "Club", "tiers": [{"name": "Gold"}]}, headers=h
        ),
        201,
    )
    ok(client.post("/api/v1/loyalty/memberships", json={"programme_id": prog["id"], "identities": ANA, "tier": "Gold", "number": "CARD-99"}, headers=h), 201)  # fmt: skip
    return str(placed["customer_id"])


def test_every_orders_table_with_customer_data_is_covered(app: App) -> None:  # installed by the app
    assert {
        "commerce_orders",
        "commerce_order_lines",
        "commerce_coupons",
        "commerce_devices",
    } <= covered_tables()


def test_export_hands_over_every_row_and_erasure_keeps_only_what_is_not_personal(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    cid = _plant(client, tokens)
    with app.db.read() as s:
        data = HOLDER.export(s, [cid])
    assert ADDRESS.items() <= data["commerce_orders"][0]["shipping_address"].items()
    assert [ln["sku"] for ln in data["commerce_order_lines"]] == ["NW-TRL-01-6"]
    assert data["commerce_devices"][0]["serial"] == "HUB-ANA-1"
    assert data["commerce_memberships"][0]["number"] == "CARD-99"
    with app.db.write_session() as s, s.begin():
        HOLDER.erase(s, [cid])
    with app.db.read() as s:
        o = s.query(Order).one()
        assert o.shipping_address == {} and (o.total_minor, o.currency) == (8900, "EUR")
        assert s.query(Shipment).one().tracking_number is None
        r = s.query(Refund).one()
        assert (r.reason, r.amount_minor) == ("", 900)
        d = s.query(Device).one()
        assert d.serial == f"erased:{d.id}" and d.name is None
        a = s.query(Appointment).one()
        assert (a.address, a.notes) == ({}, "")
        assert s.query(Membership).one().number is None
        dumped = str(HOLDER.export(s, [cid]))
    for needle in ("Rua das Flores", "EA1PT", "box was torn", "HUB-ANA-1", "gate code", "CARD-99"):
        assert needle not in dumped
