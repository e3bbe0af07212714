"""What customers see without signing in: the chat widget script, the help centre and privacy shells.

``/widget.js`` is embedded on other sites, so it is the one thing here that is cacheable and readable
from any origin. ``/widget/channels/{id}`` gives the widget its channel's brand (name, colours); the
chat protocol itself (sessions, the socket) lives in amity.channels.chat (docs/channels/chat.md).

The help and privacy pages are shells the knowledge-base and privacy capabilities fill in later. They
are branded from the service capability's brands, and their "contact us" opens the same widget,
served from this origin, on the first enabled chat channel that allows this site.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from amity.channels.chat import store
from amity.channels.chat.config import origin_allowed
from amity.channels.models import Channel
from amity.channels.queries import channels_of_type
from amity.core.actions import App, NotFound
from amity.service import queries as service
from amity.service.models import Brand
from amity.web.auth import app_of
from amity.web.errors import error_body
from amity.web.responses import Json
from amity.web.ui_base import SECURITY_HEADERS, STATIC_DIR, render

router = APIRouter(include_in_schema=False)

WIDGET_PATH = STATIC_DIR / "widget.js"
# Colours are checked when a brand is saved; checked again here because they end up inside CSS, where
# anything but a plain hex colour could close the rule and add others.
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
COLOUR_KEYS = ("primary", "accent", "background", "text")
DEFAULT_NAME = "Amity"
DEFAULT_COLOURS = {"primary": "#4f46e5", "accent": "#0e9f6e", "background": "#f4f5f8", "text": "#1c2230"}
MAX_QUERY = 200


# ---- the widget script ---------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _widget() -> tuple[bytes, str]:
    """The script and its ETag, read once per process: it only changes with a release."""
    body = WIDGET_PATH.read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@router.get("/widget.js")
def widget_js(request: Request) -> Response:
    body, etag = _widget()
    headers = {
        # Any site may load it (that is the point); caches may keep it an hour and then revalidate
        # with the ETag, so a release reaches every site within the hour without refetching each time.
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Cache-Control": "public, max-age=3600",
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


# ---- brands --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Look:
    """The brand a public page or a widget wears."""

    name: str = DEFAULT_NAME
    colours: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_COLOURS))
    contact_email: str | None = None
    branded: bool = False  # False: no brand exists, Amity's own look

    @property
    def on_primary(self) -> str:
        return text_on(self.colours["primary"])


def text_on(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (WCAG relative luminance)."""

    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else float(((v + 0.055) / 1.055) ** 2.4)

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    lum = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    # Contrast with white is 1.05/(L+0.05), with black (L+0.05)/0.05: pick the larger.
    return "#ffffff" if 1.05 / (lum + 0.05) >= (lum + 0.05) / 0.05 else "#111111"


def _look(b: dict[str, Any]) -> Look:
    colours = dict(DEFAULT_COLOURS)
    for key in COLOUR_KEYS:
        value = (b.get("colours") or {}).get(key)
        if isinstance(value, str) and _HEX.match(value):
            colours[key] = value.lower()
    return Look(name=str(b["name"]), colours=colours, contact_email=b.get("from_address"), branded=True)


def _brand_of(app: App, brand_id: str | None) -> Look | None:
    if not brand_id:
        return None
    with app.db.read() as s:
        try:
            return _look(service.one(s, Brand, brand_id))
        except NotFound:  # the channel names a brand that was removed: fall back like no brand
            return None


def channel_look(app: App, channel: Channel) -> Look | None:
    """The chat config's ``brand_id`` (what the widget is told) wins over the channel's own brand."""
    configured = channel.config.get("brand_id")
    return _brand_of(app, configured if isinstance(configured, str) else None) or _brand_of(
        app, channel.brand_id
    )


@dataclass(frozen=True)
class Site:
    look: Look
    chat_channel_id: str | None  # the chat the pages' "contact us" opens; None: no chat for this site


def _own_origins(request: Request, app: App) -> list[str]:
    # What a browser on these pages sends as Origin: this server as the outside world reaches it
    # (AMITY_PUBLIC_URL), or as this request reached it when that is not configured.
    # An origin is scheme://host[:port]: a public URL with a path (Amity under /support) loses it.
    urls = (
        [app.settings.public_url, str(request.base_url)]
        if app.settings.public_url
        else [str(request.base_url)]
    )
    return [f"{u.scheme}://{u.netloc}" for u in map(urlsplit, urls)]


def site(request: Request, app: App) -> Site:
    """The first enabled chat channel that allows this site, and its brand; else the first brand."""
    with app.db.read() as s:
        chats = sorted(channels_of_type(s, "chat"), key=lambda c: (c.created_at, c.id))
        first_brand = service.list_of(s, Brand, 1, 0)["items"]
    origins = _own_origins(request, app)
    chat = next((c for c in chats if any(origin_allowed(c.config, o) for o in origins)), None)
    look = (channel_look(app, chat) if chat else None) or (_look(first_brand[0]) if first_brand else Look())
    return Site(look, chat.id if chat else None)


@router.get("/widget/channels/{channel_id}")
async def widget_channel(channel_id: str, request: Request) -> Response:
    """What the widget shows before anyone writes: the brand's name and colours, and whether it may
    chat at all. Brand names and colours are public anyway, so every answer, refusals included, is
    readable from any origin: the session door answers a site that is not allowed without CORS
    headers, which a browser reports to the widget as a bare network error, and this is where the
    widget learns the truth ("not allowed on this site") instead of retrying for ever."""
    app: App = app_of(request)
    origin = request.headers.get("origin")
    # Vary: the answer depends on the Origin (200 or 403), so caches must keep sites apart.
    cors = {"Access-Control-Allow-Origin": "*", "Vary": "Origin"}
    channel = await run_in_threadpool(store.chat_channel, app, channel_id)
    if channel is None:
        message = f"no chat channel {channel_id}"
        return Json(
            error_body("not_found", message, [{"field": "channel_id", "message": message}]), 404, headers=cors
        )
    if not origin_allowed(channel.config, origin):
        message = f"the origin '{origin}' may not use this chat channel (not in its allowed_origins)"
        return Json(
            error_body("forbidden", message, [{"field": "origin", "message": message}]), 403, headers=cors
        )
    look = await run_in_threadpool(channel_look, app, channel)
    brand = {"name": look.name, "colours": {**look.colours, "on_primary": look.on_primary}} if look else None
    # A minute of caching: a brand change shows soon, and a busy site does not ask on every page view.
    return Json(
        {"channel_id": channel.id, "enabled": channel.enabled, "brand": brand},
        headers={**cors, "Cache-Control": "public, max-age=60"},
    )


# ---- public pages --------------------------------------------------------------------------------
def _page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    app = app_of(request)
    here = site(request, app)
    colours = here.look.colours
    # The brand stylesheet's URL changes with the colours, so it may be cached for a day.
    version = hashlib.sha256(repr(sorted(colours.items())).encode()).hexdigest()[:12]
    return render(
        request,
        template,
        status,
        look=here.look,
        chat_channel_id=here.chat_channel_id,
        css_v=version,
        **context,
    )


@router.get("/public/brand.css")
def brand_css(request: Request) -> Response:
    """The brand's colours as CSS variables: the pages' CSP allows no inline style, so they come from
    here. Every value is a checked hex colour, so nothing else can reach the stylesheet."""
    look = site(request, app_of(request)).look
    c = look.colours
    css = (
        ":root {\n"
        f"  --brand: {c['primary']};\n  --brand-on: {look.on_primary};\n"
        f"  --brand-accent: {c['accent']};\n  --brand-bg: {c['background']};\n  --brand-text: {c['text']};\n"
        "}\n"
    )
    headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=86400"}
    return Response(css, media_type="text/css; charset=utf-8", headers=headers)


@router.get("/help")
def help_home(request: Request) -> Response:
    return _page(request, "help.html", title="Help centre", q="")


@router.get("/help/search")
def help_search(request: Request, q: Annotated[str, Query()] = "") -> Response:
    # As the visitor meant it, without stray whitespace; a long paste is cut rather than refused with
    # an API-style error on a page meant for customers.
    query = " ".join(q.split())[:MAX_QUERY]
    if not query:
        return _page(request, "help.html", title="Help centre", q="")
    # No article store exists yet (the knowledge capability will answer here): say so, and hand the
    # search to the chat so the visitor does not have to type it again (story 5).
    prefill = f"I searched the help centre for “{query}” and found nothing. "
    return _page(request, "help_search.html", title=f"Search: {query}", q=query, prefill=prefill)


@router.get("/privacy")
def privacy(request: Request) -> Response:
    return _page(request, "privacy.html", title="Privacy")
