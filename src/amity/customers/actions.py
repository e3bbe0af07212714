"""State changes of the customer core. Each is run by ``core.actions.perform``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from amity.core.actions import ActionContext, Conflict, Invalid, NotFound
from amity.customers import batchsql, graph
from amity.customers.identities import IdentityPolicy
from amity.customers.models import TraitDefinition
from amity.customers.prepare import Prepared
from amity.customers.resolution import BatchResolver, Outcome
from amity.customers.schemas import TraitIn, TraitPatch
from amity.db import utcnow
from amity.ids import new_id

# Capabilities that turn events of one type into records of their own do it in the ingest's
# transaction, so the event and its record are stored together or not at all (consent.granted /
# consent.withdrawn -> the consent ledger). Event type -> handler of (prepared, event id, live customer
# id) for every accepted event of that type; it must not refuse what its ingest guard let through.
EventHandler = Callable[[ActionContext, list[tuple[Prepared, str, str]]], None]
EVENT_HANDLERS: dict[str, EventHandler] = {}


def ingest_events(ctx: ActionContext, items: list[Prepared], policy: IdentityPolicy) -> list[Outcome]:
    """Store a batch of checked events on their customers' timelines, resolving identities as we go."""
    s = ctx.session
    now = utcnow()
    graph.lock_identity_graph(s)
    outcomes: list[Outcome] = []

    # Idempotency: an id seen before (or twice in this batch) is stored once and reported duplicate.
    stored = batchsql.stored_events(s, {p.id for p in items if p.id})

    resolver = BatchResolver(s, policy, ctx.actor.label, now)
    resolver.load(items)
    seen: dict[str, str | None] = {}
    event_ids: dict[int, str] = {}
    for p in items:
        if p.id and (p.id in stored or p.id in seen):
            cid = stored.get(p.id) or seen.get(p.id)
            outcomes.append(Outcome("duplicate", resolver.root(cid) if cid else None))
            continue
        event_id = p.id or new_id("evt")
        outcome = resolver.apply(p, event_id)
        if outcome.status == "accepted":
            seen[event_id] = outcome.customer_id
            event_ids[p.index] = event_id
        outcomes.append(outcome)
    resolver.finish()
    # A later event of the batch may have merged an earlier one's customer: report where each landed.
    redirect = resolver.redirect
    for o in outcomes:
        if o.customer_id in redirect:
            o.customer_id = resolver.root(o.customer_id)

    counts = Counter(o.status for o in outcomes)
    ctx.audit(
        "events.ingested",
        "batch",
        new_id("bat"),
        accepted=counts["accepted"],
        duplicate=counts["duplicate"],
        rejected=counts["rejected"],
        new_customers=sum(1 for c in resolver.custs.values() if c.created_at == now),
        merges=[m.merge_id for m in resolver.merges],
    )
    for m in resolver.merges:
        ctx.audit(
            "customer.merged",
            "customer",
            m.survivor_id,
            merge_id=m.merge_id,
            merged_id=m.merged_id,
            reason="identity",
            evidence=m.evidence,
        )
        ctx.publish("customer.merged", merge_id=m.merge_id, survivor_id=m.survivor_id, merged_id=m.merged_id)
    accepted = [(p, o) for p, o in zip(items, outcomes, strict=True) if o.status == "accepted"]
    if EVENT_HANDLERS:
        # One pass groups the few events other capabilities handle (customer ids are roots by now).
        handled: dict[str, list[tuple[Prepared, str, str]]] = {}
        for p, o in accepted:
            if p.type in EVENT_HANDLERS:
                handled.setdefault(p.type, []).append((p, event_ids[p.index], o.customer_id or ""))
        for event_type, handle in EVENT_HANDLERS.items():
            if event_type in handled:
                handle(ctx, handled[event_type])
    if accepted:
        ctx.publish(
            "events.ingested",
            events=[{"type": p.type, "customer_id": o.customer_id or ""} for p, o in accepted],
        )
    return outcomes


def merge_customers(
    ctx: ActionContext, customer_id: str, other_id: str, policy: IdentityPolicy, note: str | None
) -> str:
    """An authorised person says two profiles are one person: ``other`` folds into ``customer``."""
    s = ctx.session
    graph.lock_identity_graph(s)
    survivor = graph.root_of(s, customer_id)
    if survivor is None:
        raise NotFound(f"no customer {customer_id}", field="id")
    other = graph.root_of(s, other_id)
    if other is None:
        raise NotFound(f"no customer {other_id}", field="other_id")
    if survivor == other:
        raise Conflict(
            f"{customer_id} and {other_id} are already the same customer ({survivor})", field="other_id"
        )
    over = graph.limit_violations(
        graph.identity_counts(s, survivor), graph.identity_counts(s, other), policy.limit_for
    )
    if over:
        raise Conflict(
            f"the merged customer would pass the identity limit for {', '.join(over)}", field="other_id"
        )
    now = utcnow()
    evidence: dict[str, Any] = {"requested": {"customer_id": customer_id, "other_id": other_id}, "note": note}
    merge_id = graph.merge_rows(
        s, survivor, other, reason="manual", evidence=evidence, actor=ctx.actor.label, now=now
    )
    ctx.audit(
        "customer.merged",
        "customer",
        survivor,
        merge_id=merge_id,
        merged_id=other,
        reason="manual",
        note=note,
    )
    ctx.publish("customer.merged", merge_id=merge_id, survivor_id=survivor, merged_id=other)
    return merge_id


def undo_merge(ctx: ActionContext, merge_id: str, reason: str | None) -> dict[str, str]:
    """Split a merge: both customers come back with their own identities, traits and timeline."""
    s = ctx.session
    graph.lock_identity_graph(s)
    merge = graph.undo_rows(s, merge_id, actor=ctx.actor.label, reason=reason, now=utcnow())
    root = graph.root_of(s, merge.survivor_id) or merge.survivor_id
    ctx.audit(
        "merge.undone",
        "customer",
        merge.merged_id,
        merge_id=merge_id,
        survivor_id=merge.survivor_id,
        reason=reason,
    )
    ctx.publish("merge.undone", merge_id=merge_id, survivor_id=root, restored_id=merge.merged_id)
    return {"merge_id": merge_id, "survivor_id": root, "restored_id": merge.merged_id}


def declare_trait(ctx: ActionContext, data: TraitIn) -> TraitDefinition:
    s = ctx.session
    if s.get(TraitDefinition, data.name) is not None:
        raise Conflict(f"trait '{data.name}' is already declared; change it with PATCH", field="name")
    _check_enum(data.type, data.enum_values)
    now = utcnow()
    row = TraitDefinition(
        name=data.name,
        type=data.type,
        enum_values=data.enum_values if data.type == "enum" else None,
        pii=data.pii,
        purpose=data.purpose,
        retention_days=data.retention_days,
        description=data.description,
        builtin=False,
        created_at=now,
        updated_at=now,
    )
    s.add(row)
    s.flush()
    ctx.audit("trait.declared", "trait", data.name, **data.model_dump())
    ctx.publish("trait.declared", name=data.name)
    return row


def update_trait(ctx: ActionContext, name: str, patch: TraitPatch) -> TraitDefinition:
    s = ctx.session
    row = s.get(TraitDefinition, name)
    if row is None:
        raise NotFound(f"trait '{name}' is not declared", field="name")
    changes = patch.model_dump(exclude_unset=True)
    if "enum_values" in changes:
        if row.type != "enum":
            raise Conflict(f"trait '{name}' is a {row.type}, not an enum", field="enum_values")
        _check_enum("enum", changes["enum_values"])
        removed = set(row.enum_values or ()) - set(changes["enum_values"] or ())
        if removed:
            # Stored values must stay valid: enum values can be added, never taken away.
            raise Conflict(
                f"enum values cannot be removed ({', '.join(sorted(removed))})", field="enum_values"
            )
    if "purpose" in changes and not changes["purpose"]:
        raise Invalid("purpose cannot be empty: no purpose, no data", field="purpose")
    for key, value in changes.items():
        if key in ("pii", "description") and value is None:
            continue
        setattr(row, key, value)
    row.updated_at = utcnow()
    s.flush()
    ctx.audit("trait.updated", "trait", name, **changes)
    ctx.publish("trait.updated", name=name)
    return row


def _check_enum(type_: str, values: list[str] | None) -> None:
    if type_ == "enum" and not values:
        raise Invalid("an enum trait needs enum_values", field="enum_values")
    if type_ != "enum" and values:
        raise Invalid("enum_values only go with type enum", field="enum_values")
