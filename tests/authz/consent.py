"""Consent (docs/consent.md, "API"): reading the ledger is for staff and systems, recording a change
for everyone who talks to customers, adding purposes for admins."""

from __future__ import annotations

from tests.authz import ADMIN, ANY

ALLOWED = {
    ("GET", "/api/v1/customers/{customer_id}/consents"): ANY,
    ("POST", "/api/v1/customers/{customer_id}/consents"): ANY,
    ("GET", "/api/v1/consent/purposes"): ANY,
    ("POST", "/api/v1/consent/purposes"): ADMIN,
}
