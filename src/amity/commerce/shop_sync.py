"""Loading a business's shop into Amity through an adapter: stores, products, stock, loyalty, coupons,
orders, shipments, subscriptions, appointments and devices, in the order they depend on each other.

An adapter (:class:`ShopAdapter`) only reads the other system and hands over records: plain dicts in
the shape of the API's bodies (docs/commerce.md), each with where it came from (``orders.jsonl:12``)
so a refusal can point at it. Everything else is here and shared by every adapter: validation with
the API's own models, the mapping of the shop's keys to Amity's (a store's ``code``, a programme's
name), batches of at most 1,000 through the same actions the bulk endpoints use (one transaction,
audit rows, timeline events), and a report per kind. A refused record never loses the others, and
running a sync again changes nothing that has not changed: every load is an upsert or skips what is
there.

The built-in adapter is :mod:`amity.commerce.reference_shop` (a folder of JSON Lines files).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from amity.catalog import actions as catalog
from amity.catalog import queries as catalog_queries
from amity.catalog.schemas import LocationIn, ProductIn, Quantity, Sku, StockIn
from amity.commerce import loyalty, members, profile, shipments
from amity.commerce.models import LoyaltyProgramme
from amity.commerce.orders import Draft, place
from amity.commerce.schemas import (
    AppointmentIn,
    CouponIn,
    DeviceIn,
    MembershipIn,
    OrderIn,
    ProgrammeIn,
    ShipmentFeedIn,
    SubscriptionIn,
)
from amity.core.actions import ActionContext, ActionError, Actor, App, perform
from amity.core.inputs import Input

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
BATCH = 1000
KEEP_PROBLEMS = 200  # per kind: enough to fix a feed, bounded for a feed that is wrong throughout


@dataclass(frozen=True)
class Record:
    where: str  # "orders.jsonl:12": what a person opens to fix it
    data: Any


@dataclass(frozen=True)
class Unreadable:
    """A record the adapter could not read (a line that is not JSON): reported, never guessed at."""

    reason: str


class ShopAdapter(Protocol):
    """What a shop adapter gives: records of one kind at a time (any iterable; read lazily)."""

    name: str

    def records(self, kind: str) -> Iterable[Record]: ...


@dataclass
class KindReport:
    accepted: int = 0
    unchanged: int = 0
    rejected: int = 0
    problems: list[dict[str, str]] = field(default_factory=list)

    def refuse(self, where: str, fld: str, message: str) -> None:
        self.rejected += 1
        if len(self.problems) < KEEP_PROBLEMS:
            self.problems.append({"where": where, "field": fld, "message": message})


@dataclass
class SyncReport:
    adapter: str
    kinds: dict[str, KindReport] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        return sum(k.rejected for k in self.kinds.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "adapter": self.adapter,
            "rejected": self.rejected,
            "kinds": {
                k: {
                    "accepted": r.accepted,
                    "unchanged": r.unchanged,
                    "rejected": r.rejected,
                    "problems": r.problems,
                }
                for k, r in self.kinds.items()
            },
        }


# ---- records to validated items ------------------------------------------------------------------
def _field_of(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "record"


def _validated(model: type[M], records: Iterable[Record], report: KindReport) -> Iterator[tuple[Record, M]]:
    for rec in records:
        if isinstance(rec.data, Unreadable):
            report.refuse(rec.where, "record", rec.data.reason)
            continue
        if not isinstance(rec.data, dict):
            report.refuse(rec.where, "record", "must be a JSON object")
            continue
        try:
            yield rec, model.model_validate(rec.data)
        except ValidationError as exc:
            first = exc.errors()[0]
            report.refuse(rec.where, _field_of(tuple(first["loc"])), first["msg"])


def _chunks(items: Iterable[T]) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(islice(it, BATCH)):
        yield chunk


def _tally(report: KindReport, pairs: list[tuple[Record, Any]], results: list[dict[str, Any]]) -> None:
    """Per-item results of a bulk loader (statuses accepted / unchanged / duplicate / rejected)."""
    for (rec, _), r in zip(pairs, results, strict=True):
        if r["status"] == "rejected":
            err = (r.get("errors") or [{"field": "record", "message": "refused"}])[0]
            report.refuse(rec.where, err["field"] or "record", err["message"])
        elif r["status"] == "accepted":
            report.accepted += 1
        else:
            report.unchanged += 1


def _guarded(
    report: KindReport,
    chunk: list[tuple[Record, Any]],
    app: App,
    actor: Actor,
    action: Callable[..., Any],
    *args: Any,
) -> Any:
    """One batch's transaction (``perform(app, actor, action, *args)``); if the action refuses the batch
    as a whole (a store another process added a moment ago), every record of it is reported with the
    reason, and the sync goes on."""
    try:
        return perform(app, actor, action, *args)
    except ActionError as exc:
        for rec, _ in chunk:
            report.refuse(rec.where, exc.field or "record", exc.message)
        return None


# ---- one function per kind ---------------------------------------------------------------------
class StockRecord(Input):
    """A stock snapshot as a shop knows it: the store by its own code, not Amity's id."""

    sku: Sku
    location: Sku  # the store's code, which has a SKU's shape
    quantity: Quantity


def _locations(app: App, actor: Actor, records: Iterable[Record], report: KindReport) -> None:
    for chunk in _chunks(_validated(LocationIn, records, report)):
        fresh: dict[str, tuple[Record, LocationIn]] = {}
        for rec, loc in chunk:
            if not loc.code:
                report.refuse(rec.where, "code", "a store needs its code (stock and orders name it)")
            elif loc.code in fresh:
                report.refuse(rec.where, "code", f"location code {loc.code} appears twice")
            else:
                fresh[loc.code] = (rec, loc)
        with app.db.read() as s:
            known = set(catalog_queries.location_ids_by_codes(s, fresh))
        report.unchanged += len(known & set(fresh))
        new = [(rec, loc) for code, (rec, loc) in fresh.items() if code not in known]
        items = [loc for _, loc in new]
        if new and _guarded(report, new, app, actor, catalog.create_locations, items, True):
            report.accepted += len(new)


def _products(app: App, actor: Actor, records: Iterable[Record], report: KindReport) -> None:
    for chunk in _chunks(_validated(ProductIn, records, report)):
        skus = {v.sku for _, p in chunk for v in p.variants}
        codes = {p.code for _, p in chunk if p.code}
        with app.db.read() as s:
            taken = set(catalog_queries.variant_ids_by_skus(s, skus))
            known_codes = catalog_queries.product_codes_taken(s, codes)
        new: list[tuple[Record, ProductIn]] = []
        seen: set[str] = set()
        seen_codes: set[str] = set()
        for rec, p in chunk:
            mine = {v.sku for v in p.variants}
            if (p.code and p.code in known_codes) or (mine and mine <= taken):
                report.unchanged += 1  # products are loaded once; the shop's later changes are stock
            elif p.code and p.code in seen_codes:
                report.refuse(rec.where, "code", f"product code {p.code} appears twice")
            elif mine & (taken | seen):
                sku = sorted(mine & (taken | seen))[0]
                report.refuse(rec.where, "variants", f"SKU {sku} belongs to another product")
            else:
                seen |= mine
                seen_codes |= {p.code} if p.code else set()
                new.append((rec, p))
        items = [p for _, p in new]
        if new and _guarded(report, new, app, actor, catalog.create_products, items, True):
            report.accepted += len(new)


def _inventory(app: App, actor: Actor, records: Iterable[Record], report: KindReport) -> None:
    for chunk in _chunks(_validated(StockRecord, records, report)):
        with app.db.read() as s:
            ids = catalog_queries.location_ids_by_codes(s, {r.location for _, r in chunk})
            variants = catalog_queries.variant_ids_by_skus(s, {r.sku for _, r in chunk})
        items: list[StockIn] = []
        kept: list[tuple[Record, Any]] = []
        for rec, r in chunk:
            if r.location not in ids:
                report.refuse(rec.where, "location", f"no store with code {r.location}")
            elif r.sku not in variants:
                report.refuse(rec.where, "sku", f"unknown SKU {r.sku!r}: not in the catalogue")
            else:
                items.append(StockIn(sku=r.sku, location_id=ids[r.location], quantity=r.quantity))
                kept.append((rec, r))
        if items and _guarded(report, kept, app, actor, catalog.put_inventory, items):
            report.accepted += len(items)


def _programmes(app: App, actor: Actor, records: Iterable[Record], report: KindReport) -> None:
    for rec, p in _validated(ProgrammeIn, records, report):
        with app.db.read() as s:
            exists = s.scalar(select(LoyaltyProgramme.id).where(LoyaltyProgramme.name == p.name))
        if exists:
            report.unchanged += 1
            continue
        if _guarded(report, [(rec, p)], app, actor, loyalty.create_programme, p):
            report.accepted += 1


def _with_programme_ids(app: App, records: Iterable[Record], report: KindReport) -> Iterator[Record]:
    """Memberships name their programme as the shop does (``"programme": "Trail Club"``)."""
    with app.db.read() as s:
        by_name = {str(n): str(i) for n, i in s.execute(select(LoyaltyProgramme.name, LoyaltyProgramme.id))}
    for rec in records:
        data = rec.data
        if isinstance(data, dict) and "programme" in data and "programme_id" not in data:
            data = {k: v for k, v in data.items() if k != "programme"}
            pid = by_name.get(str(rec.data["programme"]))
            if pid is None:
                report.refuse(rec.where, "programme", f"no loyalty programme named {rec.data['programme']!r}")
                continue
            data["programme_id"] = pid
        yield Record(rec.where, data)


Loader = Callable[[ActionContext, App, list[Any], str], list[dict[str, Any]]]


def _bulk(
    model: type[BaseModel], loader: Loader
) -> Callable[[App, Actor, Iterable[Record], KindReport], None]:
    def run(app: App, actor: Actor, records: Iterable[Record], report: KindReport) -> None:
        for chunk in _chunks(_validated(model, records, report)):
            items = [item for _, item in chunk]
            results = _guarded(report, chunk, app, actor, loader, app, items, "")
            if results is not None:
                _tally(report, chunk, results)

    return run


def _orders(app: App, actor: Actor, records: Iterable[Record], report: KindReport) -> None:
    for chunk in _chunks(_validated(OrderIn, records, report)):
        drafts = [Draft(item=o) for _, o in chunk]
        results = _guarded(report, chunk, app, actor, place, app, drafts)
        if results is not None:
            _tally(report, chunk, results)


def _memberships(app: App, actor: Actor, records: Iterable[Record], report: KindReport) -> None:
    _bulk(MembershipIn, members.load_memberships)(
        app, actor, _with_programme_ids(app, records, report), report
    )


# In the order they depend on each other: stock needs stores and products, orders need products,
# shipments need orders, memberships need programmes.
KINDS: dict[str, Callable[[App, Actor, Iterable[Record], KindReport], None]] = {
    "locations": _locations,
    "products": _products,
    "inventory": _inventory,
    "loyalty_programmes": _programmes,
    "memberships": _memberships,
    "coupons": _bulk(CouponIn, members.load_coupons),
    "orders": _orders,
    "shipments": _bulk(ShipmentFeedIn, shipments.load_shipments),
    "subscriptions": _bulk(SubscriptionIn, profile.load_subscriptions),
    "appointments": _bulk(AppointmentIn, profile.load_appointments),
    "devices": _bulk(DeviceIn, profile.load_devices),
}


def sync(app: App, actor: Actor, adapter: ShopAdapter, kinds: Iterable[str] | None = None) -> SyncReport:
    """Load every kind the adapter has (or only ``kinds``), in dependency order."""
    wanted = list(KINDS) if kinds is None else [k for k in KINDS if k in set(kinds)]
    report = SyncReport(adapter=adapter.name)
    for kind in wanted:
        report.kinds[kind] = KindReport()
        KINDS[kind](app, actor, adapter.records(kind), report.kinds[kind])
    return report
