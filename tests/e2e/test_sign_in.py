"""Signing in through the browser."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import Page, expect

from amity.accounts.actions import create_user
from amity.core.actions import SYSTEM, perform
from tests.e2e.conftest import PASSWORD, Live, sign_in

pytestmark = pytest.mark.e2e


def test_a_wrong_password_is_refused_and_the_right_one_opens_the_inbox(page: Page) -> None:
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
    expect(page).to_have_url(re.compile(r"/inbox$"))  # signing in lands on the inbox
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


def test_two_factor_is_set_up_on_the_account_page_and_then_asked_for_after_the_password(
    page: Page, live: Live
) -> None:
    perform(live.app, SYSTEM, create_user, "tfa@example.org", PASSWORD, "agent", "Tia")
    left = 30 - time.time() % 30
    if left < 10:  # one step either side is accepted: keep the test inside two steps
        time.sleep(left + 0.2)
    page.goto("/login")
    page.get_by_label("Email").fill("tfa@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))

    page.goto("/account/security")
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    key = page.locator("#totp-key").inner_text()
    expect(page.get_by_label("Link for the app")).to_have_value(re.compile(r"^otpauth://totp/Amity:"))
    page.get_by_label("Code from the app").fill(pyotp.TOTP(key).at(time.time() - 30))
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("list", name="Recovery codes").get_by_role("listitem")).to_have_count(10)

    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Email").fill("tfa@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_have_text("That code is wrong or was used already.")
    page.get_by_label("Code").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))
    expect(page.locator(".who")).to_contain_text("tfa@example.org")


def test_forgot_password_answers_the_same_for_any_address(page: Page) -> None:
    for email in ("agent@example.org", "nobody@example.org"):
        page.goto("/login")
        page.get_by_role("link", name="Forgot password?").click()
        expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
        page.get_by_label("Email").fill(email)
        page.get_by_role("button", name="Send the link").click()
        expect(page.get_by_role("status")).to_contain_text("If an account uses that address")
