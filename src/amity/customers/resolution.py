"""Identity resolution for a batch of prepared events, inside one write transaction.

The batch is resolved in memory against the identifiers it mentions (one query to load them) and the
rows are written with a handful of executemany calls, so the per-event cost stays close to the cost of
inserting the event row itself. Merges found in the batch are decided in memory and applied to the rows
already stored when the batch finishes (``finish``), in the order they happened.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from amity.customers import graph
from amity.customers.identities import Identifier, IdentityPolicy
from amity.customers.models import Customer, Event, Identity, Merge, TraitHistory
from amity.customers.prepare import Prepared
from amity.db import Base, fast_insert
from amity.ids import new_id

CHUNK = 500


@dataclass(slots=True)
class CustState:
    id: str
    created_at: dt.datetime
    traits: dict[str, Any]
    times: dict[str, str]
    new: bool = False
    dirty: bool = False
    counts: dict[str, int] | None = None  # identity counts by type, loaded when first needed


@dataclass(slots=True)
class Outcome:
    status: str  # accepted | duplicate | rejected
    customer_id: str | None
    flags: list[dict[str, Any]] = field(default_factory=list)
    error: tuple[str, str] | None = None  # (field, message) when rejected
    merges: list[str] = field(default_factory=list)


@dataclass
class MergeNote:
    merge_id: str
    survivor_id: str
    merged_id: str
    evidence: dict[str, Any]


class BatchResolver:
    def __init__(self, session: Session, policy: IdentityPolicy, actor: str, now: dt.datetime) -> None:
        self.s = session
        self.policy = policy
        self.actor = actor
        self.now = now
        self.ids: dict[tuple[str, str], tuple[str, str]] = {}  # (type, value) -> (customer, origin)
        self.custs: dict[str, CustState] = {}
        self.redirect: dict[str, str] = {}  # merged during this batch -> survivor
        self.merges: list[MergeNote] = []
        self.unmerged: set[frozenset[str]] = set()  # pairs a person split apart: never re-merged here
        self.recompute: set[str] = set()  # survivors whose traits are recomputed from history at the end
        self.new_customers: list[str] = []
        self._ident_rows: list[dict[str, Any]] = []
        self._event_rows: list[dict[str, Any]] = []
        self._trait_rows: list[dict[str, Any]] = []

    # ---- loading -------------------------------------------------------------------------------
    def load(self, items: list[Prepared]) -> None:
        values = sorted({i.value for p in items for i in p.usable})
        wanted = {(i.type, i.value) for p in items for i in p.usable}
        for start in range(0, len(values), CHUNK):
            rows = self.s.execute(
                select(
                    Identity.type, Identity.value, Identity.customer_id, Identity.origin_customer_id
                ).where(Identity.value.in_(values[start : start + CHUNK]))
            )
            for t, v, cid, origin in rows:
                if (t, v) in wanted:
                    self.ids[(t, v)] = (cid, origin)
        self._load_customers({cid for cid, _ in self.ids.values()})

    def _load_customers(self, cids: set[str]) -> None:
        todo = sorted(c for c in cids if c not in self.custs)
        for start in range(0, len(todo), CHUNK):
            rows = self.s.execute(
                select(Customer.id, Customer.created_at, Customer.traits, Customer.trait_times).where(
                    Customer.id.in_(todo[start : start + CHUNK])
                )
            )
            for cid, created, traits, times in rows:
                self.custs[cid] = CustState(cid, created, dict(traits or {}), dict(times or {}), counts={})
            # Identity counts per type (for the limits), loaded once for the batch: the in-memory copy is
            # then kept current as identifiers are attached, so no event needs its own query.
            counted = self.s.execute(
                select(Identity.customer_id, Identity.type, func.count())
                .where(Identity.customer_id.in_(todo[start : start + CHUNK]))
                .group_by(Identity.customer_id, Identity.type)
            )
            for cid, type_, n in counted:
                counts = self.custs[cid].counts
                assert counts is not None
                counts[type_] = n
            chunk = todo[start : start + CHUNK]
            undone = self.s.execute(
                select(Merge.survivor_id, Merge.merged_id).where(
                    Merge.undone_at.is_not(None),
                    or_(Merge.survivor_id.in_(chunk), Merge.merged_id.in_(chunk)),
                )
            )
            self.unmerged.update(frozenset(pair) for pair in undone)

    def root(self, cid: str) -> str:
        while cid in self.redirect:
            cid = self.redirect[cid]
        return cid

    def resolve_explicit(self, customer_id: str) -> str | None:
        if customer_id in self.custs:
            return self.root(customer_id)
        r = graph.root_of(self.s, customer_id)
        if r is None:
            return None
        self._load_customers({r})
        return self.root(r)

    # ---- one event -----------------------------------------------------------------------------
    def apply(self, p: Prepared, event_id: str) -> Outcome:
        flags: list[dict[str, Any]] = list(p.flags)
        explicit_root: str | None = None
        if p.customer_id:
            explicit_root = self.resolve_explicit(p.customer_id)
            if explicit_root is None:
                return Outcome("rejected", None, error=("customer_id", f"no customer {p.customer_id}"))

        hits: list[tuple[Identifier, str, str]] = []  # identifier, root, origin
        fresh: list[Identifier] = []
        for ident in p.usable:
            found = self.ids.get((ident.type, ident.value))
            if found is None:
                fresh.append(ident)
            else:
                hits.append((ident, self.root(found[0]), found[1]))

        roots: list[str] = []
        if explicit_root:
            roots.append(explicit_root)
        for _, r, _ in hits:
            if r not in roots:
                roots.append(r)

        merge_ids: list[str] = []
        if not roots:
            survivor = self._new_customer()
            origin = survivor
        else:
            ordered = sorted(roots, key=lambda c: (self.custs[c].created_at, c))
            survivor = ordered[0]
            for other in ordered[1:]:
                evidence_ident = next((i for i, r, _ in hits if r == other), None)
                merged = self._try_merge(survivor, other, evidence_ident, event_id, flags)
                if merged:
                    merge_ids.append(merged)
            # Attribute the event to the profile that owned the identifier it matched on (the survivor's own
            # identifier when there is one), so that undoing a merge takes it back to the right person.
            origin = next((o for _, r, o in hits if r == survivor), None) or (
                p.customer_id if explicit_root == survivor and p.customer_id else survivor
            )

        state = self.custs[survivor]
        for ident in fresh:
            limit = self.policy.limit_for(ident.type)
            counts = self._counts(state)
            if limit is not None and counts.get(ident.type, 0) + 1 > limit:
                flags.append(
                    {
                        "code": "identity_limit",
                        "identity": ident.key,
                        "message": f"customer already has {counts.get(ident.type, 0)} {ident.type} "
                        f"identifier(s), the limit is {limit}; not attached",
                    }
                )
                continue
            counts[ident.type] = counts.get(ident.type, 0) + 1
            self.ids[(ident.type, ident.value)] = (survivor, origin)
            self._ident_rows.append(
                {
                    "customer_id": survivor,
                    "origin_customer_id": origin,
                    "type": ident.type,
                    "value": ident.value,
                    "created_at": self.now,
                    "event_id": event_id,
                }
            )

        if p.traits:
            key = graph.ts_key(p.timestamp)
            for name, value in p.traits.items():
                self._trait_rows.append(
                    {
                        "customer_id": survivor,
                        "origin_customer_id": origin,
                        "name": name,
                        "value": value,
                        "observed_at": p.timestamp,
                        "event_id": event_id,
                    }
                )
                if key >= state.times.get(name, ""):
                    state.times[name] = key
                    if value is None:
                        state.traits.pop(name, None)
                    else:
                        state.traits[name] = value
                    state.dirty = True

        self._event_rows.append(
            {
                "id": event_id,
                "customer_id": survivor,
                "origin_customer_id": origin,
                "type": p.type,
                "timestamp": p.timestamp,
                "received_at": self.now,
                "source": p.source,
                "identities": p.identities_json,
                "traits": p.traits or None,
                "properties": p.properties,
                "flags": flags or None,
            }
        )
        return Outcome("accepted", survivor, flags=flags, merges=merge_ids)

    def _new_customer(self) -> str:
        cid = new_id("cus")
        self.custs[cid] = CustState(cid, self.now, {}, {}, new=True, counts={})
        self.new_customers.append(cid)
        return cid

    def _counts(self, state: CustState) -> dict[str, int]:
        if state.counts is None:  # loaded with the customer; this is only a safety net
            self.flush()
            state.counts = graph.identity_counts(self.s, state.id)
        return state.counts

    def _try_merge(
        self, survivor: str, other: str, ident: Identifier | None, event_id: str, flags: list[dict[str, Any]]
    ) -> str | None:
        ident_key = ident.key if ident else None
        if frozenset((survivor, other)) in self.unmerged:
            flags.append(
                {
                    "code": "merge_refused",
                    "identity": ident_key,
                    "message": f"{other} and {survivor} were unmerged before; not merging them again automatically",
                }
            )
            return None
        surv, gone = self.custs[survivor], self.custs[other]
        a, b = self._counts(surv), self._counts(gone)
        over = graph.limit_violations(a, b, self.policy.limit_for)
        if over:
            flags.append(
                {
                    "code": "merge_refused",
                    "identity": ident_key,
                    "message": f"merging {other} into {survivor} would pass the identity limit for {', '.join(over)}",
                }
            )
            return None
        merge_id = new_id("mrg")
        evidence = {"identity": ident_key, "event_id": event_id}
        self.merges.append(MergeNote(merge_id, survivor, other, evidence))
        self.redirect[other] = survivor
        del self.custs[other]
        self.unmerged = {
            pair if other not in pair else frozenset(survivor if c == other else c for c in pair)
            for pair in self.unmerged
        }
        surv.counts = {t: a.get(t, 0) + b.get(t, 0) for t in set(a) | set(b)}
        # Newest wins, so later events of this batch compare against the combined profile; the exact
        # values (ties broken by write order) are recomputed from the history in finish().
        for name, key in gone.times.items():
            if key > surv.times.get(name, ""):
                surv.times[name] = key
                if name in gone.traits:
                    surv.traits[name] = gone.traits[name]
                else:
                    surv.traits.pop(name, None)
        self.recompute.add(survivor)
        return merge_id

    # ---- writing -------------------------------------------------------------------------------
    def flush(self) -> None:
        if self.new_customers:
            cust_rows: list[dict[str, Any]] = []
            for cid in self.new_customers:
                state = self.custs.get(cid)
                traits = state.traits if state else {}
                cust_rows.append(
                    {
                        "id": cid,
                        "created_at": self.now,
                        "updated_at": self.now,
                        "traits": traits,
                        "trait_times": state.times if state else {},
                        "name_key": graph.name_key(traits),
                    }
                )
                if state:
                    state.new = state.dirty = False
            fast_insert(self.s, Customer, cust_rows)
            self.new_customers = []
        tables: tuple[tuple[type[Base], list[dict[str, Any]]], ...] = (
            (Identity, self._ident_rows),
            (Event, self._event_rows),
            (TraitHistory, self._trait_rows),
        )
        for model, rows in tables:
            if rows:
                for row in rows:
                    row["customer_id"] = self.root(row["customer_id"])
                fast_insert(self.s, model, rows)
                rows.clear()

    def _apply_merges(self) -> None:
        """Re-point rows stored before this batch, merge by merge, in the order the batch found them."""
        if not self.merges:
            return
        for m in self.merges:
            graph.move_rows(self.s, m.survivor_id, m.merged_id, self.now)
        fast_insert(
            self.s,
            Merge,
            [
                {
                    "id": m.merge_id,
                    "survivor_id": m.survivor_id,
                    "merged_id": m.merged_id,
                    "reason": "identity",
                    "evidence": m.evidence,
                    "actor": self.actor,
                    "created_at": self.now,
                }
                for m in self.merges
            ],
        )

    def finish(self) -> None:
        self.flush()  # customers first: merges and rows refer to them
        self._apply_merges()
        roots = {self.root(c) for c in self.recompute}
        if roots:
            graph.recompute_traits(self.s, sorted(roots), self.now)
        dirty = [
            {
                "id": c.id,
                "traits": c.traits,
                "trait_times": c.times,
                "name_key": graph.name_key(c.traits),
                "updated_at": self.now,
            }
            for c in self.custs.values()
            if c.dirty and c.id not in roots
        ]
        if dirty:
            # ORM bulk UPDATE by primary key: one executemany for the whole batch
            self.s.execute(update(Customer), dirty)
