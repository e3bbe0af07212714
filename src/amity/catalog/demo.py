"""Northwind Outfitters' catalogue for the demo (``amity.demo`` calls :func:`load_catalog_demo`).

The six stores of the demo retailer plus the web warehouse, every product the demo customers buy
(the same style codes as their ``order.placed`` events), stock everywhere — except the Ridgeline
Trail Runner in 6.5: its last pair is in Lisbon, about 2,000 km from Edinburgh — and reviews that say
the Ridgeline runs small. Loading twice stores nothing new.
"""

from __future__ import annotations

import random

from sqlalchemy import select

from amity.catalog import actions
from amity.catalog.models import Product
from amity.catalog.schemas import LocationIn, ProductIn, ReviewIn, StockIn, VariantIn
from amity.core.actions import Actor, App, perform

ACTOR = Actor(kind="system", id="demo", role="admin", name="Demo data loader")
SHOE_SIZES = ("5", "5.5", "6", "6.5", "7", "7.5", "8", "8.5", "9")
APPAREL_SIZES = ("XS", "S", "M", "L", "XL")
TRAIL = "NW-TRL-01"
LAST_PAIR = (f"{TRAIL}-6.5", "lis-ch")
# code, name, city, country, lat, lon, time zone, phone, address
LOCATIONS = (
    ("lon-cg", "London Covent Garden", "London", "GB", 51.5117, -0.1240, "Europe/London", "+442079460001",
     "12 King Street, London WC2E 8HN"),
    ("man-nq", "Manchester Northern Quarter", "Manchester", "GB", 53.4840, -2.2360, "Europe/London", "+441614960002",
     "40 Oldham Street, Manchester M1 1JN"),
    ("edi-ps", "Edinburgh Princes Street", "Edinburgh", "GB", 55.9521, -3.1965, "Europe/London", "+441314960003",
     "101 Princes Street, Edinburgh EH2 3AA"),
    ("dub-gs", "Dublin Grafton Street", "Dublin", "IE", 53.3410, -6.2600, "Europe/Dublin", "+35319060004",
     "88 Grafton Street, Dublin 2"),
    ("lis-ch", "Lisbon Chiado", "Lisbon", "PT", 38.7107, -9.1420, "Europe/Lisbon", "+351210000005",
     "Rua Garrett 50, 1200-204 Lisboa"),
    ("opo-sc", "Porto Santa Catarina", "Porto", "PT", 41.1496, -8.6060, "Europe/Lisbon", "+351220000006",
     "Rua de Santa Catarina 200, 4000-442 Porto"),
)  # fmt: skip
WAREHOUSE = ("web", "Northwind web warehouse", "Milton Keynes", "GB", 52.0406, -0.7594, "Europe/London",
             "+441908000007", "Unit 7, Kiln Farm, Milton Keynes MK11 3EH")  # fmt: skip
# code, name, kind
PRODUCTS = (
    (TRAIL, "Ridgeline Trail Runner", "shoes"),
    ("NW-HIK-02", "Summit Mid GTX Hiking Boot", "shoes"),
    ("NW-CTY-03", "Harbour Leather Sneaker", "shoes"),
    ("NW-SND-04", "Tidewater Sandal", "shoes"),
    ("NW-RUN-05", "Tempo Road Runner", "shoes"),
    ("NW-JKT-10", "Stormshell Rain Jacket", "apparel"),
    ("NW-FLC-11", "Cairn Fleece", "apparel"),
    ("NW-SCK-12", "Merino Hiking Socks (2-pack)", "apparel"),
    ("NW-BPK-20", "Trailhead 28L Daypack", "gear"),
    ("NW-BTL-21", "Insulated Bottle 750 ml", "gear"),
    ("NW-PLS-22", "Carbon Trekking Poles", "gear"),
)
# (rating, fit, title, text) for the Ridgeline: most say it runs small
TRAIL_REVIEWS = (
    (4, "small", "Great, but runs small", "Lovely once I went half a size up; it runs small."),
    (5, "small", "Go half a size up", "Grippy on wet rock. Order half a size larger than usual."),
    (4, "small", "Snug toe box", "Runs a little small, otherwise perfect."),
    (5, "true", "Fits like my old pair", "True to size for me."),
    (3, "small", "Too tight in my size", "Had to return for a 6.5."),
)


def _variants(code: str, kind: str) -> list[VariantIn]:
    if kind == "shoes":
        return [
            VariantIn(sku=f"{code}-{s}", size=s, colour="moss" if code == TRAIL else "black")
            for s in SHOE_SIZES
        ]
    if kind == "apparel":
        return [VariantIn(sku=f"{code}-{s}", size=s) for s in APPAREL_SIZES]
    return [VariantIn(sku=code)]


def load_catalog_demo(app: App, seed: int = 7) -> dict[str, int]:
    with app.db.read() as s:
        if s.scalar(select(Product.id).where(Product.code == TRAIL)) is not None:
            return {"products": 0, "locations": 0, "stock_rows": 0, "reviews": 0}
    rng = random.Random(seed)  # noqa: S311 -- demo quantities, not secrets
    locs = [
        LocationIn(code=c, name=n, city=city, country=cc, latitude=lat, longitude=lon, timezone=tz, phone=ph,
                   address=addr, kind="store")
        for c, n, city, cc, lat, lon, tz, ph, addr in LOCATIONS
    ]  # fmt: skip
    c, n, city, cc, lat, lon, tz, ph, addr = WAREHOUSE
    locs.append(
        LocationIn(code=c, name=n, city=city, country=cc, latitude=lat, longitude=lon, timezone=tz, phone=ph,
                   address=addr, kind="warehouse")
    )  # fmt: skip
    loc_ids = perform(app, ACTOR, actions.create_locations, locs, True)
    by_code = {loc.code: lid for loc, lid in zip(locs, loc_ids, strict=True)}
    products = [
        ProductIn(name=name, code=code, brand="Northwind", category=kind, variants=_variants(code, kind))
        for code, name, kind in PRODUCTS
    ]
    product_ids = perform(app, ACTOR, actions.create_products, products, True)
    rows: list[StockIn] = []
    for p in products:
        for v in p.variants:
            for code, lid in by_code.items():
                if v.sku.startswith(TRAIL + "-6.5"):
                    qty = 1 if (v.sku, code) == LAST_PAIR else 0  # the last pair, far away
                else:
                    qty = rng.choice((0, 1, 2, 3, 4, 6, 8)) * (3 if code == "web" else 1)
                rows.append(StockIn(sku=v.sku, location_id=lid, quantity=qty))
    perform(app, ACTOR, actions.put_inventory, rows)
    trail_id = product_ids[0]
    for rating, fit, title, text in TRAIL_REVIEWS:
        review = ReviewIn(product_id=trail_id, rating=rating, fit=fit, title=title, text=text)
        perform(app, ACTOR, actions.post_review, review)
    return {
        "products": len(product_ids),
        "locations": len(loc_ids),
        "stock_rows": len(rows),
        "reviews": len(TRAIL_REVIEWS),
    }
