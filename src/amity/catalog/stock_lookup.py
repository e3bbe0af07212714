"""The stock lookup's hot path: one SKU's quantity at every location (docs/benchmarks.md, "Stock lookup").

At 500 locations the database's part of a lookup is about a millisecond; building 500 entries of 13
fields each (and parsing 500 timestamps on the way) was ten times that. So the location half of an
entry, the same for every SKU, is kept per process with its JSON already written, and a lookup reads
only ``(location_id, quantity, reserved, updated_at)`` from the stock table's primary key.

When the cache is stale: Amity only ever adds locations (``catalog.actions.create_locations``; none is
edited or deleted, and stock rows and reservations point at them), so the number of locations and the
newest ``created_at`` change exactly when the set does, whichever process changed it. Both ride along
in the lookup's first query and are compared every time. A stock row naming a location the cache does
not know (added between two statements under PostgreSQL's READ COMMITTED) reloads it as well, and so
does age: an edit made outside Amity, by hand in SQL, shows within ``REFRESH_S``.
"""

from __future__ import annotations

import datetime as dt
import math
import time
import weakref
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Engine, bindparam, func, select
from sqlalchemy.orm import Session

from amity.catalog.models import Location, Product, Variant
from amity.core.actions import NotFound

EARTH_KM = 6371.0088
REFRESH_S = 60.0  # the longest a location edited outside Amity can show its old fields

Version = tuple[int, dt.datetime | None]


@dataclass(frozen=True, slots=True)
class Place:
    """A location's part of every stock entry, ready to be written out."""

    id: str
    rank: int  # position by (name, id): the last tie-break of both orderings, compared as an int
    fields: dict[str, Any]  # location_id … timezone, in the order of the answer
    head: bytes  # those fields as JSON, left open: b'{"location_id":"…",…,"timezone":"…",'
    lat: float | None  # radians, for the distance
    lon: float | None
    cos_lat: float


@dataclass(frozen=True, slots=True)
class Places:
    version: Version
    loaded_at: float  # time.monotonic()
    by_id: dict[str, Place]


class Entry(NamedTuple):  # a tuple (one is made per location per lookup), sorted as one
    order: int | tuple[float, int, int]  # the sort key: see lookup()
    place: Place
    quantity: int
    reserved: int
    available: int
    distance_km: float | None
    updated_at: str  # ISO 8601, UTC


@dataclass(frozen=True, slots=True)
class Lookup:
    sku: str
    variant_id: str
    product_id: str
    product_name: str
    size: str | None
    colour: str | None
    near: tuple[float, float] | None
    total_available: int
    entries: list[Entry]  # ordered, at most ``limit``


# One snapshot per engine (so per database and process); replaced whole, never changed in place, so
# threads reading it need no lock (two threads may both reload it once: harmless).
_CACHE: weakref.WeakKeyDictionary[Engine, Places] = weakref.WeakKeyDictionary()

_HEAD = (
    select(
        Variant.id,
        Variant.size,
        Variant.colour,
        Product.id,
        Product.name,
        select(func.count()).select_from(Location).scalar_subquery(),
        select(func.max(Location.created_at)).scalar_subquery(),
    )
    .join(Product, Product.id == Variant.product_id)
    .where(Variant.sku == bindparam("sku"))
)
_PLACES = select(
    Location.id,
    Location.name,
    Location.kind,
    Location.city,
    Location.country,
    Location.address,
    Location.phone,
    Location.timezone,
    Location.latitude,
    Location.longitude,
    Location.created_at,
)
# Through the driver: SQLAlchemy's per-row processing was most of the query's time. updated_at comes as
# naive UTC text so that the few distinct values (a snapshot writes one time for all its rows) are
# parsed once: as SQLite stores it, and on PostgreSQL spelled out whatever the session's time zone.
_STOCK = {
    "sqlite": "SELECT location_id, quantity, reserved, updated_at FROM catalog_stock WHERE variant_id = ?",
    "postgresql": (
        "SELECT location_id, quantity, reserved, "
        "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') "
        "FROM catalog_stock WHERE variant_id = %s"
    ),
}


def _load(s: Session) -> Places:
    rows = s.execute(_PLACES).all()
    by_name = sorted(rows, key=lambda r: (r.name, r.id))
    by_id: dict[str, Place] = {}
    for rank, r in enumerate(by_name):
        fields = {
            "location_id": r.id,
            "name": r.name,
            "kind": r.kind,
            "city": r.city,
            "country": r.country,
            "address": r.address,
            "phone": r.phone,
            "timezone": r.timezone,
        }
        known = r.latitude is not None and r.longitude is not None
        lat = math.radians(r.latitude) if known else None
        by_id[r.id] = Place(
            id=r.id,
            rank=rank,
            fields=fields,
            head=orjson.dumps(fields)[:-1] + b",",
            lat=lat,
            lon=math.radians(r.longitude) if known else None,
            cos_lat=math.cos(lat) if lat is not None else 0.0,
        )
    newest = max((r.created_at for r in rows), default=None)
    return Places((len(rows), newest), time.monotonic(), by_id)


def _places(s: Session, version: Version, *, reload: bool = False) -> Places:
    """This process's locations for the session's database, reloaded when they may have changed."""
    engine = s.get_bind().engine
    places = _CACHE.get(engine)
    if (
        reload
        or places is None
        or places.version != version
        or time.monotonic() - places.loaded_at > REFRESH_S
    ):
        places = _CACHE[engine] = _load(s)
    return places


def _iso_utc(text: str) -> str:
    """Naive UTC text (see ``_STOCK``) as ``datetime.isoformat()`` writes the aware time: what the ORM's
    ``updated_at.isoformat()`` gave (no fraction when there are no microseconds)."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).isoformat()


def lookup(
    s: Session,
    sku: str,
    near: tuple[float, float] | None = None,
    *,
    in_stock_only: bool = False,
    limit: int | None = None,
) -> Lookup:
    """Quantity per location for one SKU: nearest first when ``near`` (lat, lon) is given, else the
    most available first; among equals by name. ``available`` is on hand minus live reservations
    (never below 0); ``total_available`` counts every location kept, before ``limit``."""
    head = s.execute(_HEAD, {"sku": sku}).first()  # also flushes the session: the driver sees its writes
    if head is None:
        raise NotFound(f"no variant with SKU {sku}", field="sku")
    variant_id, size, colour, product_id, product_name, count, newest = head
    places = _places(s, (count, newest))
    conn = s.connection()
    cur = conn.connection.cursor()
    try:
        cur.execute(_STOCK[conn.dialect.name], (variant_id,))
        rows = cur.fetchall()
    finally:
        cur.close()
    by_id = places.by_id
    if not by_id.keys() >= {r[0] for r in rows}:
        by_id = _places(s, (count, newest), reload=True).by_id
    lat1 = lon1 = cos1 = 0.0
    if near is not None:
        lat1, lon1 = math.radians(near[0]), math.radians(near[1])
        cos1 = math.cos(lat1)
    sin, asin, sqrt = math.sin, math.asin, math.sqrt
    spread = len(by_id)  # rank < spread: "more available" outweighs any difference of rank
    times: dict[str, str] = {}
    entries: list[Entry] = []
    append = entries.append
    total = 0
    for lid, quantity, reserved, stamp in rows:
        place = by_id.get(lid)
        if place is None:  # deleted since the stock was read (Amity itself never deletes one)
            continue
        available = quantity - reserved if quantity > reserved else 0
        if in_stock_only and available < 1:
            continue
        total += available
        distance = None
        if near is None:
            order: int | tuple[float, int, int] = place.rank - available * spread
        else:
            if place.lat is not None and place.lon is not None:
                # queries.distance_km's haversine term for term, the location's half precomputed
                h = sin((place.lat - lat1) / 2) ** 2 + cos1 * place.cos_lat * sin((place.lon - lon1) / 2) ** 2
                distance = round(2 * EARTH_KM * asin(min(1.0, sqrt(h))), 1)
            # Unknown coordinates last; among equals, the one with more to sell.
            order = (math.inf if distance is None else distance, -available, place.rank)
        iso = times.get(stamp)
        if iso is None:
            iso = times[stamp] = _iso_utc(stamp)
        append(Entry(order, place, quantity, reserved, available, distance, iso))
    entries.sort()  # by ``order``, unique per location: no later field is ever compared
    return Lookup(
        sku=sku,
        variant_id=variant_id,
        product_id=product_id,
        product_name=product_name,
        size=size,
        colour=colour,
        near=near,
        total_available=total,
        entries=entries[:limit] if limit else entries,
    )


def _header(found: Lookup) -> dict[str, Any]:
    """What the answer says before its locations (both forms below, in the same key order)."""
    return {
        "sku": found.sku,
        "variant_id": found.variant_id,
        "product_id": found.product_id,
        "product_name": found.product_name,
        "size": found.size,
        "colour": found.colour,
        "near": {"latitude": found.near[0], "longitude": found.near[1]} if found.near else None,
        "total_available": found.total_available,
    }


def as_dict(found: Lookup) -> dict[str, Any]:
    """The answer as JSON-ready dicts (``queries.stock_for``: the console, the agent actions)."""
    return {
        **_header(found),
        "locations": [
            {
                **e.place.fields,
                "quantity": e.quantity,
                "reserved": e.reserved,
                "available": e.available,
                "distance_km": e.distance_km,
                "updated_at": e.updated_at,
            }
            for e in found.entries
        ],
    }


_TAIL = b'"quantity":%d,"reserved":%d,"available":%d,"distance_km":%b,"updated_at":%b}'


def as_json(found: Lookup, origin: dict[str, Any] | None) -> bytes:
    """The same answer (and its ``origin``) as JSON bytes, written straight from the cached location
    halves: what ``GET /api/v1/inventory`` sends, the same document as ``orjson.dumps`` of
    :func:`as_dict` with ``origin`` added."""
    dumps = orjson.dumps
    stamps: dict[str, bytes] = {}
    items: list[bytes] = []
    append = items.append
    for e in found.entries:
        stamp = stamps.get(e.updated_at)
        if stamp is None:
            stamp = stamps[e.updated_at] = dumps(e.updated_at)
        km = b"null" if e.distance_km is None else dumps(e.distance_km)
        append(e.place.head + _TAIL % (e.quantity, e.reserved, e.available, km, stamp))
    return dumps(
        {
            **_header(found),
            "locations": orjson.Fragment(b"[" + b",".join(items) + b"]"),
            "origin": origin,
        }
    )
