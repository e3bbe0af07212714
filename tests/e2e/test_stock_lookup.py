"""An agent in a conversation looks up stock, sees the size advice, reserves the last pair, and finds the
reservation written into the conversation (Northwind's demo catalogue, a real browser)."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Dialog, Page, expect
from sqlalchemy import select

from amity.catalog.demo import load_catalog_demo
from amity.catalog.models import Reservation
from amity.conversations.actions import start_conversation
from amity.core.actions import SYSTEM, perform
from amity.customers import service
from tests.e2e.conftest import Live, Person, shoot, sign_in
from tests.test_catalog_kit import allow_personalisation


def test_an_agent_finds_the_last_pair_far_away_gets_the_size_and_reserves_it(
    page: Page, live: Live, person: Callable[[str, str], Person]
) -> None:
    load_catalog_demo(live.app, seed=7)
    ana = person("Ana", "Stockley")
    # She bought a 6 in Edinburgh (her last store visit) and a 6.5 online.
    for n, (size, store) in enumerate((("6", "edi-ps"), ("6.5", "web"))):
        result = service.ingest(
            live.app,
            SYSTEM,
            [
                {
                    "id": f"stock-e2e-order-{ana.survivor_id}-{n}",
                    "type": "order.placed",
                    "customer_id": ana.survivor_id,
                    "properties": {"store": store, "items": [{"sku": "NW-HIK-02", "size": size}]},
                }
            ],
        )
        assert result["accepted"] == 1, result
    allow_personalisation(live.app, ana.survivor_id)
    conv = perform(live.app, SYSTEM, start_conversation, ana.survivor_id, "Ridgeline in 6.5?", None, [])
    sign_in(page, "agent")
    page.goto(f"/conversations/{conv}")
    card = page.locator("#panel-catalog")
    expect(card).to_contain_text("Nothing reserved.")
    card.get_by_label("SKU or product").fill("Ridgeline")
    card.get_by_role("button", name="Find stock").click()
    expect(page).to_have_url(re.compile(rf"/conversations/{conv}/stock\?q=Ridgeline$"))
    advice = page.locator("#size-advice")
    expect(advice).to_contain_text("bought 6 and 6.5; this model runs small → 6.5")
    page.get_by_role("button", name="Check stock of NW-TRL-01-6.5").click()
    expect(page).to_have_url(re.compile(r"sku=NW-TRL-01-6\.5$"))
    rows = page.locator("#stock tbody tr")
    expect(rows.first).to_contain_text("Edinburgh Princes Street")  # nearest her last visit first
    lisbon = page.locator("#stock tbody tr", has_text="Lisbon Chiado")
    expect(lisbon).to_contain_text("1")
    expect(lisbon).to_contain_text(re.compile(r"1,9\d\d km"))
    expect(page.get_by_role("button", name="Reserve at Edinburgh Princes Street")).to_have_count(0)
    shoot(page, "stock-lookup")

    def accept(dialog: Dialog) -> None:
        dialog.accept()

    page.on("dialog", accept)  # the Reserve form asks before it holds stock
    lisbon.get_by_role("button", name="Reserve at Lisbon Chiado").click()
    expect(page).to_have_url(re.compile(rf"/conversations/{conv}\?notice=noted$"))
    thread = page.locator("#thread-h").locator("xpath=..")
    expect(thread).to_contain_text("Reserved 1 x NW-TRL-01-6.5 at Lisbon Chiado")
    expect(thread).to_contain_text("Stock of NW-TRL-01-6.5")  # the lookup is noted too
    expect(page.locator("#panel-catalog")).to_contain_text("NW-TRL-01-6.5 at Lisbon Chiado")
    with live.app.db.read() as s:
        held = s.scalars(select(Reservation).where(Reservation.conversation_id == conv)).one()
    assert (held.status, held.customer_id) == ("held", ana.survivor_id)
    # The pair is gone: the same lookup now offers no Reserve button anywhere.
    page.goto(f"/conversations/{conv}/stock?sku=NW-TRL-01-6.5")
    expect(page.get_by_role("button", name=re.compile("^Reserve at"))).to_have_count(0)
