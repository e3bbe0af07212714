"""Identifier types, normalisation and the guards that keep identity resolution from merging strangers.

Every identifier is normalised before it is matched: emails by RFC rules then case-folded, phones to
E.164, handles lower-cased without ``@``. Normalisation is cached because real traffic repeats the
same identifiers over and over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from amity.config import DEFAULT_BLOCKED_EMAIL_LOCALPARTS, DEFAULT_BLOCKED_VALUES, Settings

_NAMESPACE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,40}$")
SIMPLE_TYPES = frozenset({"email", "phone", "loyalty", "device"})
NAMESPACED_TYPES = frozenset({"social", "external"})
MAX_VALUE_LEN = 320


class IdentifierError(ValueError):
    """The identifier is malformed; the message says how."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Identifier:
    type: str
    value: str

    @property
    def key(self) -> str:
        return f"{self.type}:{self.value}"


def check_type(raw_type: str) -> str:
    t = raw_type.strip().lower()
    if t in SIMPLE_TYPES:
        return t
    family, sep, ns = t.partition(":")
    if sep and family in NAMESPACED_TYPES:
        if not _NAMESPACE.match(ns):
            raise IdentifierError(
                "type", f"'{raw_type}': the part after '{family}:' must be a short lower-case name"
            )
        return t
    raise IdentifierError(
        "type",
        f"unknown identity type '{raw_type}'; use email, phone, loyalty, device, social:<network> "
        "or external:<system>",
    )


@lru_cache(maxsize=200_000)
def _email(value: str) -> str:
    try:
        info = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise IdentifierError("value", f"not a valid email address: {exc}") from None
    # Mailbox local parts are case-sensitive in theory, case-insensitive everywhere in practice.
    return info.normalized.lower()


@lru_cache(maxsize=200_000)
def _phone(value: str, region: str) -> str:
    try:
        num = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise IdentifierError("value", f"not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(num):
        raise IdentifierError("value", f"'{value}' is not a valid phone number (default region {region})")
    return str(phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164))


def normalise_value(type_: str, value: str, region: str) -> str:
    v = value.strip()
    if len(v) > MAX_VALUE_LEN:
        raise IdentifierError("value", f"longer than {MAX_VALUE_LEN} characters")
    if type_ == "email":
        return _email(v)
    if type_ == "phone":
        return _phone(v, region)
    if type_.startswith("social:"):
        return v.lstrip("@").lower()
    return v


class IdentityPolicy:
    """Blocked values and per-type limits, from settings (documented in docs/identity-resolution.md)."""

    def __init__(self, settings: Settings) -> None:
        self.region = settings.default_phone_region
        self.blocked_any = {v.lower() for v in DEFAULT_BLOCKED_VALUES}
        self.blocked_typed: set[tuple[str, str]] = set()
        for item in settings.blocked_identifiers:
            typed = _split_typed(item)
            if typed:
                self.blocked_typed.add(typed)
            else:
                self.blocked_any.add(item.strip().lower())
        self.blocked_localparts = set(DEFAULT_BLOCKED_EMAIL_LOCALPARTS)
        self.limits = settings.all_identity_limits

    def classify(self, type_: str, raw_value: str) -> tuple[str, bool]:
        """Return (normalised value, blocked?). Raises IdentifierError for a malformed value.

        Blocked values are recognised before validation: "anonymous" in an email field is a
        placeholder, not a typo the sender must fix.
        """
        raw = raw_value.strip().lower()
        if raw in self.blocked_any:
            return raw_value.strip(), True
        # 000-000-0000 style placeholders that some systems send for "no number"
        if type_ == "phone" and set(re.sub(r"\D", "", raw)) <= {"0"}:
            return raw_value.strip(), True
        norm = normalise_value(type_, raw_value, self.region)
        low = norm.lower()
        if (type_, low) in self.blocked_typed or low in self.blocked_any:
            return norm, True
        if type_ == "email" and low.split("@", 1)[0] in self.blocked_localparts:
            return norm, True
        return norm, False

    def limit_for(self, type_: str) -> int | None:
        if type_ in self.limits:
            return self.limits[type_]
        family = type_.split(":", 1)[0]
        return self.limits.get(f"{family}:*")


def _split_typed(item: str) -> tuple[str, str] | None:
    """'email:info@shop.example' -> ('email', 'info@shop.example'); 'social:x:@bot' -> ('social:x', 'bot')."""
    family, sep, rest = item.strip().partition(":")
    family = family.lower()
    if not sep:
        return None
    if family in SIMPLE_TYPES:
        return family, rest.strip().lower()
    if family in NAMESPACED_TYPES:
        ns, sep2, value = rest.partition(":")
        if sep2:
            value = value.strip().lower()
            return f"{family}:{ns.lower()}", value.lstrip("@") if family == "social" else value
    return None
