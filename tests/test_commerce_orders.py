"""Orders from the shop: resolved to the customer like any event, on their timeline, refused whole
when anything is wrong (unknown SKU, negative quantity, a second currency), bulk loads per item."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from amity.commerce.models import Order, OrderLine, Payment
from amity.core.actions import App
from tests.conftest import auth
from tests.test_commerce_kit import EMAIL, audit, events, ok, order, shop


def _count(app: App, model: type) -> int:
    with app.db.read() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_an_order_lands_on_the_customer_resolved_from_its_identities_and_on_their_timeline(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    shop(client, tokens)
    shop_sys = auth(tokens["integration"])
    placed = order(client, shop_sys)
    assert placed["status"] == "paid" and placed["total_minor"] == 8900 and placed["paid_minor"] == 8900
    cid = placed["customer_id"]
    found = ok(client.get(f"/api/v1/customers?identity=email:{EMAIL}", headers=auth(tokens["agent"])))[
        "items"
    ]
    assert [c["id"] for c in found] == [cid]
    [(kind, props)] = events(app, cid, "order.")
    assert kind == "order.placed" and props["order_id"] == placed["id"]
    # What size advice reads: each item with the catalogue's size.
    assert props["items"] == [
        {"sku": "NW-TRL-01-6", "quantity": 1, "unit_price_minor": 8900, "size": "6", "colour": "moss",
         "product_id": props["items"][0]["product_id"]}
    ]  # fmt: skip
    assert [a.subject_id for a in audit(app, "order.placed")] == [placed["id"]]

    # The shop sends it again (a retry): the same order, stored once.
    again = order(client, shop_sys, status=200)
    assert again["id"] == placed["id"] and _count(app, Order) == 1
    listed = ok(client.get(f"/api/v1/customers/{cid}/orders", headers=auth(tokens["agent"])))["items"]
    assert [o["id"] for o in listed] == [placed["id"]]


def test_an_unknown_sku_refuses_the_whole_order_naming_the_line(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    shop(client, tokens)
    lines = [
        {"sku": "NW-TRL-01-6", "quantity": 1, "unit_price_minor": 8900},
        {"sku": "NO-SUCH-SKU", "quantity": 1, "unit_price_minor": 100},
    ]
    r = order(client, auth(tokens["integration"]), status=422, lines=lines)
    assert r["errors"] == [
        {"field": "lines[1].sku", "message": "unknown SKU 'NO-SUCH-SKU': not in the catalogue"}
    ]
    assert (_count(app, Order), _count(app, OrderLine), _count(app, Payment)) == (0, 0, 0)
    assert audit(app, "events.ingested") == []  # not even the customer was created


def test_negative_quantities_and_a_second_currency_are_refused_by_field(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    shop(client, tokens)
    h = auth(tokens["integration"])
    neg = order(
        client, h, status=422, lines=[{"sku": "NW-TRL-01-6", "quantity": -1, "unit_price_minor": 8900}]
    )
    assert neg["errors"][0]["field"] == "lines[0].quantity"
    price = order(
        client, h, status=422, lines=[{"sku": "NW-TRL-01-6", "quantity": 1, "unit_price_minor": -5}]
    )
    assert price["errors"][0]["field"] == "lines[0].unit_price_minor"
    line_cur = order(
        client, h, status=422,
        lines=[{"sku": "NW-TRL-01-6", "quantity": 1, "unit_price_minor": 8900, "currency": "GBP"}],
    )  # fmt: skip
    assert line_cur["errors"] == [
        {"field": "lines[0].currency", "message": "GBP differs from the order's EUR"}
    ]
    pay_cur = order(client, h, status=422, payments=[{"amount_minor": 8900, "currency": "USD"}])
    assert pay_cur["errors"][0]["field"] == "payments[0].currency"
    over = order(client, h, status=422, payments=[{"amount_minor": 9900, "currency": "EUR"}])
    assert over["errors"][0]["field"] == "payments"
    assert _count(app, Order) == 0


def test_a_bulk_load_keeps_every_good_order_and_names_each_bad_one(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    shop(client, tokens)
    good = {"identities": [{"type": "email", "value": EMAIL}], "currency": "EUR",
            "lines": [{"sku": "NW-TRL-01-6", "quantity": 2, "unit_price_minor": 4000}]}  # fmt: skip
    body = {
        "orders": [
            {**good, "external_id": "A1"},
            {**good, "external_id": "A2", "lines": [{"sku": "GONE", "quantity": 1, "unit_price_minor": 1}]},
            {**good, "external_id": "A3", "customer_id": "cus_nobody"},
            {**good, "external_id": "A1"},
        ]
    }
    r = ok(client.post("/api/v1/orders/bulk", json=body, headers=auth(tokens["integration"])))
    assert [x["status"] for x in r["results"]] == ["accepted", "rejected", "rejected", "duplicate"]
    assert r["results"][1]["errors"][0]["field"] == "orders[1].lines[0].sku"
    assert r["results"][2]["errors"][0]["field"] == "orders[2].customer_id"
    assert r["results"][3]["id"] == r["results"][0]["id"]
    assert (r["accepted"], r["rejected"], r["duplicate"]) == (1, 2, 1)
    assert _count(app, Order) == 1
    too_many = client.post(
        "/api/v1/orders/bulk", json={"orders": [good] * 1001}, headers=auth(tokens["integration"])
    )
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "orders"
