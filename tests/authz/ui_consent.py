"""Consent pages (docs/consent.md): the history beside a customer, the purposes catalogue, unsubscribe."""

from __future__ import annotations

from tests.authz import ADMIN, STAFF

UI_ALLOWED = {
    ("GET", "/customers/{customer_id}/consents"): STAFF,
    ("POST", "/customers/{customer_id}/consents"): STAFF,  # an agent records what the customer said
    ("GET", "/admin/consent-purposes"): ADMIN,
    ("POST", "/admin/consent-purposes"): ADMIN,
}
UI_PUBLIC = {
    ("GET", "/unsubscribe/{token}"),  # a link in a marketing email: the signed token is the credential
    ("POST", "/unsubscribe/{token}"),
}
UI_NO_CSRF = {
    (
        "POST",
        "/unsubscribe/{token}",
    ): "RFC 8058 one-click: the mail client posts, the token in the URL is the proof",
}
