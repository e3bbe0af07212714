"""Glue between HTTP/CLI callers and the customer actions: prepare a batch, run the action, report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from amity.core.actions import Actor, App, perform
from amity.customers import actions, collector, queries
from amity.customers.identities import IdentityPolicy
from amity.customers.prepare import Prepared, Rejected, prepare_item
from amity.customers.schemas import FieldError
from amity.db import utcnow

# Checks other capabilities run on a prepared batch before it is stored: item index -> why refused.
# (The privacy capability's erasure tombstones: docs/privacy.md.)
IngestGuard = Callable[[App, Actor, list[Prepared]], dict[int, list[FieldError]]]
INGEST_GUARDS: dict[str, IngestGuard] = {}


def policy(app: App) -> IdentityPolicy:
    cached = app.cache.get("identity_policy")
    if cached is None:
        cached = app.cache["identity_policy"] = IdentityPolicy(app.settings)
    assert isinstance(cached, IdentityPolicy)
    return cached


def ingest(app: App, actor: Actor, raw_items: list[Any], *, prefix: str = "") -> dict[str, Any]:
    """Validate each item, store the good ones in one action; a bad item never loses a good one."""
    with collector.paused():  # the batch's objects die together: see customers/collector.py
        return _ingest(app, actor, raw_items, prefix)


def _ingest(app: App, actor: Actor, raw_items: list[Any], prefix: str) -> dict[str, Any]:
    now = utcnow()
    with app.db.read() as s:
        schema = queries.trait_schema(s)
    pol = policy(app)
    max_future = dt.timedelta(seconds=app.settings.max_future_skew_seconds)
    prepared: list[Prepared] = []
    results: list[dict[str, Any] | None] = [None] * len(raw_items)
    for i, raw in enumerate(raw_items):
        item = prepare_item(
            i,
            raw,
            schema=schema,
            policy=pol,
            now=now,
            max_future=max_future,
            max_properties_bytes=app.settings.max_properties_bytes,
        )
        if isinstance(item, Rejected):
            results[i] = _rejected(i, item.id, item.errors, prefix)
        else:
            prepared.append(item)
    for guard in INGEST_GUARDS.values():
        refused = guard(app, actor, prepared) if prepared else {}
        for p in prepared:
            if p.index in refused:
                results[p.index] = _rejected(p.index, p.id, refused[p.index], prefix)
        prepared = [p for p in prepared if p.index not in refused]
    if prepared:
        outcomes = perform(app, actor, actions.ingest_events, prepared, pol)
        for p, o in zip(prepared, outcomes, strict=True):
            if o.status == "rejected" and o.error:
                results[p.index] = _rejected(
                    p.index, p.id, [FieldError(field=o.error[0], message=o.error[1])], prefix
                )
                continue
            results[p.index] = {
                "index": p.index,
                "id": p.id,
                "status": o.status,
                "customer_id": o.customer_id,
                "errors": [],
                "flags": o.flags,
            }
    done = [r for r in results if r is not None]
    return {
        "accepted": sum(1 for r in done if r["status"] == "accepted"),
        "duplicate": sum(1 for r in done if r["status"] == "duplicate"),
        "rejected": sum(1 for r in done if r["status"] == "rejected"),
        "results": done,
    }


def _rejected(index: int, id_: str | None, errors: list[FieldError], prefix: str) -> dict[str, Any]:
    return {
        "index": index,
        "id": id_,
        "status": "rejected",
        "customer_id": None,
        "errors": [{"field": _join(prefix, e.field), "message": e.message} for e in errors],
        "flags": [],
    }


def _join(prefix: str, field: str) -> str:
    """``events[3].`` + ``traits.x``; an error about the item itself is the item (or the body)."""
    if not field:
        return prefix.rstrip(".") or "body"
    return f"{prefix}{field}"
