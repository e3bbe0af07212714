"""Accessibility of the console's two busiest pages in Chromium: every form control has a label, the
skip link leads into the page, Tab follows the page's order, and the focused control always shows it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Live, sign_in
from tests.e2e.test_console import write_in

pytestmark = pytest.mark.e2e

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(e => e.type !== 'hidden' && !e.closest('[hidden]'))
  .filter(e => {
    const named = (e.labels && e.labels.length) || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby');
    const text = e.tagName === 'BUTTON' && e.textContent.trim();
    return !(named || text);
  })
  .map(e => e.outerHTML.slice(0, 120))"""

# aria-labelledby / aria-describedby / aria-controls naming an id that is not on the page.
DANGLING = """() => [...document.querySelectorAll('[aria-labelledby], [aria-describedby], [aria-controls]')]
  .flatMap(e => ['aria-labelledby', 'aria-describedby', 'aria-controls']
    .flatMap(a => (e.getAttribute(a) || '').split(/\\s+/).filter(Boolean)
      .filter(id => !document.getElementById(id)).map(id => a + '=' + id + ' on ' + e.tagName + '#' + e.id)))"""

POSITIVE_TABINDEX = """() => [...document.querySelectorAll('[tabindex]')]
  .filter(e => e.tabIndex > 0).map(e => e.outerHTML.slice(0, 120))"""

# What the focused element looks like: a visible outline or a focus ring drawn with box-shadow.
FOCUS_SHOWN = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return 'nothing focused';
  const s = getComputedStyle(e);
  const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1) || (s.boxShadow && s.boxShadow !== 'none');
  return ring ? '' : (e.tagName + '#' + e.id + '.' + e.className);
}"""


def _walk(page: Page, steps: int) -> list[str]:
    """Tab through the page; each step's focused element, and any that showed no focus ring."""
    seen: list[str] = []
    problems: list[str] = []
    for _ in range(steps):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement === document.body"):
            break  # past the last control: the browser's own toolbar is next
        seen.append(page.evaluate("() => document.activeElement.outerHTML.slice(0, 80)"))
        if hidden := page.evaluate(FOCUS_SHOWN):
            problems.append(hidden)
    assert problems == [], f"focus not visible on: {problems}; walked: {seen}"
    return seen


def _in_dom_order(page: Page, steps: int) -> None:
    """Tab visits focusable elements in the order the page lists them (no jumps backwards)."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    positions = []
    for _ in range(steps):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement === document.body"):
            break
        positions.append(
            page.evaluate("() => [...document.querySelectorAll('*')].indexOf(document.activeElement)")
        )
    assert positions == sorted(positions), f"Tab jumps back in the page: {positions}"


def _check(page: Page, path: str) -> dict[str, Any]:
    page.goto(path)
    assert page.evaluate(UNLABELLED) == [], f"{path}: controls without a label"
    assert page.evaluate(POSITIVE_TABINDEX) == [], f"{path}: tabindex > 0 breaks the order"
    assert page.evaluate(DANGLING) == [], f"{path}: ARIA references to nothing"
    assert page.evaluate("() => document.documentElement.lang") == "en"
    assert page.locator("h1").count() == 1, f"{path}: one main heading"
    # The first Tab reaches the skip link; following it puts the next Tab inside the main content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # shown when focused, not only to screen readers
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    inside = page.evaluate("() => !!document.activeElement.closest('main')")
    assert inside, f"{path}: after the skip link, Tab left the main content"
    _walk(page, 120)
    _in_dom_order(page, 120)
    return {}


def test_inbox_and_conversation_pages_are_labelled_skippable_and_show_focus(
    page: Page, live: Live, lines: dict[str, str]
) -> None:
    wrote = write_in(live, lines["api"], "Clara Mendes", "Can I swap my boots for a bigger size?")
    sign_in(page, "agent")
    _check(page, "/inbox?view=all")
    _check(page, f"/conversations/{wrote['conversation_id']}")

    # A refused reply: the message is tied to its field, and nothing points at a missing element.
    page.get_by_role("button", name="Send").click()
    box = page.get_by_label("Message to the customer")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(box).to_have_attribute("aria-describedby", "reply-text-error")
    expect(page.locator("#reply-text-error")).to_have_text("Write something first.")
    assert page.evaluate(DANGLING) == [] and page.evaluate(UNLABELLED) == []
