"""Turn raw event JSON into checked, normalised events before any transaction starts.

Everything that can be decided without the database is decided here, so the write transaction
stays short and a bad item is refused with field paths while the rest of the batch goes on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from amity.core.inputs import NUL_MESSAGE, nul_paths
from amity.customers.identities import Identifier, IdentifierError, IdentityPolicy, check_type
from amity.customers.schemas import EventIn, FieldError
from amity.customers.traits import TraitSpec, TraitValueError, validate_value

_EVENT = TypeAdapter(EventIn)


@dataclass(slots=True)
class Prepared:
    index: int
    id: str | None
    type: str
    timestamp: dt.datetime
    source: str | None
    customer_id: str | None
    usable: list[Identifier]  # normalised, de-duplicated, not blocked: these are matched
    identities_json: list[dict[str, Any]]  # every identity as sent, with its normalised form and blocked mark
    traits: dict[str, Any]
    properties: dict[str, Any]
    flags: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class Rejected:
    index: int
    id: str | None
    errors: list[FieldError]


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def prepare_item(
    index: int,
    raw: Any,
    *,
    schema: dict[str, TraitSpec],
    policy: IdentityPolicy,
    now: dt.datetime,
    max_future: dt.timedelta,
    max_properties_bytes: int,
) -> Prepared | Rejected:
    if not isinstance(raw, dict):
        # A batch item that is not an object is named by its index alone: it has no fields to point at.
        return Rejected(index, None, [FieldError(field="", message="an event must be a JSON object")])
    raw_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    # orjson writes U+0000 as the escape \u0000, so one C-speed scan tells whether to look closer.
    try:
        dumped: bytes | None = orjson.dumps(raw)
    except TypeError:  # not JSON-shaped (an in-process caller): validation below says where
        dumped = None
    has_nul = dumped is not None and b"\\u0000" in dumped
    paths = sorted(set(nul_paths(raw))) if has_nul else []  # a literal "\\u0000" text matches too
    if paths:
        return Rejected(index, raw_id, [FieldError(field=p or "body", message=NUL_MESSAGE) for p in paths])
    try:
        ev = _EVENT.validate_python(raw)
    except ValidationError as exc:
        found = [FieldError(field=_loc(e["loc"]), message=e["msg"]) for e in exc.errors(include_url=False)]
        return Rejected(index, raw_id, found)

    errors: list[FieldError] = []
    ts = ev.timestamp or now
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=dt.UTC)  # documented: a timestamp without offset is UTC
    try:
        ts = ts.astimezone(dt.UTC)
    except OverflowError:  # 9999-12-31T23:59-10:00 and 0001-01-01T00:00+01:00 have no UTC instant
        return Rejected(
            index, ev.id, [FieldError(field="timestamp", message="outside the range of representable times")]
        )
    if ts > now + max_future:
        errors.append(FieldError(field="timestamp", message=f"{ts.isoformat()} is in the future"))
    if ts.year < 1970:
        errors.append(FieldError(field="timestamp", message="before 1970"))

    usable: list[Identifier] = []
    seen: set[tuple[str, str]] = set()
    identities_json: list[dict[str, Any]] = []
    for i, ident in enumerate(ev.identities):
        try:
            t = check_type(ident.type)
            value, blocked = policy.classify(t, ident.value)
        except IdentifierError as exc:
            errors.append(FieldError(field=f"identities[{i}].{exc.field}", message=exc.message))
            continue
        entry: dict[str, Any] = {"type": t, "value": value}
        if blocked:
            entry["blocked"] = True
        identities_json.append(entry)
        if not blocked and (t, value) not in seen:
            seen.add((t, value))
            usable.append(Identifier(t, value))

    if not errors and not usable and not ev.customer_id:
        msg = (
            "at least one identity (or customer_id) is needed to know whose event this is"
            if not ev.identities
            else "every identity given is a blocked placeholder value; add a real identifier or customer_id"
        )
        errors.append(FieldError(field="identities", message=msg))

    traits: dict[str, Any] = {}
    for name, value in ev.traits.items():
        spec = schema.get(name)
        if spec is None:
            errors.append(
                FieldError(
                    field=f"traits.{name}", message=f"trait '{name}' is not declared; declare it first"
                )
            )
            continue
        try:
            traits[name] = validate_value(spec, value)
        except TraitValueError as exc:
            errors.append(FieldError(field=f"traits.{name}", message=f"{exc} (trait type {spec.type})"))

    # The properties' JSON is part of the whole event's, so a small event needs no second look.
    if ev.properties and (dumped is None or len(dumped) > max_properties_bytes):
        size = len(orjson.dumps(ev.properties))
        if size > max_properties_bytes:
            errors.append(
                FieldError(
                    field="properties", message=f"{size} bytes; at most {max_properties_bytes} allowed"
                )
            )

    if errors:
        return Rejected(index, ev.id, errors)
    return Prepared(
        index=index,
        id=ev.id,
        type=ev.type,
        timestamp=ts,
        source=ev.source,
        customer_id=ev.customer_id,
        usable=usable,
        identities_json=identities_json,
        traits=traits,
        properties=ev.properties,
    )
