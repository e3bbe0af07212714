"""Changes to consent: record a consent fact, add a purpose. Each runs through ``core.actions.perform``.

Other capabilities (the preference centre, data-subject requests, campaigns) call
:func:`record_consent` inside their own actions; the signature is stable (docs/consent.md).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy.orm import Session

from amity.consent import purposes
from amity.consent.models import ConsentRecord, Purpose
from amity.consent.proof import Proof
from amity.consent.queries import record_out
from amity.core.actions import ActionContext, Conflict, Invalid
from amity.customers import queries as customers
from amity.db import utcnow

KEY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
MAX_FUTURE = dt.timedelta(hours=1)


def check(
    s: Session,
    *,
    purpose: str,
    status: str,
    lawful_basis: str,
    source: str,
    channel: str | None,
    prefix: str = "",
) -> purposes.PurposeSpec:
    """Refuse a record that could not be one, naming the field (``prefix`` for ingested events)."""
    spec = purposes.get(s, purpose)
    if spec is None:
        known = ", ".join(purposes.catalogue(s))
        raise Invalid(f"unknown purpose '{purpose}'; one of {known}", field=f"{prefix}purpose")
    if status not in purposes.STATUSES:
        raise Invalid(f"one of {', '.join(purposes.STATUSES)}", field=f"{prefix}status")
    if lawful_basis not in spec.lawful_bases:
        raise Invalid(
            f"'{lawful_basis}' is not a lawful basis for {purpose}; one of {', '.join(spec.lawful_bases)}",
            field=f"{prefix}lawful_basis",
        )
    if source not in purposes.SOURCES:
        raise Invalid(f"one of {', '.join(purposes.SOURCES)}", field=f"{prefix}source")
    if channel is not None and channel not in purposes.CHANNELS:
        raise Invalid(
            f"unknown channel type '{channel}'; one of {', '.join(purposes.CHANNELS)} or null for all",
            field=f"{prefix}channel",
        )
    return spec


def record_consent(
    ctx: ActionContext,
    customer_id: str,
    *,
    purpose: str,
    status: str,
    lawful_basis: str = "consent",
    source: str,
    channel: str | None = None,
    proof: Proof | None = None,
    at: dt.datetime | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """Append one consent fact for the person ``customer_id`` stands for today; returns the record.

    ``at`` is when it happened (an import or an event may be older than now; never in the future).
    Build ``proof`` with :func:`amity.consent.proof.make_proof` so raw IPs never reach this function.
    """
    s = ctx.session
    live = customers.resolve_customer(s, customer_id)
    check(s, purpose=purpose, status=status, lawful_basis=lawful_basis, source=source, channel=channel)
    now = utcnow()
    when = at or now
    if when.tzinfo is None:
        raise Invalid("needs a time zone offset", field="at")
    if when > now + MAX_FUTURE:
        raise Invalid(f"{when.isoformat()} is in the future", field="at")
    p = proof or Proof()
    row = ConsentRecord(
        customer_id=live,
        purpose=purpose,
        channel=channel,
        status=status,
        lawful_basis=lawful_basis,
        source=source,
        policy_version=p.policy_version,
        text_sha256=p.text_sha256,
        ip_hash=p.ip_hash,
        user_agent_hash=p.user_agent_hash,
        event_id=event_id,
        at=when.astimezone(dt.UTC),
        recorded_at=now,
        recorded_by=ctx.actor.label,
    )
    s.add(row)
    s.flush()
    ctx.audit(
        "consent.recorded",
        "customer",
        live,
        record_id=row.id,
        purpose=purpose,
        channel=channel,
        status=status,
        lawful_basis=lawful_basis,
        source=source,
        policy_version=p.policy_version,
    )
    ctx.publish(
        "consent.changed",
        customer_id=live,
        purpose=purpose,
        channel=channel,
        status=status,
        record_id=row.id,
    )
    return record_out(row)


def add_purpose(
    ctx: ActionContext,
    *,
    key: str,
    name: str,
    description: str = "",
    lawful_bases: list[str],
    default_basis: str | None = None,
) -> dict[str, Any]:
    """An admin adds a purpose. Purposes are never removed: the ledger's history refers to them."""
    s = ctx.session
    if not KEY.match(key):
        raise Invalid("2 to 40 of a-z, 0-9 and _, starting with a letter", field="key")
    if purposes.get(s, key) is not None:
        raise Conflict(f"purpose '{key}' already exists", field="key")
    bases: list[str] = []
    for i, b in enumerate(lawful_bases):
        if b not in purposes.LAWFUL_BASES:
            raise Invalid(f"one of {', '.join(purposes.LAWFUL_BASES)}", field=f"lawful_bases[{i}]")
        if b not in bases:
            bases.append(b)
    if not bases:
        raise Invalid("at least one lawful basis", field="lawful_bases")
    if default_basis is not None:
        if default_basis not in bases:
            raise Invalid("must be one of the purpose's lawful bases", field="default_basis")
        if default_basis == "consent":
            # Consent is what the customer gives; assuming it by default would be no consent at all.
            raise Invalid("consent cannot be assumed by default; leave it empty", field="default_basis")
    row = Purpose(
        key=key,
        name=name.strip(),
        description=description.strip(),
        lawful_bases=bases,
        default_basis=default_basis,
        created_at=utcnow(),
        created_by=ctx.actor.label,
    )
    s.add(row)
    s.flush()
    ctx.audit("consent.purpose_added", "consent_purpose", key, name=row.name, lawful_bases=bases)
    ctx.publish("consent.purpose_added", key=key)
    return purposes.spec_of(row).out()
