"""Consent in the console, in Chromium: the card beside the conversation, the history page where an
agent records what the customer said, and a blocked marketing message showing its reason."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from amity.consent import policy
from amity.conversations import delivery
from amity.core.actions import SYSTEM, perform
from tests.e2e.conftest import Live, sign_in
from tests.e2e.test_console import write_in
from tests.test_consent_delivery import labelled


def test_an_agent_sees_consent_beside_the_conversation_and_records_a_change(
    page: Page, live: Live, lines: dict[str, str]
) -> None:
    wrote = write_in(live, lines["api"], "Inês Duarte", "Please text me when the boots are back")
    conv, cid = wrote["conversation_id"], wrote["customer_id"]
    sign_in(page, "agent")
    page.goto(f"/conversations/{conv}")
    card = page.locator("#panel-consent")
    expect(card.get_by_role("heading", name="Consent")).to_be_visible()
    expect(card.locator('[data-purpose="service"]')).to_contain_text("contract")
    expect(card.locator('[data-purpose="marketing"]')).to_contain_text("not asked")

    card.get_by_role("link", name="Full consent history").click()
    expect(page).to_have_url(re.compile(f"/customers/{cid}/consents$"))
    expect(page.get_by_role("heading", name="Consent", exact=True)).to_be_visible()
    expect(page.locator(".empty-note")).to_contain_text("No consent recorded yet")

    # a basis the purpose does not allow is refused under its field, and nothing is recorded
    page.get_by_label("Purpose").select_option("partner_sharing")
    page.get_by_label("Status").select_option("granted")
    page.get_by_label("Lawful basis").select_option("contract")
    page.get_by_role("button", name="Record").click()
    expect(page.locator("#consent-lawful_basis-error")).to_contain_text(
        "not a lawful basis for partner_sharing"
    )
    expect(page.locator("#consent-history")).to_have_count(0)

    page.get_by_label("Purpose").select_option("marketing")
    page.get_by_label("Channel").select_option("sms")
    page.get_by_label("Status").select_option("granted")
    page.get_by_label("Lawful basis").select_option("consent")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("status")).to_contain_text("Recorded.")
    row = page.locator("#consent-history tbody tr").first
    expect(row).to_contain_text("marketing")
    expect(row).to_contain_text("sms")
    expect(row).to_contain_text("granted")
    expect(row).to_contain_text("agent")
    expect(page.locator('#consent-now tr[data-purpose="marketing"]')).to_contain_text("sms")

    page.goto(f"/conversations/{conv}")
    expect(page.locator('#panel-consent [data-purpose="marketing"]')).to_contain_text("sms")


def test_a_blocked_marketing_message_shows_why_on_the_thread(
    page: Page, live: Live, lines: dict[str, str]
) -> None:
    wrote = write_in(live, lines["api"], "Rui Matos", "Where is my order?")
    conv = wrote["conversation_id"]
    queued = perform(
        live.app, SYSTEM, labelled, conv, "Boots, 30% off", policy.label("marketing", "campaign")
    )
    assert delivery.deliver(live.app, queued).status == "blocked"
    sign_in(page, "agent")
    page.goto(f"/conversations/{conv}")
    blocked = page.locator("[data-blocked]")
    expect(blocked).to_have_text("Not sent: no marketing consent on api")
    expect(page.locator(".delivery-blocked")).to_have_text("blocked")
