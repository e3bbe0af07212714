"""Identity resolution for a batch of prepared events, inside one write transaction.

The batch is resolved in memory against the identifiers it mentions and the rows are written with a
handful of bulk statements, so the per-event cost stays close to the cost of inserting the event row
itself. Merges found in the batch are decided in memory and applied to the rows already stored when the
batch finishes (``finish``), in the order they happened.

Loading is by need. Most events name one known customer and only add an event row: they need no more
than the identifier lookup. A customer's row (created time, traits) is read only when an event of the
batch may change its traits, attach an identifier or merge it; its identity counts (for the limits)
and undone merges only when an event may attach an identifier or merge it. ``load`` finds those
customers in one pass over the batch, before any event is applied, and reads them with one query each.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from amity.customers import batchsql, graph
from amity.customers.batchsql import CUSTOMER_COLS, EVENT_COLS, IDENTITY_COLS, MERGE_COLS, TRAIT_COLS
from amity.customers.identities import Identifier, IdentityPolicy
from amity.customers.models import Customer, Event, Identity, Merge, TraitHistory
from amity.customers.prepare import Prepared
from amity.db import fast_insert_rows
from amity.ids import new_id


@dataclass(slots=True)
class CustState:
    id: str
    created_at: dt.datetime
    traits: dict[str, Any]
    times: dict[str, str]
    name_key: str | None = None  # as stored: an UPDATE leaves the indexed column alone when unchanged
    new: bool = False
    dirty: bool = False
    counts: dict[str, int] | None = None  # identity counts by type, loaded with the customer when needed


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
        self._ident_rows: list[list[Any]] = []
        self._event_rows: list[list[Any]] = []
        self._trait_rows: list[list[Any]] = []

    # ---- loading -------------------------------------------------------------------------------
    def load(self, items: list[Prepared]) -> None:
        wanted = {(i.type, i.value) for p in items for i in p.usable}
        for t, v, cid, origin in batchsql.identities_by_value(self.s, {v for _, v in wanted}):
            if (t, v) in wanted:
                self.ids[(t, v)] = (cid, origin)
        # An identifier unknown now may be attached by an earlier event of the batch (it can only get
        # known, never unknown), and a merge needs two customers named by one event: so an event with
        # an unknown identifier, several customers or an explicit customer_id may attach or merge.
        # Customers reached by redirects are survivors of such merges, loaded with them.
        full: set[str] = set()
        rows_only: set[str] = set()
        for p in items:
            found: set[str] = set()
            unknown = False
            for ident in p.usable:
                hit = self.ids.get((ident.type, ident.value))
                if hit is None:
                    unknown = True
                else:
                    found.add(hit[0])
            if unknown or len(found) > 1 or p.customer_id:
                full |= found
            elif p.traits:
                rows_only |= found
        self._load_customers(full, full=True)
        self._load_customers(rows_only - full, full=False)

    def _load_customers(self, cids: set[str], *, full: bool) -> None:
        """Read customers into ``custs``; ``full`` adds their identity counts and undone merges."""
        todo = {c for c in cids if c not in self.custs}
        for cid, created, traits, times, key in batchsql.customer_rows(self.s, todo):
            self.custs[cid] = CustState(cid, created, dict(traits), dict(times), key)
        if not full:
            return
        todo = {c for c in cids if c in self.custs and self.custs[c].counts is None}
        for cid in todo:
            self.custs[cid].counts = {}
        # Identity counts per type, for the limits: the in-memory copy is then kept current as
        # identifiers are attached, so no event needs its own query.
        for cid, type_, n in batchsql.identity_counts(self.s, todo):
            counts = self.custs[cid].counts
            assert counts is not None
            counts[type_] = n
        # Seen through this batch's merges so far (normally none yet): a pair stays apart after either
        # side has been merged into a third profile.
        self.unmerged.update(
            frozenset((self.root(a), self.root(b))) for a, b in batchsql.undone_pairs(self.s, todo)
        )

    def root(self, cid: str) -> str:
        while cid in self.redirect:
            cid = self.redirect[cid]
        return cid

    def resolve_explicit(self, customer_id: str) -> str | None:
        if customer_id in self.custs:
            self._load_customers({customer_id}, full=True)
            return self.root(customer_id)
        r = graph.root_of(self.s, customer_id)
        if r is None:
            return None
        self._load_customers({r}, full=True)
        return self.root(r)

    def _state(self, cid: str) -> CustState:
        state = self.custs.get(cid)
        if state is None:  # load() reads every customer an event can change; this is a safety net
            self._load_customers({cid}, full=True)
            state = self.custs[cid]
        return state

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
        ids, redirect = self.ids, self.redirect
        for ident in p.usable:
            found = ids.get((ident.type, ident.value))
            if found is None:
                fresh.append(ident)
            else:
                cid = found[0]
                hits.append((ident, self.root(cid) if cid in redirect else cid, found[1]))

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
        elif len(roots) == 1 and not explicit_root:
            survivor = roots[0]
            origin = hits[0][2]  # every hit is on the survivor: the first one's owner
        else:
            ordered = sorted(roots, key=lambda c: (self._state(c).created_at, c))
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

        if fresh:
            self._attach(self._state(survivor), fresh, origin, event_id, flags)
        if p.traits:
            self._observe(self._state(survivor), p, origin, event_id)

        self._event_rows.append(
            [
                event_id,
                survivor,
                origin,
                p.type,
                p.timestamp,
                self.now,
                p.source,
                p.identities_json,
                p.traits or None,
                p.properties,
                flags or None,
            ]
        )
        return Outcome("accepted", survivor, flags=flags, merges=merge_ids)

    def _attach(
        self,
        state: CustState,
        fresh: list[Identifier],
        origin: str,
        event_id: str,
        flags: list[dict[str, Any]],
    ) -> None:
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
            self.ids[(ident.type, ident.value)] = (state.id, origin)
            self._ident_rows.append([state.id, origin, ident.type, ident.value, self.now, event_id])

    def _observe(self, state: CustState, p: Prepared, origin: str, event_id: str) -> None:
        key = graph.ts_key(p.timestamp)
        for name, value in p.traits.items():
            self._trait_rows.append([state.id, origin, name, value, p.timestamp, event_id])
            if key >= state.times.get(name, ""):
                state.times[name] = key
                if value is None:
                    state.traits.pop(name, None)
                else:
                    state.traits[name] = value
                state.dirty = True

    def _new_customer(self) -> str:
        cid = new_id("cus")
        self.custs[cid] = CustState(cid, self.now, {}, {}, new=True, counts={})
        self.new_customers.append(cid)
        return cid

    def _counts(self, state: CustState) -> dict[str, int]:
        if state.counts is None:  # loaded with the customer when needed; this is a safety net
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
        surv, gone = self._state(survivor), self._state(other)
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
            cust_rows: list[list[Any]] = []
            for cid in self.new_customers:
                state = self.custs.get(cid)
                traits = state.traits if state else {}
                key = graph.name_key(traits)
                cust_rows.append([cid, self.now, self.now, traits, state.times if state else {}, key])
                if state:
                    state.new = state.dirty = False
                    state.name_key = key
            fast_insert_rows(self.s, Customer, CUSTOMER_COLS, cust_rows)
            self.new_customers = []
        redirect = self.redirect
        tables = (
            (Identity, IDENTITY_COLS, self._ident_rows, 0),
            (Event, EVENT_COLS, self._event_rows, 1),
            (TraitHistory, TRAIT_COLS, self._trait_rows, 0),
        )
        for model, cols, rows, at in tables:
            if rows:
                if redirect:
                    for row in rows:
                        if row[at] in redirect:  # most rows belong to no merged-away profile
                            row[at] = self.root(row[at])
                fast_insert_rows(self.s, model, cols, rows)
                rows.clear()

    def _apply_merges(self) -> None:
        """Re-point rows stored before this batch to the survivors of the batch's merges."""
        if not self.merges:
            return
        # Each merged profile points at the survivor it was merged into; its rows go to the root of
        # the chain at once (moving them merge by merge in order ends in the same place).
        batchsql.update_customers(
            self.s,
            ("merged_into_id", "merged_at", "updated_at"),
            [[m.survivor_id, self.now, self.now, m.merged_id] for m in self.merges],
        )
        batchsql.move_owned(
            self.s,
            [(m.merged_id, self.root(m.merged_id)) for m in self.merges],
            [cast(Table, model.__table__) for model in graph.OWNED],
        )
        fast_insert_rows(
            self.s,
            Merge,
            MERGE_COLS,
            [
                [m.merge_id, m.survivor_id, m.merged_id, "identity", m.evidence, self.actor, self.now]
                for m in self.merges
            ],
        )

    def finish(self) -> None:
        self.flush()  # customers first: merges and rows refer to them
        self._apply_merges()
        roots = {self.root(c) for c in self.recompute}
        if roots:
            graph.recompute_traits(self.s, sorted(roots), self.now)
        with_key: list[list[Any]] = []
        same_key: list[list[Any]] = []
        for c in self.custs.values():
            if c.dirty and c.id not in roots:
                key = graph.name_key(c.traits)
                if key == c.name_key:
                    same_key.append([c.traits, c.times, self.now, c.id])
                else:
                    with_key.append([c.traits, c.times, key, self.now, c.id])
        batchsql.update_customers(self.s, ("traits", "trait_times", "updated_at"), same_key)
        batchsql.update_customers(self.s, ("traits", "trait_times", "name_key", "updated_at"), with_key)
