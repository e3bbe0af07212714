"""What ``install(app)`` plugs in: consent events from ingest, the privacy data holder, the console card."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from amity.accounts.roles import Perm, allowed
from amity.consent import actions, queries
from amity.consent.config import get_config
from amity.consent.models import ConsentRecord
from amity.consent.proof import Proof
from amity.core.actions import ActionContext, ActionError, Actor, App
from amity.customers.prepare import Prepared
from amity.customers.schemas import FieldError
from amity.db import utcnow
from amity.privacy import holders
from amity.web import panels

EVENT_STATUS = {"consent.granted": "granted", "consent.withdrawn": "withdrawn", "consent.denied": "denied"}
PROPERTIES = {"purpose", "channel", "lawful_basis", "policy_version", "text_sha256"}
SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def install(app: App) -> None:
    from amity.customers import actions as customer_actions
    from amity.customers import service as ingest

    app.cache["consent.config"] = get_config()
    ingest.INGEST_GUARDS["consent"] = guard
    for event_type in EVENT_STATUS:
        customer_actions.EVENT_HANDLERS[event_type] = record_events
    holders.register(
        holders.DataHolder(name="consent", tables=("consent_records",), export=export, erase=erase)
    )
    panels.register(panels.Panel("consent", "Consent", "consent_card.html", card, order=40))


# ---- consent.granted / consent.withdrawn events --------------------------------------------------
def _problems(s: Session, p: Prepared) -> list[FieldError]:
    props = p.properties
    out = [
        FieldError(
            field=f"properties.{k}", message=f"unknown property; one of {', '.join(sorted(PROPERTIES))}"
        )
        for k in sorted(set(props) - PROPERTIES)
    ]
    purpose = props.get("purpose")
    if not isinstance(purpose, str) or not purpose:
        return [*out, FieldError(field="properties.purpose", message="a consent event names its purpose")]
    for key, limit in (("channel", 20), ("lawful_basis", 30), ("policy_version", 100)):
        value = props.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            out.append(
                FieldError(field=f"properties.{key}", message=f"a string of at most {limit} characters")
            )
    sha = props.get("text_sha256")
    if sha is not None and (not isinstance(sha, str) or not SHA256.match(sha)):
        out.append(FieldError(field="properties.text_sha256", message="64 hexadecimal characters"))
    if out:
        return out
    try:
        actions.check(
            s,
            purpose=purpose,
            status=EVENT_STATUS[p.type],
            lawful_basis=props.get("lawful_basis") or "consent",
            source="event",
            channel=props.get("channel"),
            prefix="properties.",
        )
    except ActionError as exc:
        return [FieldError(field=exc.field or "properties", message=exc.message)]
    return []


def guard(app: App, actor: Actor, items: list[Prepared]) -> dict[int, list[FieldError]]:
    """Refuse, before anything is stored, consent events the ledger could not take (unknown purpose)."""
    mine = [p for p in items if p.type in EVENT_STATUS]
    if not mine:
        return {}
    refused: dict[int, list[FieldError]] = {}
    with app.db.read() as s:
        for p in mine:
            if problems := _problems(s, p):
                refused[p.index] = problems
    return refused


def record_events(ctx: ActionContext, items: list[tuple[Prepared, str, str]]) -> None:
    """In the ingest's transaction: one ledger record per accepted consent event."""
    now = utcnow()
    for p, event_id, customer_id in items:
        props = p.properties
        actions.record_consent(
            ctx,
            customer_id,
            purpose=props["purpose"],
            status=EVENT_STATUS[p.type],
            lawful_basis=props.get("lawful_basis") or "consent",
            source="event",
            channel=props.get("channel"),
            proof=Proof(
                policy_version=props.get("policy_version") or None,
                text_sha256=(props.get("text_sha256") or "").lower() or None,
            ),
            at=min(p.timestamp, now),  # ingest allows a little clock skew; the ledger never the future
            event_id=event_id,
        )


# ---- privacy: export and erasure -----------------------------------------------------------------
def export(s: Session, customer_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    rows = s.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.customer_id.in_(customer_ids))
        .order_by(ConsentRecord.at, ConsentRecord.id)
    )
    return {"consent_records": [queries.record_out(r) for r in rows]}


def erase(s: Session, customer_ids: list[str]) -> None:
    """Grants go (nothing may rest on them any more); withdrawals and denials stay, stripped of their
    proof: they are our proof that we stopped (GDPR Art. 7(1), 5(2)) and keep a re-created profile
    from being contacted on an old grant. What stays says only purpose, channel, status and time."""
    s.execute(
        delete(ConsentRecord).where(
            ConsentRecord.customer_id.in_(customer_ids), ConsentRecord.status == "granted"
        )
    )
    s.execute(
        update(ConsentRecord)
        .where(ConsentRecord.customer_id.in_(customer_ids))
        .values(text_sha256=None, ip_hash=None, user_agent_hash=None, event_id=None, erased_at=utcnow())
    )


# ---- the console card ----------------------------------------------------------------------------
def card(s: Session, customer_id: str, actor: Actor) -> dict[str, Any] | None:
    if not allowed(actor.role, Perm.CONSENT_READ):
        return None
    try:
        rows = queries.summary(s, customer_id)
    except ActionError:
        return None
    return {"customer_id": customer_id, "purposes": rows}
