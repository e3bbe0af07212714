"""The trait schema: only declared traits are kept, each with a type, purpose, PII flag and retention."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from typing import Any

TRAIT_TYPES = ("string", "number", "boolean", "date", "enum", "list")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_STRING = 2000
MAX_LIST = 100


@dataclass(frozen=True)
class TraitSpec:
    name: str
    type: str
    pii: bool
    purpose: str
    retention_days: int | None = None
    description: str = ""
    enum_values: tuple[str, ...] | None = None
    builtin: bool = False


BUILTIN_TRAITS = (
    TraitSpec("name", "string", True, "service", None, "What the customer wants to be called.", builtin=True),
    TraitSpec(
        "language",
        "string",
        False,
        "service",
        None,
        "Preferred language, a BCP 47 tag such as en or pt-BR.",
        builtin=True,
    ),
    TraitSpec(
        "timezone", "string", False, "service", None, "IANA time zone, e.g. Europe/Lisbon.", builtin=True
    ),
    TraitSpec(
        "preferred_channels",
        "list",
        False,
        "service",
        None,
        "Channels the customer prefers, most preferred first (email, chat, sms, whatsapp, telegram, voice).",
        builtin=True,
    ),
)

_LANG_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class TraitValueError(ValueError):
    pass


def validate_value(spec: TraitSpec, value: Any) -> Any:
    """Return the value as stored, or raise TraitValueError saying what is wrong. ``None`` clears a trait."""
    if value is None:
        return None
    t = spec.type
    if t == "string":
        if not isinstance(value, str):
            raise TraitValueError(f"expected a string, got {_kind(value)}")
        if len(value) > MAX_STRING:
            raise TraitValueError(f"longer than {MAX_STRING} characters")
        return _builtin_check(spec.name, value.strip())
    if t == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TraitValueError(f"expected a number, got {_kind(value)}")
        if isinstance(value, float) and value != value:  # NaN never equals itself
            raise TraitValueError("NaN is not a number we can store")
        return value
    if t == "boolean":
        if not isinstance(value, bool):
            raise TraitValueError(f"expected true or false, got {_kind(value)}")
        return value
    if t == "date":
        if not isinstance(value, str):
            raise TraitValueError(f"expected a date as YYYY-MM-DD, got {_kind(value)}")
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            raise TraitValueError(f"'{value}' is not a date in YYYY-MM-DD form") from None
    if t == "enum":
        allowed = spec.enum_values or ()
        if not isinstance(value, str) or value not in allowed:
            raise TraitValueError(f"must be one of {', '.join(allowed)}")
        return value
    if t == "list":
        if not isinstance(value, list):
            raise TraitValueError(f"expected a list, got {_kind(value)}")
        if len(value) > MAX_LIST:
            raise TraitValueError(f"more than {MAX_LIST} items")
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                raise TraitValueError(f"item {i} must be a string or number, got {_kind(item)}")
        return value
    raise TraitValueError(f"trait has unknown type {t}")


def _builtin_check(name: str, value: str) -> str:
    if name == "timezone" and value:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise TraitValueError(f"'{value}' is not an IANA time zone such as Europe/Lisbon") from None
    if name == "language" and value and not _LANG_RE.match(value):
        raise TraitValueError(f"'{value}' is not a language tag such as en or pt-BR")
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__
    )
