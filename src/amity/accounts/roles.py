"""Roles and what each may do. One table, so the authorisation matrix is reviewable at a glance."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # configures Amity: trait schema, users, tokens
    SUPERVISOR = "supervisor"  # higher tier: merges, undoes merges, approves
    AGENT = "agent"  # answers customers; reads the Customer 360
    INTEGRATION = "integration"  # a business system pushing events in (shop, POS, telephony)


class Perm(StrEnum):
    EVENTS_WRITE = "events:write"
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_MERGE = "customers:merge"
    TRAITS_READ = "traits:read"
    TRAITS_WRITE = "traits:write"
    AUDIT_READ = "audit:read"
    CONVERSATIONS_READ = "conversations:read"
    CONVERSATIONS_WRITE = "conversations:write"  # reply, note, assign, status, tags, escalate
    CONVERSATIONS_MERGE = "conversations:merge"  # merge conversations, move messages between them
    CHANNELS_MANAGE = "channels:manage"
    SERVICE_MANAGE = "service:manage"  # teams, tiers, routing, SLAs, macros, brands, webhooks
    APPROVALS_DECIDE = "approvals:decide"
    CONSENT_READ = "consent:read"  # a customer's consent history and current state
    CONSENT_WRITE = "consent:write"  # record a consent change (an agent on the customer's word, a system)
    PURPOSES_MANAGE = "purposes:manage"  # add consent purposes (admin only)
    CATALOG_READ = "catalog:read"  # products, locations, stock, reviews
    CATALOG_WRITE = "catalog:write"  # load products, locations, stock and reviews (shop, POS)
    STOCK_RESERVE = "stock:reserve"  # hold stock for a customer; stock and size advice in a conversation
    COMMERCE_READ = "commerce:read"  # orders, shipments, subscriptions, devices, loyalty, coupons
    COMMERCE_WRITE = "commerce:write"  # load orders and the rest of the commercial profile (shop, billing)
    # order, apply coupons, goodwill, refund, upgrade shipping (within authority)
    COMMERCE_ACT = "commerce:act"
    ACCOUNTS_MANAGE = "accounts:manage"  # disable people, reset their two-factor, API tokens (admin only)
    ACCESS_LOG_READ = "access_log:read"  # who viewed which customer (admin only)
    PRIVACY_REQUEST = "privacy:request"  # file a data-subject request on a customer's behalf
    PRIVACY_MANAGE = "privacy:manage"  # list, approve, extend, deny requests; download exports
    RETENTION_MANAGE = "retention:manage"  # retention rules (admin only)


MATRIX: dict[Role, frozenset[Perm]] = {
    Role.ADMIN: frozenset(Perm),
    Role.SUPERVISOR: frozenset(
        {
            Perm.CUSTOMERS_READ,
            Perm.CUSTOMERS_MERGE,
            Perm.TRAITS_READ,
            Perm.AUDIT_READ,
            Perm.CONVERSATIONS_READ,
            Perm.CONVERSATIONS_WRITE,
            Perm.CONVERSATIONS_MERGE,
            Perm.APPROVALS_DECIDE,
            Perm.CONSENT_READ,
            Perm.CONSENT_WRITE,
            Perm.CATALOG_READ,
            Perm.STOCK_RESERVE,
            Perm.COMMERCE_READ,
            Perm.COMMERCE_ACT,
            Perm.PRIVACY_REQUEST,
            Perm.PRIVACY_MANAGE,
        }
    ),
    Role.AGENT: frozenset(
        {
            Perm.CUSTOMERS_READ,
            Perm.TRAITS_READ,
            Perm.CONVERSATIONS_READ,
            Perm.CONVERSATIONS_WRITE,
            Perm.CONVERSATIONS_MERGE,
            Perm.CATALOG_READ,
            Perm.STOCK_RESERVE,
            Perm.CONSENT_READ,
            Perm.CONSENT_WRITE,
            Perm.COMMERCE_READ,
            Perm.COMMERCE_ACT,
            Perm.PRIVACY_REQUEST,
        }
    ),
    # Systems read conversations (to show them elsewhere) and open them (a kiosk, a mobile app).
    Role.INTEGRATION: frozenset(
        {Perm.EVENTS_WRITE, Perm.CUSTOMERS_READ, Perm.TRAITS_READ, Perm.CONVERSATIONS_READ}
        | {Perm.CATALOG_READ, Perm.CATALOG_WRITE}
        | {Perm.COMMERCE_READ, Perm.COMMERCE_WRITE}
        | {Perm.CONSENT_READ, Perm.CONSENT_WRITE}
    ),
}


def allowed(role: str, perm: Perm) -> bool:
    try:
        return perm in MATRIX[Role(role)]
    except ValueError:
        return False
