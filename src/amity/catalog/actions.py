"""Every change to the catalogue: products, locations, stock snapshots and deltas, reviews.

Reservations (the part where two agents race for the last pair) are in :mod:`amity.catalog.holds`.
Each function here runs inside :func:`amity.core.actions.perform`: one transaction, audit rows, and
domain events published after commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from amity.catalog import queries
from amity.catalog.models import Location, Product, Review, Stock, Variant
from amity.catalog.schemas import DeltaIn, LocationIn, ProductIn, ReviewIn, StockIn
from amity.core.actions import ActionContext, Conflict, NotFound
from amity.customers.queries import resolve_customer
from amity.db import utcnow
from amity.ids import new_id

UPSERT_CHUNK = 2000  # rows per multi-row statement


def _prefix(many: bool, key: str, i: int) -> str:
    """Field paths name the item in a bulk body (``products[3].``) and nothing in a single one."""
    return f"{key}[{i}]." if many else ""


# ---- products ----------------------------------------------------------------------------------
def create_products(ctx: ActionContext, products: list[ProductIn], many: bool = False) -> list[str]:
    """Products with their variants. Any SKU or code already taken refuses the whole call (409)."""
    s = ctx.session
    seen: dict[str, tuple[int, int]] = {}
    for i, p in enumerate(products):
        for j, v in enumerate(p.variants):
            if v.sku in seen:
                raise Conflict(
                    f"SKU {v.sku} appears twice in this call",
                    field=f"{_prefix(many, 'products', i)}variants[{j}].sku",
                )
            seen[v.sku] = (i, j)
    for sku in queries.variant_ids_by_skus(s, seen):
        i, j = seen[sku]
        raise Conflict(f"SKU {sku} already exists", field=f"{_prefix(many, 'products', i)}variants[{j}].sku")
    codes: dict[str, int] = {}
    for i, p in enumerate(products):
        if p.code:
            if p.code in codes:
                raise Conflict(
                    f"product code {p.code} appears twice in this call",
                    field=f"{_prefix(many, 'products', i)}code",
                )
            codes[p.code] = i
    if codes:
        for code in s.scalars(select(Product.code).where(Product.code.in_(list(codes)))):
            i = codes[str(code)]
            raise Conflict(f"product code {code} already exists", field=f"{_prefix(many, 'products', i)}code")
    now = utcnow()
    product_rows: list[dict[str, Any]] = []
    variant_rows: list[dict[str, Any]] = []
    for p in products:
        pid = new_id("prd")
        product_rows.append(
            {
                "id": pid,
                "code": p.code,
                "name": p.name,
                "name_key": p.name.lower(),
                "brand": p.brand,
                "category": p.category,
                "description": p.description,
                "attributes": p.attributes,
                "created_at": now,
                "updated_at": now,
            }
        )
        variant_rows += [
            {
                "id": new_id("var"),
                "product_id": pid,
                "sku": v.sku,
                "size": v.size,
                "colour": v.colour,
                "attributes": v.attributes,
                "created_at": now,
            }
            for v in p.variants
        ]
    s.execute(insert(Product), product_rows)
    if variant_rows:
        s.execute(insert(Variant), variant_rows)
    ids = [r["id"] for r in product_rows]
    ctx.audit("catalog.products.created", "product", ids[0], count=len(ids), variants=len(variant_rows))
    ctx.publish("catalog.products.created", product_ids=ids)
    return ids


# ---- locations ---------------------------------------------------------------------------------
def create_locations(ctx: ActionContext, locations: list[LocationIn], many: bool = False) -> list[str]:
    s = ctx.session
    codes: dict[str, int] = {}
    for i, loc in enumerate(locations):
        if loc.code:
            if loc.code in codes:
                raise Conflict(
                    f"location code {loc.code} appears twice in this call",
                    field=f"{_prefix(many, 'locations', i)}code",
                )
            codes[loc.code] = i
    if codes:
        for code in s.scalars(select(Location.code).where(Location.code.in_(list(codes)))):
            i = codes[str(code)]
            raise Conflict(
                f"location code {code} already exists", field=f"{_prefix(many, 'locations', i)}code"
            )
    now = utcnow()
    rows = [{"id": new_id("loc"), **loc.model_dump(), "created_at": now} for loc in locations]
    s.execute(insert(Location), rows)
    ids = [r["id"] for r in rows]
    ctx.audit("catalog.locations.created", "location", ids[0], count=len(ids))
    return ids


def require_location(s: Session, location_id: str) -> Location:
    loc = s.get(Location, location_id)
    if loc is None:
        raise NotFound(f"no location {location_id}", field="location_id")
    return loc


def _check_locations(s: Session, wanted: dict[str, int], key: str) -> None:
    found = set(s.scalars(select(Location.id).where(Location.id.in_(list(wanted)))))
    for loc, i in wanted.items():
        if loc not in found:
            raise NotFound(f"no location {loc}", field=f"{key}[{i}].location_id")


def _variants(s: Session, skus: dict[str, int], key: str) -> dict[str, str]:
    ids = queries.variant_ids_by_skus(s, skus)
    for sku, i in skus.items():
        if sku not in ids:
            raise NotFound(f"no variant with SKU {sku}", field=f"{key}[{i}].sku")
    return ids


def _first_index(values: list[str]) -> dict[str, int]:
    """value -> the index of its first appearance, so an error names the first offending item."""
    out: dict[str, int] = {}
    for i, v in enumerate(values):
        out.setdefault(v, i)
    return out


# ---- stock -------------------------------------------------------------------------------------
def put_inventory(ctx: ActionContext, items: list[StockIn], key: str = "items") -> int:
    """Snapshots: on hand becomes exactly the given quantity (reservations are kept as they are).
    One unknown SKU or location refuses the whole call, so a load is never half applied."""
    s = ctx.session
    if not items:
        return 0
    vids = _variants(s, _first_index([it.sku for it in items]), key)
    _check_locations(s, _first_index([it.location_id for it in items]), key)
    now = utcnow()
    # The same (sku, location) twice in one call: the later snapshot wins, as it would in two calls.
    latest = {(vids[it.sku], it.location_id): it.quantity for it in items}
    rows = [
        {"variant_id": v, "location_id": loc, "quantity": q, "reserved": 0, "updated_at": now}
        for (v, loc), q in latest.items()
    ]
    postgres = s.get_bind().dialect.name == "postgresql"
    stmt = pg_insert(Stock) if postgres else sqlite_insert(Stock)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Stock.variant_id, Stock.location_id],
        set_={"quantity": stmt.excluded.quantity, "updated_at": stmt.excluded.updated_at},
    )
    for i in range(0, len(rows), UPSERT_CHUNK):
        s.execute(stmt, rows[i : i + UPSERT_CHUNK])
    ctx.audit("catalog.inventory.put", "inventory", items[0].sku, rows=len(rows))
    ctx.publish("inventory.updated", kind="snapshot", rows=len(rows), skus=sorted(vids)[:1000])
    return len(rows)


def apply_deltas(ctx: ActionContext, deltas: list[DeltaIn]) -> int:
    """Relative changes (a sale -1, a delivery +12). A delta that would take on hand below zero refuses
    the call (409): stock figures that went negative would hide a missed snapshot."""
    s = ctx.session
    vids = _variants(s, _first_index([d.sku for d in deltas]), "deltas")
    _check_locations(s, _first_index([d.location_id for d in deltas]), "deltas")
    summed: dict[tuple[str, str], tuple[int, int]] = {}
    for i, d in enumerate(deltas):
        k = (vids[d.sku], d.location_id)
        summed[k] = (summed.get(k, (0, i))[0] + d.delta, i)
    now = utcnow()
    for (vid, loc), (delta, i) in summed.items():
        done = queries.changed(
            s.execute(
                update(Stock)
                .where(Stock.variant_id == vid, Stock.location_id == loc, Stock.quantity + delta >= 0)
                .values(quantity=Stock.quantity + delta, updated_at=now)
            )
        )
        if done:
            continue
        have = s.execute(
            select(Stock.quantity).where(Stock.variant_id == vid, Stock.location_id == loc)
        ).scalar()
        if have is not None or delta < 0:
            raise Conflict(
                f"on hand is {have or 0}; a change of {delta} would take it below zero",
                field=f"deltas[{i}].delta",
            )
        s.add(Stock(variant_id=vid, location_id=loc, quantity=delta, reserved=0, updated_at=now))
        s.flush()
    ctx.audit("catalog.inventory.deltas", "inventory", deltas[0].sku, rows=len(summed))
    ctx.publish("inventory.updated", kind="delta", rows=len(summed), skus=sorted(vids)[:1000])
    return len(summed)


# ---- reviews -----------------------------------------------------------------------------------
def post_review(ctx: ActionContext, data: ReviewIn) -> str:
    s = ctx.session
    if s.get(Product, data.product_id) is None:
        raise NotFound(f"no product {data.product_id}", field="product_id")
    customer_id = resolve_customer(s, data.customer_id) if data.customer_id else None
    rid = new_id("rev")
    now = utcnow()
    s.add(
        Review(
            id=rid,
            product_id=data.product_id,
            customer_id=customer_id,
            rating=data.rating,
            fit=data.fit,
            title=data.title,
            text=data.text,
            created_at=now,
        )
    )
    ctx.audit(
        "catalog.review.posted", "review", rid, product_id=data.product_id, rating=data.rating, fit=data.fit
    )
    if customer_id:
        ctx.publish(
            "review.posted",
            review_id=rid,
            customer_id=customer_id,
            product_id=data.product_id,
            rating=data.rating,
            fit=data.fit,
            at=now.isoformat(),
        )
    return rid
