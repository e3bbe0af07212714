"""The Customer 360 in the browser: search, identities, merge evidence, undo and manual merge by role."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from amity.core.actions import SYSTEM
from amity.customers import service
from amity.customers.models import Customer, Identity, Merge
from amity.privacy.models import AuditEntry
from tests.e2e.conftest import Live, Person, csrf_of, shoot, sign_in

pytestmark = pytest.mark.e2e

Seed = Callable[[str, str], Person]


def merge_row(page: Page, p: Person) -> Locator:
    return page.locator(f"tr[data-merge-id='{p.merge_id}']")


def test_search_by_email_opens_the_360_with_both_identities_and_the_merge_evidence(
    page: Page, person: Seed
) -> None:
    ana = person("Ana", "Souza")
    sign_in(page, "agent")
    page.goto("/customers")  # signing in lands on the inbox; customer search has its own page

    page.get_by_label("Name, email or phone").fill(ana.email)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name=re.compile(r"^1 customer"))).to_be_visible()
    shoot(page, "customers-search")
    page.get_by_role("link", name="Ana Souza").click()

    expect(page).to_have_url(re.compile(f"/customers/{ana.survivor_id}$"))
    expect(page.get_by_role("heading", name="Ana Souza", level=1)).to_be_visible()
    identities = page.locator("section[aria-labelledby=ids-h]")
    expect(identities).to_contain_text(ana.email)
    expect(identities).to_contain_text(ana.phone)
    row = merge_row(page, ana)
    expect(row).to_contain_text(f"{ana.merged_id} merged into {ana.survivor_id}")
    expect(row.locator(".evidence code").nth(1)).to_have_text(ana.bridge_event_id)
    expect(row.locator(".evidence code").first).to_have_text(re.compile(r"^(email|phone):"))
    expect(row).to_contain_text("Active")
    expect(page.locator("section[aria-labelledby=traits-h]")).to_contain_text("Europe/Lisbon")
    expect(page.locator(".timeline .event-type").first).to_have_text("loyalty.joined")  # newest first


def test_a_merged_away_id_shows_the_survivor_with_a_note(page: Page, person: Seed) -> None:
    bea = person("Beatriz", "Costa")
    sign_in(page, "agent")
    page.goto(f"/customers/{bea.merged_id}")
    expect(page.get_by_role("note")).to_contain_text(f"{bea.merged_id} was merged into this customer")
    expect(page.locator(".profile")).to_contain_text(bea.survivor_id)


def test_supervisor_undoes_a_merge_and_both_customers_come_back(page: Page, live: Live, person: Seed) -> None:
    caio = person("Caio", "Ramos")
    sign_in(page, "supervisor")
    page.goto(f"/customers/{caio.survivor_id}")
    shoot(page, "customer-360")

    page.once("dialog", lambda d: d.accept())  # "Undo this merge?"
    row = merge_row(page, caio)
    row.get_by_label(re.compile("Reason for undoing merge")).fill("two people sharing a loyalty card")
    row.get_by_role("button", name="Undo merge").click()

    # The page: a notice, the merge marked undone, the phone gone to the restored customer.
    expect(page.get_by_role("status")).to_contain_text(f"{caio.merged_id} is a separate customer again")
    expect(merge_row(page, caio)).to_contain_text("Undone")
    expect(merge_row(page, caio).get_by_role("button", name="Undo merge")).to_have_count(0)
    identities = page.locator("section[aria-labelledby=ids-h]")
    expect(identities).to_contain_text(caio.email)
    expect(identities).not_to_contain_text(caio.phone)
    page.get_by_role("link", name=caio.merged_id).first.click()
    expect(page.locator("section[aria-labelledby=ids-h]")).to_contain_text(caio.phone)
    expect(page.get_by_role("note")).to_have_count(0)  # its own profile again, not a redirect

    # The database: two live customers, each with their own identifier, the undo recorded and audited.
    with live.app.db.read() as s:
        alive = set(
            s.scalars(
                select(Customer.id).where(
                    Customer.id.in_([caio.survivor_id, caio.merged_id]), Customer.merged_into_id.is_(None)
                )
            )
        )
        owner = dict(
            s.execute(
                select(Identity.value, Identity.customer_id).where(
                    Identity.value.in_([caio.email, caio.phone])
                )
            ).all()
        )
        m = s.get(Merge, caio.merge_id)
        audit = s.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "merge.undone", AuditEntry.subject_id == caio.merged_id
            )
        ).one()
    assert alive == {caio.survivor_id, caio.merged_id}
    assert owner == {caio.email: caio.survivor_id, caio.phone: caio.merged_id}
    supervisor = f"user:{live.users['supervisor']}"
    assert (
        m is not None and m.undone_by == supervisor and m.undo_reason == "two people sharing a loyalty card"
    )
    assert audit.actor == supervisor and audit.details["merge_id"] == caio.merge_id

    # The API (same session cookie) tells the same story.
    api = page.request.get(f"/api/v1/customers/{caio.merged_id}").json()
    assert api["id"] == caio.merged_id and "requested_id" not in api
    assert [i["value"] for i in api["identities"]] == [caio.phone]


def test_an_agent_sees_no_merge_controls_and_cannot_post_an_undo(
    page: Page, live: Live, person: Seed
) -> None:
    dora = person("Dora", "Pinto")
    sign_in(page, "agent")
    page.goto(f"/customers/{dora.survivor_id}")
    expect(merge_row(page, dora)).to_contain_text("Active")
    expect(page.get_by_role("button", name="Undo merge")).to_have_count(0)
    expect(page.get_by_role("button", name="Merge into this customer")).to_have_count(0)
    expect(page.get_by_label("Customer id to merge in")).to_have_count(0)

    # Even with a valid CSRF token of their own session, the role decides.
    token = csrf_of(page)
    undo = page.request.post(f"/merges/{dora.merge_id}/undo", form={"csrf": token, "back": dora.survivor_id})
    assert undo.status == 403
    assert "may not customers:merge" in undo.text()
    merge = page.request.post(
        f"/customers/{dora.survivor_id}/merge", form={"csrf": token, "other_id": "cus_x"}
    )
    assert merge.status == 403
    with live.app.db.read() as s:
        m = s.get(Merge, dora.merge_id)
        assert m is not None and m.undone_at is None


def test_supervisor_merges_two_customers_by_hand(page: Page, live: Live, person: Seed) -> None:
    eva = person("Eva", "Moura")
    stray = service.ingest(
        live.app,
        SYSTEM,
        [{"type": "chat.started", "identities": [{"type": "social:instagram", "value": "eva.moura.pt"}]}],
    )["results"][0]["customer_id"]
    sign_in(page, "supervisor")
    page.goto(f"/customers/{eva.survivor_id}")

    page.get_by_label("Customer id to merge in").fill("cus_doesnotexist")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Merge into this customer").click()
    expect(page.locator("#merge-other_id-error")).to_contain_text("no customer cus_doesnotexist")
    expect(page.get_by_label("Customer id to merge in")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Customer id to merge in").fill(stray)
    page.get_by_label("Note: why they are the same person").fill("confirmed on the phone")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Merge into this customer").click()
    expect(page.get_by_role("status")).to_contain_text("Merged.")
    expect(page.locator("section[aria-labelledby=ids-h]")).to_contain_text("eva.moura.pt")
    expect(page.locator("tr.merge").first).to_contain_text("confirmed on the phone")


def test_the_timeline_pages_back_with_the_older_link(page: Page, live: Live, person: Seed) -> None:
    fabio = person("Fabio", "Neves")
    service.ingest(
        live.app,
        SYSTEM,
        [
            {
                "type": "page.viewed",
                "timestamp": f"2026-01-01T00:{i:02d}:00Z",
                "identities": [{"type": "email", "value": fabio.email}],
                "properties": {"n": i},
            }
            for i in range(25)
        ],
    )
    sign_in(page, "agent")
    page.goto(f"/customers/{fabio.survivor_id}")
    expect(page.locator(".timeline .event")).to_have_count(20)
    page.get_by_role("link", name="Older events").click()
    expect(page.locator(".timeline .event")).to_have_count(29 - 20)
    expect(page.locator(".timeline .event-type").last).to_have_text("page.viewed")
    expect(page.get_by_role("link", name="Older events")).to_have_count(0)
    page.get_by_role("link", name="Newest").click()
    expect(page.locator(".timeline .event")).to_have_count(20)
