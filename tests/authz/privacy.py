"""Data-subject requests and retention (docs/privacy.md, "Who may do what"): anyone on staff may file
a request on a customer's behalf and follow it (privacy:request); leads list, approve, extend, deny
and download exports (privacy:manage); retention rules are the admin's (retention:manage)."""

from __future__ import annotations

from tests.authz import ADMIN, LEADS, STAFF

ALLOWED = {
    ("POST", "/api/v1/privacy/requests"): STAFF,
    ("GET", "/api/v1/privacy/requests"): LEADS,
    ("GET", "/api/v1/privacy/requests/{request_id}"): STAFF,
    ("POST", "/api/v1/privacy/requests/{request_id}/verify"): STAFF,
    ("POST", "/api/v1/privacy/requests/{request_id}/approve"): LEADS,
    ("POST", "/api/v1/privacy/requests/{request_id}/extend"): LEADS,
    ("POST", "/api/v1/privacy/requests/{request_id}/deny"): LEADS,
    ("GET", "/api/v1/privacy/requests/{request_id}/export"): LEADS,
    ("GET", "/api/v1/privacy/retention"): ADMIN,
    ("PUT", "/api/v1/privacy/retention"): ADMIN,
}
