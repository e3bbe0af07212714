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


MATRIX: dict[Role, frozenset[Perm]] = {
    Role.ADMIN: frozenset(Perm),
    Role.SUPERVISOR: frozenset(
        {Perm.CUSTOMERS_READ, Perm.CUSTOMERS_MERGE, Perm.TRAITS_READ, Perm.AUDIT_READ}
    ),
    Role.AGENT: frozenset({Perm.CUSTOMERS_READ, Perm.TRAITS_READ}),
    Role.INTEGRATION: frozenset({Perm.EVENTS_WRITE, Perm.CUSTOMERS_READ, Perm.TRAITS_READ}),
}


def allowed(role: str, perm: Perm) -> bool:
    try:
        return perm in MATRIX[Role(role)]
    except ValueError:
        return False
