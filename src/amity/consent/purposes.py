"""The purposes catalogue: built-ins in code, admin-added ones in ``consent_purposes``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from amity.consent.models import Purpose

LAWFUL_BASES = (
    "consent",
    "contract",
    "legal_obligation",
    "legitimate_interest",
    "vital_interest",
    "public_task",
)
STATUSES = ("granted", "withdrawn", "denied")
# preference_centre: the customer's own privacy page (the data-subject capability builds it).
SOURCES = ("widget", "email_link", "agent", "import", "api", "event", "preference_centre")
CHANNELS = ("email", "chat", "sms", "whatsapp", "telegram", "voice", "api")


@dataclass(frozen=True)
class PurposeSpec:
    key: str
    name: str
    description: str
    lawful_bases: tuple[str, ...]
    default_basis: str | None = None
    builtin: bool = False

    def out(self) -> dict[str, object]:
        return {
            "key": self.key,
            "name": self.name,
            "description": self.description,
            "lawful_bases": list(self.lawful_bases),
            "default_basis": self.default_basis,
            "builtin": self.builtin,
        }


BUILTIN = (
    PurposeSpec(
        "service",
        "Service and transactional messages",
        "Answers to the customer's own requests, order and appointment updates, service notices.",
        ("contract", "legal_obligation", "legitimate_interest", "vital_interest", "consent"),
        default_basis="contract",
        builtin=True,
    ),
    PurposeSpec(
        "marketing",
        "Marketing",
        "Offers, newsletters and campaigns.",
        ("consent", "legitimate_interest"),
        builtin=True,
    ),
    PurposeSpec(
        "personalisation",
        "Personalisation and profiling",
        "Value scores, suggestions and next best actions computed from the customer's data.",
        ("consent", "legitimate_interest"),
        builtin=True,
    ),
    PurposeSpec(
        "analytics",
        "Analytics",
        "Measuring how the service and the website are used.",
        ("consent", "legitimate_interest"),
        builtin=True,
    ),
    PurposeSpec(
        "partner_sharing",
        "Sharing with partners",
        "Passing the customer's data to named partners for their own use.",
        ("consent",),
        builtin=True,
    ),
)
BUILTIN_KEYS = frozenset(p.key for p in BUILTIN)


def spec_of(row: Purpose) -> PurposeSpec:
    return PurposeSpec(
        row.key, row.name, row.description, tuple(row.lawful_bases), row.default_basis, builtin=False
    )


def catalogue(s: Session) -> dict[str, PurposeSpec]:
    """Every purpose, built-ins first, then the added ones by key."""
    out = {p.key: p for p in BUILTIN}
    for row in s.scalars(select(Purpose).order_by(Purpose.key)):
        out.setdefault(row.key, spec_of(row))
    return out


def get(s: Session, key: str) -> PurposeSpec | None:
    for p in BUILTIN:
        if p.key == key:
            return p
    row = s.get(Purpose, key)
    return spec_of(row) if row is not None else None
