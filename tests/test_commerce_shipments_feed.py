"""A carrier's feed in bulk: parcels added to orders, then found again by tracking number and moved on,
each item on its own (a refused one names its field and writes nothing), re-sent feeds change nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.commerce.models import Shipment
from amity.core.actions import App
from tests.conftest import auth
from tests.test_commerce_kit import audit, events, ok, order, shop


def _feed(client: TestClient, headers: dict[str, str], items: list[dict[str, Any]]) -> Any:
    return ok(client.post("/api/v1/shipments/bulk", json={"shipments": items}, headers=headers))


def _shipments(app: App) -> list[Shipment]:
    with app.db.read() as s:
        return list(s.scalars(select(Shipment).order_by(Shipment.created_at, Shipment.id)))


def test_a_feed_adds_parcels_moves_them_by_tracking_number_and_refuses_items_alone(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    shop(client, tokens)
    h = auth(tokens["integration"])
    placed = order(client, h)
    second = order(client, h, external_id="10443")

    first = _feed(
        client,
        h,
        [
            {"order_external_id": "10442", "carrier": "DHL", "tracking_number": "JD0001", "status": "dispatched"},
            {"order_id": second["id"], "carrier": "UPS", "tracking_number": "1Z999"},
            {"order_external_id": "no-such-order", "carrier": "DHL", "tracking_number": "JD0002"},
            {"tracking_number": "JD0003", "status": "delivered"},
            {"order_id": placed["id"], "tracking_number": "JD0004"},
        ],
    )  # fmt: skip
    assert (first["accepted"], first["rejected"]) == (2, 3)
    assert [r["status"] for r in first["results"]] == [
        "accepted",
        "accepted",
        "rejected",
        "rejected",
        "rejected",
    ]
    assert [e["field"] for r in first["results"][2:] for e in r["errors"]] == [
        "shipments[2].order_external_id",
        "shipments[3].order_id",
        "shipments[4].carrier",
    ]
    rows = _shipments(app)
    assert [(r.order_id, r.carrier, r.tracking_number, r.status) for r in rows] == [
        (placed["id"], "DHL", "JD0001", "dispatched"),
        (second["id"], "UPS", "1Z999", "pending"),
    ]
    # The order's service level is the parcel's when the feed does not say.
    assert rows[0].service_level == "standard"

    # The daily scan: found by tracking number alone, moved on twice in one feed; a bad move refused.
    scan = _feed(
        client,
        h,
        [
            {"tracking_number": "JD0001", "status": "in_transit"},
            {"tracking_number": "JD0001", "status": "delivered", "at": "2026-12-03T10:00:00Z"},
            {"tracking_number": "1Z999", "carrier": "UPS", "status": "returned"},
        ],
    )
    assert [r["status"] for r in scan["results"]] == ["accepted", "accepted", "rejected"]
    assert scan["results"][2]["errors"] == [
        {
            "field": "shipments[2].status",
            "message": "a pending shipment can become delivered, dispatched, failed, in_transit, not returned",
        }
    ]
    rows = _shipments(app)
    assert [r.status for r in rows] == ["delivered", "pending"]
    assert [h["status"] for h in rows[0].history] == ["pending", "dispatched", "in_transit", "delivered"]
    assert rows[0].delivered_at is not None and rows[0].delivered_at.isoformat().startswith(
        "2026-12-03T10:00"
    )

    # The customer's timeline tells the parcel's story; the audit has every step.
    kinds = [k for k, _ in events(app, placed["customer_id"], "shipment.")]
    assert kinds == ["shipment.dispatched", "shipment.in_transit", "shipment.delivered"]
    assert len(audit(app, "shipment.created")) == 2 and len(audit(app, "shipment.status")) == 3
    got = ok(client.get(f"/api/v1/orders/{placed['id']}", headers=auth(tokens["agent"])))
    assert got["status"] == "delivered"

    # The same feed again: nothing changes, nothing new on the timeline.
    again = _feed(client, h, [{"tracking_number": "JD0001", "status": "delivered"}])
    assert again["results"][0]["status"] == "unchanged" and again["unchanged"] == 1
    assert len(events(app, placed["customer_id"], "shipment.")) == 3


def test_the_feed_is_for_the_shop_systems_and_checks_its_body(
    client: TestClient, tokens: dict[str, str]
) -> None:
    body = {"shipments": [{"tracking_number": "JD0001", "status": "delivered"}]}
    assert client.post("/api/v1/shipments/bulk", json=body).status_code == 401
    r = client.post("/api/v1/shipments/bulk", json=body, headers=auth(tokens["agent"]))
    assert r.status_code == 403
    bad = client.post(
        "/api/v1/shipments/bulk",
        json={"shipments": [{"tracking_number": "JD0001", "status": "lost"}]},
        headers=auth(tokens["integration"]),
    )
    assert bad.status_code == 422 and "shipments[0].status" in bad.text
    empty = client.post("/api/v1/shipments/bulk", json={"shipments": []}, headers=auth(tokens["integration"]))
    assert empty.status_code == 422
