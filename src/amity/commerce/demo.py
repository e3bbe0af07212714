"""Northwind Outfitters' orders, loyalty and coupons for the demo (``amity.demo`` calls
:func:`load_commerce_demo` after the catalogue).

The demo retailer's history is regenerated from the seed (``amity.demo.generate`` is deterministic) and
its ``order.placed`` and ``coupon.issued`` events become orders and coupons here. Each is filed under
the event the shop already sent (same event id), so the timeline gains no second copy. Only people the
demo actually loaded are used. On top:

- the Northwind Trail Club (Bronze, Silver, Gold; Gold ships expedited for free and routes first),
  with a membership for every card holder;
- the story's shopper (the first card holder from the Edinburgh store): Gold, with a 15.00 coupon she
  has forgotten about, ``NW-LOST-15``, valid for a year from the demo's anchor;
- a shipment for most web orders (delivered, with tracking) and a handful of Trail Care+ subscriptions.

Loading twice stores nothing new.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import select

from amity.commerce import members, profile
from amity.commerce.fulfilment import add_shipment
from amity.commerce.loyalty import create_programme
from amity.commerce.models import LoyaltyProgramme, Order
from amity.commerce.orders import Draft, place
from amity.commerce.schemas import (
    CouponIn,
    MembershipIn,
    OrderIn,
    ProgrammeIn,
    ShipmentIn,
    SubscriptionIn,
    TierIn,
)
from amity.commerce.stock import variants
from amity.core.actions import ActionContext, Actor, App, perform
from amity.customers import queries as customer_queries
from amity.customers import service as customer_service

ACTOR = Actor(kind="system", id="demo", role="admin", name="Demo data loader")
PROGRAMME = "Northwind Trail Club"
LOST_COUPON = "NW-LOST-15"
DEMO_PEOPLE = 1000  # the demo's default; people it did not load are skipped
BATCH = 500


def _sku(style: str, size: Any) -> str:
    if isinstance(size, float):
        return f"{style}-{size:g}"  # 6.0 -> NW-TRL-01-6, 6.5 -> NW-TRL-01-6.5
    return style if size == "one size" else f"{style}-{size}"


def _person(e: dict[str, Any]) -> int:
    return int(str(e["id"]).split("-")[1])  # demo{seed}-{person:05d}-{event:03d}


def _loaded(app: App, events: list[dict[str, Any]]) -> int:
    """How many of the generated people the demo loaded: they are loaded in order, so the answer is
    found by bisection on whether a person's first identifier is known (a dozen look-ups, not thousands)."""
    firsts: dict[int, str] = {}
    for e in events:
        if e["identities"]:
            firsts.setdefault(_person(e), f"{e['identities'][0]['type']}:{e['identities'][0]['value']}")
    pol = customer_service.policy(app)
    lo, hi = 0, max(firsts, default=-1) + 1  # people [0, lo) are loaded; [hi, ...) are not
    with app.db.read() as s:
        while lo < hi:
            mid = (lo + hi) // 2
            if mid in firsts and customer_queries.find_by_identity(s, pol, firsts[mid]):
                lo = mid + 1
            else:
                hi = mid
    return lo


def _orders(app: App, events: list[dict[str, Any]]) -> list[Draft]:
    with app.db.read() as s:
        have = set(s.scalars(select(Order.external_id).where(Order.external_id.is_not(None))))
        stock = variants(s, {_sku(i["sku"], i["size"]) for e in events for i in e["properties"]["items"]})
    drafts = []
    for e in events:
        p = e["properties"]
        if p["order_id"] in have or not e["identities"]:
            continue
        lines = [
            {"sku": _sku(i["sku"], i["size"]), "quantity": 1, "unit_price_minor": round(i["price"] * 100)}
            for i in p["items"]
            if _sku(i["sku"], i["size"]) in stock  # sizes the catalogue does not make are left out
        ]
        if not lines:
            continue
        total = sum(line["unit_price_minor"] for line in lines)
        item = OrderIn.model_validate(
            {
                "external_id": p["order_id"],
                "identities": e["identities"],
                "currency": p["currency"],
                "lines": lines,
                "payments": [{"amount_minor": total, "currency": p["currency"], "paid_at": e["timestamp"]}],
                "placed_at": e["timestamp"],
                "source": e["source"],
            }
        )
        drafts.append(Draft(item=item, event_id=e["id"]))
    return drafts


def _ship(
    ctx: ActionContext, app: App, orders: list[tuple[str, dt.datetime | None]], rng: random.Random
) -> int:
    n = 0
    for oid, placed_at in orders:
        if rng.random() < 0.8:
            tracking = f"NW{rng.randrange(10**9):09d}GB"
            at = placed_at + dt.timedelta(days=rng.choice((2, 3, 4))) if placed_at else None
            add_shipment(
                ctx,
                app,
                oid,
                ShipmentIn(
                    carrier="Royal Mail",
                    tracking_number=tracking,
                    status="delivered",
                    tracking_url=f"https://track.example/{tracking}",
                    at=at,
                ),
            )
            n += 1
    return n


def load_commerce_demo(app: App, seed: int = 7, people: int = DEMO_PEOPLE) -> dict[str, int]:
    from amity.demo import ANCHOR, generate

    with app.db.read() as s:
        if s.scalar(select(LoyaltyProgramme.id).where(LoyaltyProgramme.name == PROGRAMME)) is not None:
            return {"orders": 0, "memberships": 0, "coupons": 0, "shipments": 0, "subscriptions": 0}
    rng = random.Random(seed)  # noqa: S311 -- demo data, not secrets
    # Regenerate only as many people as the demo loaded (a small demo stays quick to load).
    n = min(50, people)
    while True:
        events = generate(n, seed)
        loaded = _loaded(app, events)
        if loaded < n or n >= people:
            break
        n = min(n * 4, people)
    events = [e for e in events if _person(e) < loaded]
    orders = [e for e in events if e["type"] == "order.placed"]
    placed: list[str] = []
    drafts = _orders(app, orders)
    shipments = 0
    for start in range(0, len(drafts), BATCH):
        batch = drafts[start : start + BATCH]
        results = perform(app, ACTOR, place, app, batch)
        done = [(r["id"], batch[r["index"]]) for r in results if r["status"] == "accepted"]
        placed += [oid for oid, _ in done]
        web = [(oid, d.item.placed_at) for oid, d in done if d.item.source == "shop"]
        shipments += perform(app, ACTOR, _ship, app, web, rng)

    tiers = [
        TierIn(name="Bronze", rank=1),
        TierIn(name="Silver", rank=2, benefits=["priority_routing"]),
        TierIn(name="Gold", rank=3, benefits=["free_expedited_shipping", "priority_routing"]),
    ]
    prog = perform(app, ACTOR, create_programme, ProgrammeIn(name=PROGRAMME, tiers=tiers))
    cards = [e for e in events if e["type"] == "loyalty.joined"]
    story = next(
        (e for e in cards if (e["properties"] or {}).get("store") == "edi-ps"), cards[0] if cards else None
    )
    joining = [
        MembershipIn.model_validate(
            {
                "programme_id": prog.id,
                "identities": e["identities"],
                "number": e["identities"][0]["value"],
                "tier": "Gold"
                if e is story
                else rng.choice(("Bronze", "Bronze", "Bronze", "Silver", "Gold")),
                "points": rng.randrange(0, 5000),
            }
        )
        for e in cards
    ]
    joined = perform(app, ACTOR, members.load_memberships, app, joining) if joining else []

    issued = [e for e in events if e["type"] == "coupon.issued"]
    coupons = [
        CouponIn.model_validate(
            {
                "code": e["properties"]["code"],
                "identities": e["identities"],
                "percent": e["properties"]["percent_off"],
                "expires_at": e["properties"]["expires_on"] + "T23:59:59Z",
            }
        )
        for e in issued
    ]
    fact_ids = {i: e["id"] for i, e in enumerate(issued)}
    if story is not None:
        currency = "EUR" if story["identities"][1]["value"].startswith(("+351", "+353")) else "GBP"
        coupons.append(
            CouponIn.model_validate(
                {
                    "code": LOST_COUPON,
                    "identities": story["identities"],
                    "amount_minor": 1500,
                    "currency": currency,
                    "expires_at": ANCHOR + dt.timedelta(days=365),
                }
            )
        )
    got: list[dict[str, Any]] = []
    for start in range(0, len(coupons), BATCH):
        chunk = coupons[start : start + BATCH]
        ids = {i - start: v for i, v in fact_ids.items() if start <= i < start + BATCH}
        got += perform(app, ACTOR, members.load_coupons, app, chunk, fact_ids=ids)

    subs = [
        SubscriptionIn.model_validate(
            {
                "external_id": f"care-{e['properties']['order_id']}",
                "identities": e["identities"],
                "plan": "Trail Care+ (annual)",
                "price_minor": 2900,
                "currency": e["properties"]["currency"],
                "renews_at": ANCHOR + dt.timedelta(days=rng.randrange(5, 300)),
            }
        )
        for e in orders[:: max(1, len(orders) // 25)]
    ][:25]
    subscribed = perform(app, ACTOR, lambda ctx: profile.load_subscriptions(ctx, app, subs)) if subs else []
    return {
        "orders": len(placed),
        "shipments": shipments,
        "memberships": sum(1 for r in joined if r["status"] == "accepted"),
        "coupons": sum(1 for r in got if r["status"] == "accepted"),
        "subscriptions": sum(1 for r in subscribed if r["status"] == "accepted"),
    }
