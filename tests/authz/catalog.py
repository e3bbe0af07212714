"""Products, locations, inventory, reservations, reviews and the catalogue's agent actions
(docs/catalog.md, "API"): reading needs catalog:read (every role), loading the catalogue needs
catalog:write (admin, integration), holding stock and the agent actions need stock:reserve (staff)."""

from __future__ import annotations

from tests.authz import ANY, STAFF

WRITERS = frozenset({"admin", "integration"})

ALLOWED = {
    ("POST", "/api/v1/products"): WRITERS,
    ("GET", "/api/v1/products"): ANY,
    ("GET", "/api/v1/products/{product_id}"): ANY,
    ("GET", "/api/v1/products/{product_id}/reviews"): ANY,
    ("POST", "/api/v1/locations"): WRITERS,
    ("GET", "/api/v1/locations"): ANY,
    ("PUT", "/api/v1/inventory"): WRITERS,
    ("POST", "/api/v1/inventory/deltas"): WRITERS,
    ("GET", "/api/v1/inventory"): ANY,
    ("POST", "/api/v1/reservations"): STAFF,
    ("GET", "/api/v1/reservations"): ANY,
    ("GET", "/api/v1/reservations/{reservation_id}"): ANY,
    ("DELETE", "/api/v1/reservations/{reservation_id}"): STAFF,
    ("POST", "/api/v1/reviews"): WRITERS,
    ("POST", "/api/v1/stock-lookups"): STAFF,
    ("POST", "/api/v1/size-recommendations"): STAFF,
}
