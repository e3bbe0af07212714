"""The customer core, sessions and audit (docs/api.md)."""

from __future__ import annotations

from tests.authz import ADMIN, ANY, SIGNED_IN

ALLOWED = {
    ("POST", "/api/v1/events"): frozenset({"admin", "integration"}),
    ("GET", "/api/v1/customers"): ANY,
    ("GET", "/api/v1/customers/{customer_id}"): ANY,
    ("GET", "/api/v1/customers/{customer_id}/events"): ANY,
    ("GET", "/api/v1/customers/{customer_id}/traits/history"): ANY,
    ("POST", "/api/v1/customers/{customer_id}/merge"): frozenset({"admin", "supervisor"}),
    ("GET", "/api/v1/merges/{merge_id}"): ANY,
    ("POST", "/api/v1/merges/{merge_id}/undo"): frozenset({"admin", "supervisor"}),
    ("GET", "/api/v1/traits"): ANY,
    ("POST", "/api/v1/traits"): frozenset({"admin"}),
    ("PATCH", "/api/v1/traits/{name}"): frozenset({"admin"}),
    ("GET", "/api/v1/audit"): frozenset({"admin", "supervisor"}),
    ("DELETE", "/api/v1/session"): SIGNED_IN,
    ("GET", "/api/v1/me"): SIGNED_IN,
    # docs/security.md: accounts and the access log are for admins only
    ("GET", "/api/v1/access-log"): ADMIN,
    ("POST", "/api/v1/users/{user_id}/disable"): ADMIN,
    ("POST", "/api/v1/users/{user_id}/enable"): ADMIN,
    ("DELETE", "/api/v1/users/{user_id}/two-factor"): ADMIN,
    ("GET", "/api/v1/tokens"): ADMIN,
    ("POST", "/api/v1/tokens"): ADMIN,
    ("DELETE", "/api/v1/tokens/{token_id}"): ADMIN,
}
# Answer without credentials on purpose: the load balancer's probe, and signing in itself.
PUBLIC = {("GET", "/healthz"), ("POST", "/api/v1/session")}
