"""What customers reach without signing in: the widget script, its channel's brand, the help centre and
privacy shells. Plain HTTP (no browser), on SQLite and PostgreSQL; the widget itself is driven in a real
browser by tests/e2e/test_widget.py."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from amity.core.actions import App
from amity.web.ui_base import SECURITY_HEADERS
from amity.web.ui_public import text_on
from tests.conftest import auth

SELF = "http://testserver"  # the origin the TestClient's pages are served from
SHOP = "https://shop.example"


@pytest.fixture
def admin(tokens: dict[str, str]) -> dict[str, str]:
    return auth(tokens["admin"])


def brand(client: TestClient, admin: dict[str, str], name: str, **fields: Any) -> dict[str, Any]:
    r = client.post("/api/v1/brands", json={"name": name, **fields}, headers=admin)
    assert r.status_code == 201, r.text
    return dict(r.json())


def chat_channel(
    client: TestClient, admin: dict[str, str], origins: list[str], **config: Any
) -> dict[str, Any]:
    body = {"type": "chat", "name": "website chat", "config": {"allowed_origins": origins, **config}}
    r = client.post("/api/v1/channels", json=body, headers=admin)
    assert r.status_code == 201, r.text
    return dict(r.json())


def has_security_headers(headers: Any) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert headers[name] == value, name


# ---- the widget script ---------------------------------------------------------------------------
def test_the_widget_script_is_javascript_any_site_may_load_and_caches_may_keep(client: TestClient) -> None:
    r = client.get("/widget.js")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/javascript; charset=utf-8"
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["cross-origin-resource-policy"] == "cross-origin"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "public, max-age=3600"
    assert "window.AmityChat" in r.text and "attachShadow" in r.text
    again = client.get("/widget.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == r.headers["etag"]


def test_the_widget_script_needs_no_sign_in_and_is_not_in_the_api_document(client: TestClient) -> None:
    assert client.get("/widget.js", follow_redirects=False).status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith(("/widget", "/help", "/privacy", "/public"))]


def test_the_widget_learns_its_channels_brand_from_an_allowed_site_only(
    client: TestClient, admin: dict[str, str]
) -> None:
    b = brand(client, admin, "Shoebox", colours={"primary": "#FFD400", "accent": "#0A7C3E"})
    chat = chat_channel(client, admin, [SHOP], brand_id=b["id"])
    r = client.get(f"/widget/channels/{chat['id']}", headers={"Origin": SHOP})
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == "*" and r.headers["vary"] == "Origin"
    assert r.json() == {
        "channel_id": chat["id"],
        "enabled": True,
        "brand": {
            "name": "Shoebox",
            "colours": {
                "primary": "#ffd400",
                "accent": "#0a7c3e",
                "background": "#f4f5f8",
                "text": "#1c2230",
                "on_primary": "#111111",  # dark text on a yellow launcher
            },
        },
    }
    other = client.get(f"/widget/channels/{chat['id']}", headers={"Origin": "https://evil.example"})
    assert other.status_code == 403 and other.json()["errors"][0]["field"] == "origin"
    assert other.headers["access-control-allow-origin"] == "*"  # so the widget can say why it stopped
    missing = client.get("/widget/channels/chn_00000000000000000000000000", headers={"Origin": SHOP})
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "channel_id"


def test_a_channel_without_a_brand_gives_the_widget_none(client: TestClient, admin: dict[str, str]) -> None:
    chat = chat_channel(client, admin, [SHOP])
    assert client.get(f"/widget/channels/{chat['id']}", headers={"Origin": SHOP}).json()["brand"] is None


def test_text_on_a_colour_is_whichever_of_black_and_white_reads_better() -> None:
    assert text_on("#4f46e5") == "#ffffff"
    assert text_on("#ffd400") == "#111111"
    assert text_on("#000000") == "#ffffff" and text_on("#ffffff") == "#111111"


# ---- the help centre and privacy shells ----------------------------------------------------------
@pytest.mark.parametrize("path", ["/help", "/help/search?q=returns", "/privacy", "/public/brand.css"])
def test_public_pages_need_no_sign_in_and_carry_the_security_headers(client: TestClient, path: str) -> None:
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 200, r.text
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    if path.endswith(".css"):
        assert r.headers["content-type"] == "text/css; charset=utf-8"
        assert r.headers["cache-control"] == "public, max-age=86400"  # its URL changes with the colours
    else:
        has_security_headers(r.headers)


def test_without_brands_or_chat_the_help_centre_wears_amity_and_says_so_honestly(client: TestClient) -> None:
    r = client.get("/help")
    html = r.text
    assert "<title>Help centre · Amity</title>" in html
    assert 'role="search"' in html and 'action="/help/search"' in html
    assert "There are no help articles here yet." in html
    assert "Chat is not available on this site yet." in html
    assert "/widget.js" not in html  # no chat channel allows this site: no widget to load
    css = client.get("/public/brand.css").text
    assert "--brand: #4f46e5;" in css and "--brand-on: #ffffff;" in css


def test_the_help_centre_wears_the_brand_of_the_chat_that_allows_this_site(
    client: TestClient, admin: dict[str, str]
) -> None:
    brand(client, admin, "Aardvark Outlet", colours={"primary": "#112233"})  # first by name, not used
    shoebox = brand(
        client, admin, "Shoebox", from_address="help@shoebox.example", colours={"primary": "#FFD400"}
    )
    chat_channel(client, admin, [SHOP])  # does not allow this site: not the help centre's chat
    ours = chat_channel(client, admin, [SHOP, SELF], brand_id=shoebox["id"])
    html = client.get("/help").text
    assert "<title>Help centre · Shoebox</title>" in html
    assert '<script src="/widget.js?v=' in html and f'data-channel="{ours["id"]}"' in html
    assert 'data-title="Shoebox"' in html and 'data-color="#ffd400"' in html  # the widget matches the page
    assert "data-amity-open" in html
    assert 'href="mailto:help@shoebox.example"' in html
    css_url = re.search(r'href="(/public/brand\.css\?v=[0-9a-f]+)"', html)
    assert css_url
    css = client.get(css_url.group(1)).text
    assert "--brand: #ffd400;" in css and "--brand-on: #111111;" in css


def test_the_help_centres_chat_is_found_by_the_public_url_when_one_is_set(
    app: App, client: TestClient, admin: dict[str, str]
) -> None:
    app.settings.public_url = "https://help.shoebox.example/support"  # Amity behind a proxy, under a path
    mine = chat_channel(client, admin, ["https://help.shoebox.example"])
    assert f'data-channel="{mine["id"]}"' in client.get("/help").text


def test_without_a_chat_for_this_site_the_first_brand_is_worn(
    client: TestClient, admin: dict[str, str]
) -> None:
    brand(client, admin, "Zebra Shoes")
    brand(client, admin, "Alpaca Wool", colours={"primary": "#7a1f5c"})
    html = client.get("/privacy").text
    assert "<title>Privacy · Alpaca Wool</title>" in html and "/widget.js" not in html
    assert "--brand: #7a1f5c;" in client.get("/public/brand.css").text


def test_a_search_says_no_articles_exist_and_carries_the_query_into_the_chat(
    client: TestClient, admin: dict[str, str]
) -> None:
    chat_channel(client, admin, ["*"])
    r = client.get("/help/search", params={"q": '  size   <script>alert(1)</script> "6.5" '})
    assert r.status_code == 200
    html = r.text
    assert "<script>alert(1)</script>" not in html  # autoescaped everywhere, attributes included
    assert "No results for “size &lt;script&gt;alert(1)&lt;/script&gt; &#34;6.5&#34;”" in html
    assert "The help centre has no articles yet" in html
    assert (
        'data-amity-message="I searched the help centre for “size &lt;script&gt;alert(1)&lt;/script&gt; '
        '&#34;6.5&#34;” and found nothing. "' in html
    )
    assert 'value="size &lt;script&gt;alert(1)&lt;/script&gt; &#34;6.5&#34;"' in html


def test_an_empty_search_is_the_help_centre_and_a_long_one_is_cut(client: TestClient) -> None:
    assert "How can we help?" in client.get("/help/search", params={"q": "   "}).text
    r = client.get("/help/search", params={"q": "x" * 5000})
    assert r.status_code == 200 and "x" * 200 + "”" in r.text and "x" * 201 not in r.text


def test_the_privacy_page_says_what_is_kept_how_to_ask_and_what_is_still_coming(
    client: TestClient, admin: dict[str, str]
) -> None:
    b = brand(client, admin, "Shoebox", from_address="privacy@shoebox.example")
    chat_channel(client, admin, [SELF], brand_id=b["id"])
    html = client.get("/privacy").text
    assert "What Shoebox keeps about you" in html
    for said in (
        "What we keep",
        "The chat uses no cookies",
        "copy of everything",
        "erase it",
        "Send me a link",  # the preference centre took the place of "coming to this page"
    ):
        assert said in html, said
    assert 'data-amity-message="I would like a copy of my data. "' in html
    assert 'href="mailto:privacy@shoebox.example"' in html
    assert 'aria-current="page">Privacy' in html
