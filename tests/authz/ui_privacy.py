"""Privacy pages (docs/privacy.md): data-subject requests in the console, the customer's preference centre."""

from __future__ import annotations

from tests.authz import LEADS, STAFF

UI_ALLOWED = {
    ("GET", "/privacy-requests"): LEADS,  # the open requests with their time left
    ("GET", "/privacy-requests/new"): STAFF,  # any agent may file on a customer's behalf
    ("POST", "/privacy-requests"): STAFF,
    ("POST", "/privacy-requests/{request_id}/approve"): LEADS,  # an erasure an agent filed waits for this
}
UI_PUBLIC = {
    # the customer's own preference centre: asking for a magic link, opening it, and what it unlocks
    # (a session of the customer's, not of an agent: without it these answer with the ask-a-link page)
    ("POST", "/privacy/link"),
    ("GET", "/privacy/open"),
    ("GET", "/privacy/me"),
    ("POST", "/privacy/me/consents"),
    ("POST", "/privacy/me/access"),
    ("POST", "/privacy/me/erase"),
    ("GET", "/privacy/me/requests/{request_id}/download"),
    ("POST", "/privacy/me/signout"),
}
UI_NO_CSRF = {
    ("POST", "/privacy/link"): (
        "asks for a magic link to be sent to that address's own verified channel, the same answer for "
        "anyone: a forged post can only send the owner a link, as anyone typing the address can"
    ),
}
