"""Admin pages (docs/admin.md): channels, teams, people, tiers, routing, SLAs, calendars, macros, brands,
API tokens and outgoing webhooks. Each section lives in its own ``ui_admin_*`` module; this one is the
index and the router the web app includes (it is listed in ``PLUG_INS``).

Pages call the same actions as the API, with the same permissions: channels need ``channels:manage``,
everything else ``service:manage`` — both held by admins only.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from amity.accounts.roles import Perm
from amity.web import (
    ui_admin_channels,
    ui_admin_people,
    ui_admin_rules,
    ui_admin_setup,
    ui_admin_sla,
    ui_admin_teams,
    ui_admin_tokens,
    ui_admin_webhooks,
)
from amity.web.ui_admin_kit import admin_page
from amity.web.ui_base import forbidden, signed_in

router = APIRouter(include_in_schema=False)

# (path, title, what it is for, permission)
SECTIONS = (
    (
        "/admin/channels",
        "Channels",
        "Email addresses, chat widgets, numbers, bots: the ways in and out.",
        Perm.CHANNELS_MANAGE,
    ),
    (
        "/admin/teams",
        "Teams",
        "Queues of people, their tier and how work is shared out.",
        Perm.SERVICE_MANAGE,
    ),
    (
        "/admin/people",
        "People",
        "Sign-in accounts and agent profiles: tier, skills, capacity, availability.",
        Perm.SERVICE_MANAGE,
    ),
    ("/admin/tiers", "Tiers", "Seniority levels, authority limits and who may approve.", Perm.SERVICE_MANAGE),
    (
        "/admin/routing",
        "Routing rules",
        "Which team, priority and tags a new conversation gets, in order.",
        Perm.SERVICE_MANAGE,
    ),
    ("/admin/sla", "SLA policies", "Response and resolution targets per priority.", Perm.SERVICE_MANAGE),
    (
        "/admin/calendars",
        "Business hours",
        "Opening times and holidays the SLA clocks count in.",
        Perm.SERVICE_MANAGE,
    ),
    ("/admin/macros", "Macros", "Saved replies, with a preview.", Perm.SERVICE_MANAGE),
    ("/admin/brands", "Brands", "Names, sender addresses, signatures and colours.", Perm.SERVICE_MANAGE),
    ("/admin/consent-purposes", "Consent purposes", "What data is used for, and why.", Perm.PURPOSES_MANAGE),
    (
        "/admin/access-log",
        "Access log",
        "Who viewed which customer and conversation, hash-chained; export as CSV.",
        Perm.ACCESS_LOG_READ,
    ),
    (
        "/admin/tokens",
        "API tokens",
        "Credentials for your shop, POS and telephony to call the API.",
        Perm.SERVICE_MANAGE,
    ),
    (
        "/admin/webhooks",
        "Outgoing webhooks",
        "URLs told about conversations, messages and calls.",
        Perm.SERVICE_MANAGE,
    ),
)


@router.get("/admin")
def admin_index(request: Request) -> Response:
    page = signed_in(request)
    if isinstance(page, Response):
        return page
    sections = [s for s in SECTIONS if page.can(s[3])]
    if not sections:
        return forbidden(page, f"Your role ({page.actor.role}) may not change Amity's set-up.")
    return admin_page(page, "admin.html", title="Admin", sections=sections)


for _section in (
    ui_admin_channels,
    ui_admin_teams,
    ui_admin_people,
    ui_admin_rules,
    ui_admin_sla,
    ui_admin_setup,
    ui_admin_tokens,
    ui_admin_webhooks,
):
    router.include_router(_section.router)
