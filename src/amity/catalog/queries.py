"""Reads of the catalogue, for this capability's API and for others (commerce orders, the console).

Stable for other capabilities: :func:`variant_by_sku`, :func:`variants_by_skus`,
:func:`product_of_variant`, :func:`stock_for`, :func:`product_out`, :func:`reservations_of`.
Everything returned is a JSON-ready dict.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import CursorResult, Result, func, select
from sqlalchemy.orm import Session

from amity.catalog import stock_lookup
from amity.catalog.models import FITS, Location, Product, Reservation, Review, Variant
from amity.core.actions import Invalid, NotFound

EARTH_KM = stock_lookup.EARTH_KM
SKU_CHUNK = 500  # bound parameters per IN (...): far below SQLite's and psycopg's limits


def changed(result: Result[Any]) -> int:
    """How many rows an UPDATE changed: what conditional claims (reserve, release, expire) rely on."""
    return cast(CursorResult[Any], result).rowcount


# ---- geography ----------------------------------------------------------------------------------
def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle (haversine) distance: good to ~0.5 %, plenty to say which store is nearer."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def parse_near(value: str, field: str = "near") -> tuple[float, float]:
    """``"38.72,-9.14"`` -> (lat, lon), refusing anything that is not a point on Earth."""
    parts = value.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise Invalid("expected LAT,LON in degrees, e.g. 38.72,-9.14", field=field) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # also refuses nan
        raise Invalid("latitude must be within ±90 and longitude within ±180", field=field)
    return lat, lon


# ---- products and variants ---------------------------------------------------------------------
def variant_dict(v: Variant, product: Product | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": v.id,
        "sku": v.sku,
        "product_id": v.product_id,
        "size": v.size,
        "colour": v.colour,
        "attributes": v.attributes,
    }
    if product is not None:
        out["product_name"] = product.name
        out["product_code"] = product.code
        out["category"] = product.category
    return out


def variant_by_sku(s: Session, sku: str) -> dict[str, Any] | None:
    """The variant with this SKU (with its product's name, code and category), or None."""
    row = s.execute(select(Variant, Product).join(Product).where(Variant.sku == sku)).first()
    return variant_dict(row[0], row[1]) if row else None


def variants_by_skus(s: Session, skus: Iterable[str]) -> dict[str, dict[str, Any]]:
    """SKU -> variant for every SKU that exists (unknown ones are simply absent)."""
    wanted = list(dict.fromkeys(skus))
    out: dict[str, dict[str, Any]] = {}
    for i in range(0, len(wanted), SKU_CHUNK):
        chunk = wanted[i : i + SKU_CHUNK]
        for v, p in s.execute(select(Variant, Product).join(Product).where(Variant.sku.in_(chunk))):
            out[v.sku] = variant_dict(v, p)
    return out


def product_codes_taken(s: Session, codes: Iterable[str]) -> set[str]:
    """Which of these product codes the catalogue already has (a shop's re-sent export)."""
    wanted = list(dict.fromkeys(codes))
    out: set[str] = set()
    for i in range(0, len(wanted), SKU_CHUNK):
        out.update(s.scalars(select(Product.code).where(Product.code.in_(wanted[i : i + SKU_CHUNK]))))
    return out


def location_ids_by_codes(s: Session, codes: Iterable[str]) -> dict[str, str]:
    """A store's own code -> its location id: how a shop's stock file names its stores."""
    wanted = list(dict.fromkeys(codes))
    out: dict[str, str] = {}
    for i in range(0, len(wanted), SKU_CHUNK):
        rows = s.execute(
            select(Location.code, Location.id).where(Location.code.in_(wanted[i : i + SKU_CHUNK]))
        )
        out.update((str(code), lid) for code, lid in rows)
    return out


def variant_ids_by_skus(s: Session, skus: Iterable[str]) -> dict[str, str]:
    """SKU -> variant id, the lean form bulk stock loads need."""
    wanted = list(dict.fromkeys(skus))
    out: dict[str, str] = {}
    for i in range(0, len(wanted), SKU_CHUNK):
        rows = s.execute(select(Variant.sku, Variant.id).where(Variant.sku.in_(wanted[i : i + SKU_CHUNK])))
        out.update((sku, vid) for sku, vid in rows)  # dict(rows) would take Result.keys() for a mapping
    return out


def product_of_variant(s: Session, variant: str) -> dict[str, Any] | None:
    """The product (as :func:`product_out`) of a variant given by id or SKU, or None."""
    pid = s.execute(
        select(Variant.product_id).where((Variant.id == variant) | (Variant.sku == variant))
    ).scalar()
    return product_out(s, pid) if pid else None


def product_by_code(s: Session, code: str) -> dict[str, Any] | None:
    pid = s.execute(select(Product.id).where(Product.code == code)).scalar()
    return product_out(s, pid) if pid else None


def fit_summary(s: Session, product_id: str) -> dict[str, Any]:
    """Ratings and fit votes of one product, and the verdict: a fit is the verdict when it has more
    than half of the fit votes (so one odd review among many does not flip it)."""
    rows = s.execute(
        select(Review.rating, Review.fit, func.count())
        .where(Review.product_id == product_id)
        .group_by(Review.rating, Review.fit)
    ).all()
    fits = dict.fromkeys(FITS, 0)
    ratings = 0
    total = 0
    for rating, fit, n in rows:
        total += n
        ratings += rating * n
        if fit in fits:
            fits[fit] += n
    votes = sum(fits.values())
    verdict = next((f for f, n in fits.items() if votes and n * 2 > votes), None)
    return {
        "reviews": total,
        "average_rating": round(ratings / total, 2) if total else None,
        "fit_votes": fits,
        "fit": verdict,
        "fit_label": {"small": "runs small", "true": "true to size", "large": "runs large"}.get(
            verdict or ""
        ),
    }


def product_out(s: Session, product_id: str) -> dict[str, Any]:
    p = s.get(Product, product_id)
    if p is None:
        raise NotFound(f"no product {product_id}", field="product_id")
    variants = s.scalars(select(Variant).where(Variant.product_id == p.id).order_by(Variant.sku)).all()
    return {
        "id": p.id,
        "code": p.code,
        "name": p.name,
        "brand": p.brand,
        "category": p.category,
        "description": p.description,
        "attributes": p.attributes,
        "created_at": p.created_at.isoformat(),
        "updated_at": p.updated_at.isoformat(),
        "variants": [variant_dict(v) for v in variants],
        "fit": fit_summary(s, p.id),
    }


def search_products(s: Session, q: str, limit: int = 20) -> list[dict[str, Any]]:
    """Name prefix, product code or SKU: the things an agent types (index lookups, not LIKE '%…%')."""
    text = q.strip()
    if not text:
        raise Invalid("empty search", field="q")
    key = text.lower()
    ids: list[str] = list(s.scalars(select(Product.id).where(Product.code == text).limit(limit)))
    ids += s.scalars(select(Variant.product_id).where(Variant.sku == text).limit(limit))
    ids += s.scalars(
        select(Product.id)
        .where(Product.name_key >= key, Product.name_key < key + "\uffff")
        .order_by(Product.name_key)
        .limit(limit)
    )
    return [product_out(s, pid) for pid in list(dict.fromkeys(ids))[:limit]]


# ---- locations and stock -----------------------------------------------------------------------
def location_out(loc: Location) -> dict[str, Any]:
    return {
        "id": loc.id,
        "code": loc.code,
        "name": loc.name,
        "kind": loc.kind,
        "address": loc.address,
        "city": loc.city,
        "country": loc.country,
        "latitude": loc.latitude,
        "longitude": loc.longitude,
        "timezone": loc.timezone,
        "phone": loc.phone,
        "created_at": loc.created_at.isoformat(),
    }


def locations_by_ids(s: Session, ids: list[str]) -> list[dict[str, Any]]:
    by_id = {r.id: location_out(r) for r in s.scalars(select(Location).where(Location.id.in_(ids)))}
    return [by_id[i] for i in ids if i in by_id]


def list_locations(s: Session, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    rows = s.scalars(select(Location).order_by(Location.name, Location.id).limit(limit).offset(offset))
    return {"items": [location_out(r) for r in rows], "total": s.scalar(select(func.count(Location.id)))}


def stock_for(
    s: Session,
    sku: str,
    near: tuple[float, float] | None = None,
    *,
    in_stock_only: bool = False,
    limit: int | None = None,
) -> dict[str, Any]:
    """Quantity per location for one SKU: nearest first when ``near`` (lat, lon) is given, else the
    most available first. ``available`` is on hand minus live reservations (never below 0).
    (:mod:`amity.catalog.stock_lookup` has the how; ``GET /api/v1/inventory`` takes its JSON form.)"""
    return stock_lookup.as_dict(stock_lookup.lookup(s, sku, near, in_stock_only=in_stock_only, limit=limit))


# ---- reservations ------------------------------------------------------------------------------
def reservation_out(
    r: Reservation, sku: str | None = None, location_name: str | None = None
) -> dict[str, Any]:
    return {
        "id": r.id,
        "sku": sku,
        "variant_id": r.variant_id,
        "location_id": r.location_id,
        "location_name": location_name,
        "customer_id": r.customer_id,
        "conversation_id": r.conversation_id,
        "quantity": r.quantity,
        "status": r.status,
        "expires_at": r.expires_at.isoformat(),
        "created_by": r.created_by,
        "created_at": r.created_at.isoformat(),
        "ended_at": r.ended_at.isoformat() if r.ended_at else None,
        "ended_by": r.ended_by,
    }


def reservation(s: Session, reservation_id: str) -> dict[str, Any]:
    row = s.execute(
        select(Reservation, Variant.sku, Location.name)
        .join(Variant, Variant.id == Reservation.variant_id)
        .join(Location, Location.id == Reservation.location_id)
        .where(Reservation.id == reservation_id)
    ).first()
    if row is None:
        raise NotFound(f"no reservation {reservation_id}", field="reservation_id")
    return reservation_out(row[0], row[1], row[2])


def reservations_of(
    s: Session, customer_ids: list[str], *, status: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """A person's reservations, newest first (pass every profile id: customers.queries.profile_ids)."""
    q = (
        select(Reservation, Variant.sku, Location.name)
        .join(Variant, Variant.id == Reservation.variant_id)
        .join(Location, Location.id == Reservation.location_id)
        .where(Reservation.customer_id.in_(customer_ids))
    )
    if status:
        q = q.where(Reservation.status == status)
    rows = s.execute(q.order_by(Reservation.created_at.desc(), Reservation.id.desc()).limit(limit))
    return [reservation_out(r, sku, name) for r, sku, name in rows]


def review_out(r: Review) -> dict[str, Any]:
    return {
        "id": r.id,
        "product_id": r.product_id,
        "customer_id": r.customer_id,
        "rating": r.rating,
        "fit": r.fit,
        "title": r.title,
        "text": r.text,
        "created_at": r.created_at.isoformat(),
    }


def review(s: Session, review_id: str) -> dict[str, Any]:
    r = s.get(Review, review_id)
    if r is None:
        raise NotFound(f"no review {review_id}", field="review_id")
    return review_out(r)


def reviews_of(s: Session, product_id: str, limit: int = 50) -> list[dict[str, Any]]:
    rows = s.scalars(
        select(Review)
        .where(Review.product_id == product_id)
        .order_by(Review.created_at.desc(), Review.id.desc())
        .limit(limit)
    )
    return [review_out(r) for r in rows]
