"""The trait schema page: admins declare traits; mistakes are shown next to their field."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import csrf_of, shoot, sign_in

pytestmark = pytest.mark.e2e


def test_admin_declares_a_trait_and_sees_field_errors_for_bad_ones(page: Page) -> None:
    sign_in(page, "admin")
    page.get_by_role("link", name="Trait schema").click()
    expect(page.get_by_role("heading", name="Trait schema")).to_be_visible()

    # Refused by validation at the edge: the name is not lower_snake_case.
    page.get_by_label("Name").fill("Shoe Size")
    page.get_by_label("Purpose").fill("service")
    page.get_by_role("button", name="Declare trait").click()
    expect(page.locator("#name-error")).to_contain_text("lower_snake_case")
    expect(page.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Name")).to_have_value("Shoe Size")  # what was typed is kept

    # Refused by the action: an enum needs its values.
    page.get_by_label("Name").fill("loyalty_tier")
    page.get_by_label("Type").select_option("enum")
    page.get_by_role("button", name="Declare trait").click()
    expect(page.locator("#enum_values-error")).to_contain_text("an enum trait needs enum_values")
    expect(page.locator("#name-error")).to_have_count(0)

    page.get_by_label("Enum values").fill("bronze, silver, gold")
    page.get_by_label("Personal data (PII)").uncheck()
    page.get_by_label("Retention (days)").fill("730")
    page.get_by_label("Description").fill("Loyalty programme tier, from the POS.")
    page.get_by_role("button", name="Declare trait").click()

    expect(page.get_by_role("status")).to_have_text("Trait loyalty_tier declared. Events may now carry it.")
    row = page.locator("#trait-loyalty_tier")
    expect(row).to_contain_text("bronze, silver, gold")
    expect(row).to_contain_text("730 days")
    shoot(page, "traits")

    page.get_by_label("Name").fill("loyalty_tier")
    page.get_by_label("Purpose").fill("service")
    page.get_by_role("button", name="Declare trait").click()
    expect(page.locator("#name-error")).to_contain_text("already declared")


def test_a_supervisor_reads_the_schema_but_cannot_declare(page: Page) -> None:
    sign_in(page, "supervisor")
    page.goto("/traits")
    expect(page.locator("#trait-name")).to_contain_text("PII")
    expect(page.get_by_role("button", name="Declare trait")).to_have_count(0)
    r = page.request.post("/traits", form={"csrf": csrf_of(page), "name": "x", "purpose": "service"})
    assert r.status == 403
