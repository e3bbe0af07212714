"""The commerce card beside a conversation: orders with tracking links, coupons, loyalty; its action
dialogs run the same actions as the API, carry the CSRF token, and explain a refusal."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from amity.commerce.models import Coupon
from amity.core.actions import App
from tests.conftest import auth
from tests.test_commerce_kit import EMAIL, ok, order, shop
from tests.test_service_kit import api_channel, inbound
from tests.test_ui_console import signed_in

ANA = [{"type": "email", "value": EMAIL}]


def _desk(client: TestClient, tokens: dict[str, str]) -> tuple[str, str]:
    shop(client, tokens)
    h = auth(tokens["integration"])
    placed = order(client, h, payments=[])
    ok(client.post(f"/api/v1/orders/{placed['id']}/shipments", json={"carrier": "DPD", "tracking_number": "DPD9",
                                                                     "tracking_url": "https://track.example/DPD9"}, headers=h), 201)  # fmt: skip
    ok(client.post("/api/v1/coupons", json={"code": "LOST-15", "identities": ANA, "amount_minor": 1500, "currency": "EUR"}, headers=h), 201)  # fmt: skip
    prog = ok(client.post("/api/v1/loyalty/programmes", json={"name": "Trail Club", "tiers": [{"name": "Gold", "benefits": ["free_expedited_shipping"]}]}, headers=h), 201)  # fmt: skip
    ok(client.post("/api/v1/loyalty/memberships", json={"programme_id": prog["id"], "identities": ANA, "tier": "Gold"}, headers=h), 201)  # fmt: skip
    cid = inbound(client, api_channel(client, tokens["admin"]), "Where is my parcel?")["conversation_id"]
    return cid, placed["id"]


def test_the_card_shows_orders_tracking_coupons_and_loyalty_and_its_forms_act(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    cid, order_id = _desk(client, tokens)
    agent, token, _ = signed_in(client, app, "agent")
    page = agent.get(f"/conversations/{cid}")
    assert page.status_code == 200
    card = page.text[page.text.index('id="panel-commerce"') :]
    assert 'href="https://track.example/DPD9"' in card and "LOST-15" in card and "Trail Club · Gold" in card
    assert f'action="/conversations/{cid}/commerce/apply-coupon"' in card

    done = agent.post(f"/conversations/{cid}/commerce/apply-coupon", data={"csrf": token, "order_id": order_id, "code": "LOST-15"},
                      follow_redirects=False)  # fmt: skip
    assert done.status_code == 303 and done.headers["location"].startswith(
        f"/conversations/{cid}?notice=updated"
    )
    with app.db.read() as s:
        assert s.query(Coupon).one().redeemed_order_id == order_id
    again = agent.post(
        f"/conversations/{cid}/commerce/apply-coupon",
        data={"csrf": token, "order_id": order_id, "code": "LOST-15"},
    )
    assert again.status_code == 409 and "already redeemed" in again.text
    bad = agent.post(f"/conversations/{cid}/commerce/refund", data={"csrf": token, "order_id": order_id, "amount": "12.345",
                                                                  "currency": "EUR", "reason": "x"})  # fmt: skip
    assert bad.status_code == 422 and "is not an amount in EUR" in bad.text
    free = agent.post(f"/conversations/{cid}/commerce/upgrade-shipping", data={"csrf": token, "order_id": order_id,
                                                                             "service_level": "expedited"}, follow_redirects=False)  # fmt: skip
    assert free.status_code == 303
    shown = agent.get(f"/conversations/{cid}").text
    assert re.search(
        r"upgraded to expedited at no charge: free_expedited_shipping from Trail Club Gold", shown
    )


def test_the_forms_need_the_csrf_token_and_the_right_to_act(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    cid, order_id = _desk(client, tokens)
    agent, _, _ = signed_in(client, app, "agent")
    forged = agent.post(
        f"/conversations/{cid}/commerce/apply-coupon",
        data={"csrf": "forged", "order_id": order_id, "code": "LOST-15"},
    )
    assert forged.status_code == 403
    stranger = TestClient(client.app).post(
        f"/conversations/{cid}/commerce/refund", data={"csrf": "x"}, follow_redirects=False
    )
    assert stranger.status_code == 303 and stranger.headers["location"] == "/login"
    with app.db.read() as s:
        assert s.query(Coupon).one().redeemed_at is None
