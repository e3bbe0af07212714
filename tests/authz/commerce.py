"""Orders, shipments, returns, refunds, subscriptions, appointments, devices, loyalty, coupons and the
agent actions (docs/commerce.md): reading needs commerce:read (every role), loading needs
commerce:write (admin, integration), acting for a customer needs commerce:act (admin, supervisor,
agent)."""

from __future__ import annotations

from tests.authz import ANY

LOADERS = frozenset({"admin", "integration"})
ACTORS = frozenset({"admin", "supervisor", "agent"})

ALLOWED = {
    ("POST", "/api/v1/orders"): LOADERS,
    ("POST", "/api/v1/orders/bulk"): LOADERS,
    ("GET", "/api/v1/orders/{order_id}"): ANY,
    ("GET", "/api/v1/customers/{customer_id}/orders"): ANY,
    ("GET", "/api/v1/customers/{customer_id}/commerce"): ANY,
    ("POST", "/api/v1/orders/{order_id}/payments"): LOADERS,
    ("POST", "/api/v1/orders/{order_id}/shipments"): LOADERS,
    ("POST", "/api/v1/shipments/bulk"): LOADERS,
    ("GET", "/api/v1/shipments/{shipment_id}"): ANY,
    ("PATCH", "/api/v1/shipments/{shipment_id}"): LOADERS,
    ("POST", "/api/v1/orders/{order_id}/returns"): LOADERS,
    ("PATCH", "/api/v1/returns/{return_id}"): LOADERS,
    ("POST", "/api/v1/orders/{order_id}/refunds"): LOADERS,
    ("POST", "/api/v1/subscriptions"): LOADERS,
    ("POST", "/api/v1/subscriptions/bulk"): LOADERS,
    ("POST", "/api/v1/appointments"): LOADERS,
    ("POST", "/api/v1/appointments/bulk"): LOADERS,
    ("POST", "/api/v1/devices"): LOADERS,
    ("POST", "/api/v1/devices/bulk"): LOADERS,
    ("POST", "/api/v1/coupons"): LOADERS,
    ("POST", "/api/v1/coupons/bulk"): LOADERS,
    ("POST", "/api/v1/loyalty/programmes"): LOADERS,
    ("GET", "/api/v1/loyalty/programmes"): ANY,
    ("POST", "/api/v1/loyalty/memberships"): LOADERS,
    ("POST", "/api/v1/loyalty/memberships/bulk"): LOADERS,
    ("POST", "/api/v1/commerce/actions/order"): ACTORS,
    ("POST", "/api/v1/commerce/actions/apply-coupon"): ACTORS,
    ("POST", "/api/v1/commerce/actions/goodwill"): ACTORS,
    ("POST", "/api/v1/commerce/actions/refund"): ACTORS,
    ("POST", "/api/v1/commerce/actions/upgrade-shipping"): ACTORS,
}
