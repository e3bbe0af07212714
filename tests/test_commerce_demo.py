"""The demo's orders, loyalty and coupons: filed under the events the shop already sent (no second
copy on any timeline), only for people the demo loaded, and a second load stores nothing new."""

from __future__ import annotations

from sqlalchemy import func, select

from amity.commerce.demo import LOST_COUPON, load_commerce_demo
from amity.commerce.loyalty import memberships_of
from amity.commerce.models import Coupon, Order, Shipment
from amity.core.actions import App
from amity.customers.models import Event
from amity.demo import load_demo


def _n(app: App, q: object) -> int:
    with app.db.read() as s:
        return int(s.scalar(q) or 0)  # type: ignore[call-overload]


def test_the_demo_has_orders_a_gold_member_with_a_lost_coupon_and_loads_once(app: App) -> None:
    stats = load_demo(app, people=40, seed=7)
    assert stats["commerce_orders"] > 0 and stats["commerce_memberships"] > 0
    orders = _n(app, select(func.count()).select_from(Order))
    assert orders == stats["commerce_orders"]
    # Each order sits on the shop's own order.placed event: no second copy.
    placed = _n(app, select(func.count()).select_from(Event).where(Event.type == "order.placed"))
    assert placed == _n(app, select(func.count(Event.id.distinct())).where(Event.type == "order.placed"))
    assert (
        _n(
            app,
            select(func.count())
            .select_from(Event)
            .where(Event.type == "order.placed", Event.source == "commerce"),
        )
        == 0
    )
    assert _n(app, select(func.count()).select_from(Shipment).where(Shipment.status == "delivered")) > 0
    with app.db.read() as s:
        lost = s.scalar(select(Coupon).where(Coupon.code == LOST_COUPON))
        assert lost is not None and lost.redeemed_at is None and lost.amount_minor == 1500
        tiers = [m["tier"] for m in memberships_of(s, lost.customer_id)]
        assert tiers == ["Gold"]
    again = load_commerce_demo(app, seed=7)
    assert sum(again.values()) == 0
    assert _n(app, select(func.count()).select_from(Order)) == orders
