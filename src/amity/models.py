"""Every table, imported in one place so Alembic and tests see the whole schema."""

from amity.accounts.models import ApiToken, User
from amity.customers.models import Customer, Event, Identity, Merge, TraitDefinition, TraitHistory
from amity.db import Base
from amity.privacy.models import AuditEntry

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "Customer",
    "Event",
    "Identity",
    "Merge",
    "TraitDefinition",
    "TraitHistory",
    "User",
]
