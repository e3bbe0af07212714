"""Identifier types, normalisation and the guards that keep identity resolution from merging strangers.

Every identifier is normalised before it is matched: emails by RFC rules then case-folded, phones to
E.164, handles lower-cased without ``@``. Normalisation is cached because real traffic repeats the
same identifiers over and over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from amity.config import DEFAULT_BLOCKED_EMAIL_LOCALPARTS, DEFAULT_BLOCKED_VALUES, Settings
from amity.customers import normalise

_NAMESPACE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,40}$")
SIMPLE_TYPES = frozenset({"email", "phone", "loyalty", "device"})
NAMESPACED_TYPES = frozenset({"social", "external"})
MAX_VALUE_LEN = 320
MEMO_SIZE = 100_000  # classified spellings kept per policy


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


@lru_cache(maxsize=1024)  # a handful of types arrive over and over; a refused one is not cached
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


def normalise_value(type_: str, value: str, region: str) -> str:
    v = value.strip()
    if len(v) > MAX_VALUE_LEN:
        raise IdentifierError("value", f"longer than {MAX_VALUE_LEN} characters")
    try:
        if type_ == "email":
            return normalise.email(v)
        if type_ == "phone":
            return normalise.phone(v, region)
    except normalise.NormaliseError as exc:
        raise IdentifierError("value", str(exc)) from None
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
        self._memo: dict[tuple[str, str], tuple[str, bool]] = {}

    def classify(self, type_: str, raw_value: str) -> tuple[str, bool]:
        """Return (normalised value, blocked?). Raises IdentifierError for a malformed value.

        Blocked values are recognised before validation: "anonymous" in an email field is a
        placeholder, not a typo the sender must fix.
        """
        # The answer depends only on this policy and the spelling, and the same spellings keep coming.
        key = (type_, raw_value)
        found = self._memo.get(key)
        if found is None:
            found = self._classify(type_, raw_value)
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()  # bounded memory; the next few batches refill what is still hot
            self._memo[key] = found
        return found

    def _classify(self, type_: str, raw_value: str) -> tuple[str, bool]:
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
