"""The clerk's part of the shoe story in a real browser: beside the conversation, the commerce card
shows her Gold membership and the coupon she had lost; the clerk orders the pair from a store's stock
with that coupon, then upgrades shipping at no charge, and both land in the thread as notes."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable

from playwright.sync_api import Page, expect
from sqlalchemy import select

from amity.catalog import queries as catalog
from amity.catalog.demo import load_catalog_demo
from amity.commerce.loyalty import create_programme
from amity.commerce.members import load_coupons, load_memberships
from amity.commerce.models import Order
from amity.commerce.orders import Draft, place_one
from amity.commerce.schemas import CouponIn, MembershipIn, OrderIn, ProgrammeIn
from amity.conversations.actions import start_conversation
from amity.core.actions import SYSTEM, ActionContext, perform
from amity.db import utcnow
from tests.e2e.conftest import Live, Person, shoot, sign_in

SKU = "NW-TRL-01-7"


def test_the_clerk_orders_with_the_lost_coupon_and_the_membership_ships_it_expedited(
    page: Page, live: Live, person: Callable[[str, str], Person]
) -> None:
    app = live.app
    load_catalog_demo(app, seed=7)
    bea = person("Bea", "Trailwood")
    tag = uuid.uuid4().hex[:8]  # the browser tests share one database: names of their own
    code = f"LOST-{tag}".upper()
    with app.db.read() as s:
        store = next(loc for loc in catalog.stock_for(s, SKU)["locations"] if loc["available"] > 0)
    earlier = OrderIn.model_validate({"customer_id": bea.survivor_id, "currency": "GBP", "external_id": f"e2e-{tag}",
                                      "lines": [{"sku": SKU, "quantity": 1, "unit_price_minor": 12900}]})  # fmt: skip
    perform(app, SYSTEM, lambda ctx: place_one(ctx, app, Draft(item=earlier)))
    club = perform(app, SYSTEM, create_programme, ProgrammeIn.model_validate(
        {"name": f"Trail Club {tag}", "tiers": [{"name": "Gold", "benefits": ["free_expedited_shipping"]}]}))  # fmt: skip

    def loads(ctx: ActionContext) -> None:
        load_memberships(
            ctx, app, [MembershipIn(programme_id=club.id, customer_id=bea.survivor_id, tier="Gold")]
        )
        expires = utcnow() + dt.timedelta(days=30)
        load_coupons(
            ctx,
            app,
            [
                CouponIn(
                    code=code,
                    customer_id=bea.survivor_id,
                    amount_minor=1500,
                    currency="GBP",
                    expires_at=expires,
                )
            ],
        )

    perform(app, SYSTEM, loads)
    conv = perform(app, SYSTEM, start_conversation, bea.survivor_id, "Ridgeline in a 7, please", None, [])

    sign_in(page, "agent")
    page.goto(f"/conversations/{conv}")
    card = page.locator("#panel-commerce")
    expect(card).to_contain_text(f"Trail Club {tag} · Gold")
    expect(card).to_contain_text(code)
    expect(card).to_contain_text("usable")
    card.locator("summary", has_text="Create an order").click()
    card.get_by_label("SKU").fill(SKU)
    card.get_by_label("From location (id)").fill(store["location_id"])
    card.get_by_label("Currency").first.fill("GBP")
    card.get_by_label("Coupon").select_option(code)
    card.get_by_role("button", name="Create order").click()
    expect(page).to_have_url(re.compile(rf"/conversations/{conv}\?notice=updated"))
    thread = page.locator("#thread-h").locator("xpath=..")
    expect(thread).to_contain_text(f"Coupon {code} applied")
    expect(thread).to_contain_text("total 114.00 GBP")  # 129.00 as she paid before, less 15.00

    card = page.locator("#panel-commerce")
    card.locator("summary", has_text="Upgrade shipping").click()
    card.get_by_role("button", name="Upgrade shipping").click()
    expect(page).to_have_url(re.compile(rf"/conversations/{conv}\?notice=updated"))
    expect(page.locator("#thread-h").locator("xpath=..")).to_contain_text(
        f"upgraded to expedited at no charge: free_expedited_shipping from Trail Club {tag} Gold"
    )
    expect(page.locator("#panel-commerce")).to_contain_text("redeemed")
    shoot(page, "commerce-card")
    with app.db.read() as s:
        made = s.scalars(select(Order).where(Order.conversation_id == conv)).one()
    assert (made.total_minor, made.coupon_code, made.service_level) == (11400, code, "expedited")
