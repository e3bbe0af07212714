"""Signing in through the browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PASSWORD, sign_in

pytestmark = pytest.mark.e2e


def test_a_wrong_password_is_refused_and_the_right_one_opens_customers(page: Page) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))

    page.get_by_label("Email").fill("agent@example.org")
    page.get_by_label("Password").fill("not-the-password")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/login")) as resp:
        page.get_by_role("button", name="Sign in").click()
    assert resp.value.status == 401
    expect(page.get_by_role("alert")).to_have_text("Email or password is wrong.")
    expect(page.get_by_label("Email")).to_have_value("agent@example.org")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/customers$"))
    expect(page.get_by_role("heading", name="Customers", exact=True)).to_be_visible()
    expect(page.locator(".who")).to_contain_text("agent@example.org")


def test_a_page_asked_for_before_sign_in_opens_after_it_and_sign_out_ends_the_session(page: Page) -> None:
    page.goto("/traits")
    expect(page).to_have_url(re.compile(r"/login\?next=/traits$"))
    page.get_by_label("Email").fill("agent@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/traits$"))

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/customers")
    expect(page).to_have_url(re.compile(r"/login\?next=/customers$"))


def test_an_unknown_email_gets_the_same_answer_as_a_wrong_password(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill("nobody@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Email or password is wrong.")
    sign_in(page, "agent")
