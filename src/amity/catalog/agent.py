"""What an agent does with the catalogue in a conversation: find stock nearest the customer, and
recommend a size. Each is an action (audited) and, given a conversation, an internal note on it.
Reserving is :func:`amity.catalog.holds.reserve`, which notes the conversation the same way.

Where the customer is (docs/catalog.md, "Nearest first"), first that applies:

1. a declared trait ``location`` holding "LAT,LON";
2. their last store visit: the newest of their 50 latest timeline events whose properties name one
   of our stores (``location_id``, or ``store`` holding a store's code, id or name) — POS sales, calls
   to a store, reservations;
3. a declared trait ``city`` naming the city of one of our locations.

What they bought: ``order.placed`` events on their timeline (``properties.items[].sku/size``, or a
top-level ``properties.size``), read through the customer core's queries.
"""

from __future__ import annotations

import importlib
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amity.catalog import queries, sizing
from amity.catalog.models import Location
from amity.conversations.actions import add_message
from amity.conversations.changes import get_conversation
from amity.core.actions import ActionContext, ActionError, Conflict
from amity.customers.queries import customer_360, resolve_customer, timeline

VISIT_WINDOW = 50  # timeline events looked at for the last store visit
ORDER_WINDOW = 200  # order.placed events looked at for sizes


# ---- where the customer is ---------------------------------------------------------------------
def _stores(s: Session) -> dict[str, tuple[str, float, float]]:
    """Every key a store is known by (id, code, lower-cased name) -> (name, lat, lon)."""
    out: dict[str, tuple[str, float, float]] = {}
    rows = s.execute(
        select(Location.id, Location.code, Location.name, Location.latitude, Location.longitude).where(
            Location.kind == "store", Location.latitude.is_not(None), Location.longitude.is_not(None)
        )
    )
    for lid, code, name, lat, lon in rows:
        for key in (lid, code, name.lower()):
            if key and lat is not None and lon is not None:
                out.setdefault(key, (name, lat, lon))
    return out


def customer_origin(s: Session, customer_id: str) -> dict[str, Any] | None:
    """Where this customer is, as ``{"latitude", "longitude", "source", "detail"}``, or None."""
    c = customer_360(s, customer_id, limit=VISIT_WINDOW)
    traits = c["traits"] or {}
    where = traits.get("location")
    if isinstance(where, str):
        try:
            lat, lon = queries.parse_near(where, field="location")
        except ActionError:
            pass  # a malformed trait value only means "not known"
        else:
            return {"latitude": lat, "longitude": lon, "source": "trait:location", "detail": where}
    stores = _stores(s)
    for ev in c["events"]["items"]:
        props = ev.get("properties") or {}
        for key in ("location_id", "store"):
            value = props.get(key)
            hit = (stores.get(value) or stores.get(value.lower())) if isinstance(value, str) else None
            if hit:
                name, lat, lon = hit
                day = ev["timestamp"][:10]
                return {
                    "latitude": lat,
                    "longitude": lon,
                    "source": "store_visit",
                    "detail": f"{name} ({ev['type']}, {day})",
                }
    city = traits.get("city")
    if isinstance(city, str) and city.strip():
        match = s.execute(
            select(Location.latitude, Location.longitude)
            .where(Location.latitude.is_not(None), Location.longitude.is_not(None))
            .where(func.lower(Location.city) == city.strip().lower())
            .limit(1)
        ).first()
        if match:
            return {
                "latitude": match[0],
                "longitude": match[1],
                "source": "trait:city",
                "detail": city.strip(),
            }
    return None


# ---- what they bought --------------------------------------------------------------------------
def bought_sizes(s: Session, customer_id: str, product: dict[str, Any]) -> list[str]:
    """Sizes from the customer's orders that say something about this product's size: items of this
    very product, of a product in the same category, or (unknown SKUs) sizes of the same kind."""
    root = resolve_customer(s, customer_id)
    orders = timeline(s, root, limit=ORDER_WINDOW, type_="order.placed")["items"]
    lines: list[tuple[str | None, str]] = []
    for ev in orders:
        props = ev.get("properties") or {}
        items = props.get("items")
        if isinstance(items, list) and items:
            for it in items:
                if isinstance(it, dict) and (size := sizing.normalise(it.get("size"))):
                    sku = it.get("sku")
                    lines.append((sku if isinstance(sku, str) else None, size))
        elif size := sizing.normalise(props.get("size")):
            lines.append((None, size))
    known = queries.variants_by_skus(s, [sku for sku, _ in lines if sku])
    offered = [v["size"] for v in product["variants"] if v["size"]]
    kinds = {sizing.size_key(x)[0] for x in offered}
    by_code: dict[str, dict[str, Any] | None] = {}
    out: list[str] = []
    for sku, size in lines:
        v = known.get(sku or "")
        if v is not None:
            same = v["product_id"] == product["id"] or (
                product["category"] is not None and v["category"] == product["category"]
            )
        else:
            # Shops often record a sale by style code ("NW-TRL-01"), not by variant SKU.
            if sku and sku not in by_code:
                by_code[sku] = queries.product_by_code(s, sku)
            other = by_code.get(sku) if sku else None
            if other is not None:
                same = other["id"] == product["id"] or (
                    product["category"] is not None and other["category"] == product["category"]
                )
            else:
                # An item we cannot place (another shop's SKU): its size still counts when it is the
                # same kind of size as this product's (numbers for shoes, letters for garments).
                same = sizing.size_key(size)[0] in kinds
        if same:
            out.append(size)
    return out


def may_personalise(s: Session, customer_id: str) -> tuple[bool, str]:
    """Ask the consent policy whether this person's data may be used to tailor advice.

    The consent capability provides ``amity.consent.policy.may_profile``; where it is not installed
    the answer is yes (service advice on the customer's own request), and the reason says so.
    """
    try:
        policy: Any = importlib.import_module("amity.consent.policy")
    except ImportError:
        return True, "no consent policy installed"
    check = getattr(policy, "may_profile", None)
    if check is None:
        return True, "no consent policy installed"
    return bool(check(s, customer_id)), "consent policy"


def size_advice(s: Session, product_id: str, customer_id: str) -> dict[str, Any]:
    product = queries.product_out(s, product_id)
    root = resolve_customer(s, customer_id)
    fit = product["fit"]["fit"]
    allowed, why = may_personalise(s, root)
    base = {"product_id": product["id"], "customer_id": root, "fit": fit}
    if not allowed:
        reason = "the customer has not allowed their data to be used for personal advice"
        return {**base, "allowed": False, "size": None, "sku": None, "reason": reason, "bought_sizes": []}
    bought = bought_sizes(s, root, product)
    offered = [v["size"] for v in product["variants"] if v["size"]]
    size, reason = sizing.recommend(offered, bought, fit)
    sku = next((v["sku"] for v in product["variants"] if size and v["size"] == size), None)
    return {
        **base,
        "allowed": True,
        "size": size,
        "sku": sku,
        "reason": reason,
        "bought_sizes": sorted(set(bought), key=sizing.size_key),
        "consent": why,
    }


# ---- the actions -------------------------------------------------------------------------------
def _conversation_customer(
    ctx: ActionContext, conversation_id: str | None, customer_id: str | None
) -> str | None:
    if conversation_id:
        conv = get_conversation(ctx, conversation_id)
        if conv.merged_into_id:
            raise Conflict(
                f"conversation {conv.id} was merged into {conv.merged_into_id}", field="conversation_id"
            )
        return customer_id or conv.customer_id
    return customer_id


def _distance(d: float | None) -> str:
    return "" if d is None else f", {d:,.0f} km"


def find_stock(
    ctx: ActionContext,
    sku: str,
    conversation_id: str | None = None,
    customer_id: str | None = None,
    near: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Stock of one SKU at every location, nearest the customer first when we know where they are."""
    s = ctx.session
    customer_id = _conversation_customer(ctx, conversation_id, customer_id)
    origin: dict[str, Any] | None = None
    if near is not None:
        origin = {"latitude": near[0], "longitude": near[1], "source": "near", "detail": "given"}
    elif customer_id:
        origin = customer_origin(s, customer_id)
    point = (origin["latitude"], origin["longitude"]) if origin else None
    out = queries.stock_for(s, sku, point)
    out["origin"] = origin
    ctx.audit(
        "catalog.stock.looked_up",
        "variant",
        out["variant_id"],
        sku=sku,
        conversation_id=conversation_id,
        customer_id=customer_id,
        origin=origin["source"] if origin else None,
    )
    if conversation_id:
        with_stock = [i for i in out["locations"] if i["available"] > 0]
        shown = "; ".join(
            f"{i['name']} {i['available']}{_distance(i['distance_km'])}" for i in with_stock[:5]
        )
        where = f" Nearest the customer ({origin['detail']})." if origin else ""
        text = (
            f"Stock of {sku} ({out['product_name']}, size {out['size'] or '—'}): "
            f"{out['total_available']} available at {len(with_stock)} locations."
            f"{where} {shown or 'None in stock anywhere.'}"
        )
        add_message(ctx, conversation_id, text=text.strip(), note=True)
    return out


def recommend_size(
    ctx: ActionContext, product_id: str, customer_id: str, conversation_id: str | None = None
) -> dict[str, Any]:
    """Size advice with its reason; with a conversation, written to it as an internal note."""
    customer_id = _conversation_customer(ctx, conversation_id, customer_id) or customer_id
    advice = size_advice(ctx.session, product_id, customer_id)
    ctx.audit(
        "catalog.size.recommended",
        "product",
        product_id,
        customer_id=advice["customer_id"],
        conversation_id=conversation_id,
        size=advice["size"],
        allowed=advice["allowed"],
    )
    if conversation_id:
        name = queries.product_out(ctx.session, product_id)["name"]
        text = f"Size advice for {name}: {advice['reason']}."
        add_message(ctx, conversation_id, text=text, note=True)
    return advice
