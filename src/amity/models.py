"""Every table, imported in one place so Alembic and tests see the whole schema."""

from amity.accounts.models import ApiToken, User
from amity.catalog import models as catalog_models  # noqa: F401 -- registers the catalogue tables
from amity.channels.models import Channel, WebhookDelivery, WebhookSubscription
from amity.commerce import models as commerce_models  # noqa: F401 -- registers the orders tables
from amity.consent import models as consent_models
from amity.conversations.models import Attachment, Conversation, Delivery, Message
from amity.customers.models import Customer, Event, Identity, Merge, TraitDefinition, TraitHistory
from amity.db import Base
from amity.privacy import request_models as privacy_request_models  # noqa: F401
from amity.privacy.models import AuditEntry
from amity.service import models as service_models

__all__ = [
    "ApiToken",
    "Attachment",
    "AuditEntry",
    "Base",
    "Channel",
    "Conversation",
    "Customer",
    "Delivery",
    "Event",
    "Identity",
    "Merge",
    "Message",
    "TraitDefinition",
    "TraitHistory",
    "User",
    "WebhookDelivery",
    "WebhookSubscription",
    "consent_models",
    "service_models",
]
