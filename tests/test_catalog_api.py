"""The catalogue API: products, locations, stock snapshots and deltas, lookup nearest first,
reservations, reviews, with refusals that name the field and never a half-applied call."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, text, update

from amity.catalog import holds, queries, stock_lookup
from amity.catalog.models import Location, Product, Stock, Variant
from amity.core.actions import SYSTEM, App, perform
from tests.conftest import auth
from tests.helpers import ev, one
from tests.test_catalog_kit import (
    allow_personalisation,
    audit_of,
    conversation,
    customer,
    notes,
    ok,
    shop,
    timeline_types,
)


def test_a_product_with_variants_is_found_by_name_prefix_code_and_sku(
    client: TestClient, tokens: dict[str, str]
) -> None:
    s = shop(client, tokens)
    p = s.product
    assert [v["sku"] for v in p["variants"]] == [f"NW-TRL-01-{x}" for x in ("5", "5.5", "6", "6.5", "7")]
    assert (p["code"], p["category"], p["variants"][0]["colour"]) == ("NW-TRL-01", "shoes", "moss")
    reader = auth(tokens["integration"])
    for q in ("ridgeline", "Ridge", "NW-TRL-01", "NW-TRL-01-6.5"):
        found = ok(client.get("/api/v1/products", params={"q": q}, headers=reader))["items"]
        assert [x["id"] for x in found] == [p["id"]], q
    assert ok(client.get("/api/v1/products", params={"q": "boots"}, headers=reader))["items"] == []
    got = ok(client.get(f"/api/v1/products/{p['id']}", headers=reader))
    assert got["fit"] == {
        "reviews": 0,
        "average_rating": None,
        "fit_votes": {"small": 0, "true": 0, "large": 0},
        "fit": None,
        "fit_label": None,
    }
    assert client.get("/api/v1/products/prd_nope", headers=reader).status_code == 404


def test_a_bulk_load_with_one_taken_sku_stores_nothing_and_names_the_item(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    admin = auth(tokens["admin"])
    ok(
        client.post(
            "/api/v1/products", json={"name": "Sandal", "variants": [{"sku": "SND-1"}]}, headers=admin
        ),
        201,
    )
    body = {
        "products": [
            {"name": "Boot", "variants": [{"sku": "BT-1", "size": 8}]},
            {"name": "Sandal again", "variants": [{"sku": "X-1"}, {"sku": "SND-1"}]},
        ]
    }
    r = client.post("/api/v1/products", json=body, headers=admin)
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "products[1].variants[1].sku"
    with app.db.read() as db:
        assert db.scalar(select(func.count(Product.id))) == 1
        assert db.scalar(select(func.count(Variant.id))) == 1
    body["products"][1]["variants"].pop()
    made = ok(client.post("/api/v1/products", json=body, headers=admin), 201)["items"]
    assert [m["name"] for m in made] == ["Boot", "Sandal again"]
    assert made[0]["variants"][0]["size"] == "8"  # a numeric size is kept as its label
    # The same SKU twice inside one product is refused before anything is looked up.
    r = client.post(
        "/api/v1/products", json={"name": "Dup", "variants": [{"sku": "D"}, {"sku": "D"}]}, headers=admin
    )
    assert r.status_code == 422
    assert client.post("/api/v1/products", json={"products": []}, headers=admin).status_code == 422


def test_locations_one_or_many_and_a_bad_time_zone_or_half_a_coordinate_is_named(
    client: TestClient, tokens: dict[str, str]
) -> None:
    admin = auth(tokens["admin"])
    one_loc = ok(
        client.post(
            "/api/v1/locations",
            json={
                "name": "Web warehouse",
                "kind": "warehouse",
                "timezone": "Europe/London",
                "phone": "+441610000000",
            },
            headers=admin,
        ),
        201,
    )
    assert (one_loc["kind"], one_loc["latitude"], one_loc["phone"]) == ("warehouse", None, "+441610000000")
    r = client.post("/api/v1/locations", json={"name": "X", "timezone": "Mars/Olympus"}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"].endswith("timezone")
    r = client.post("/api/v1/locations", json={"name": "X", "latitude": 51.0}, headers=admin)
    assert r.status_code == 422
    r = client.post("/api/v1/locations", json={"name": "X", "latitude": 91, "longitude": 0}, headers=admin)
    assert r.status_code == 422
    shop(client, tokens)
    listed = ok(client.get("/api/v1/locations", headers=auth(tokens["agent"])))
    assert listed["total"] == 5
    r = client.post(
        "/api/v1/locations", json={"locations": [{"name": "Dup", "code": "lon-cg"}]}, headers=admin
    )
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "locations[0].code"


def test_stock_snapshots_replace_and_one_unknown_sku_or_location_refuses_the_whole_call(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    s = shop(client, tokens, {("6.5", "lon-cg"): 3, ("6.5", "opo-sc"): 1})
    lon, opo = s.stores["lon-cg"], s.stores["opo-sc"]
    rows = [
        {"sku": "NW-TRL-01-6.5", "location_id": lon, "quantity": 0},
        {"sku": "NW-TRL-01-6", "location_id": lon, "quantity": 4},
        {"sku": "NW-TRL-01-6", "location_id": lon, "quantity": 5},  # the later snapshot wins
    ]
    assert ok(client.put("/api/v1/inventory", json=rows, headers=s.admin)) == {"written": 2}
    bad = [
        {"sku": "NW-TRL-01-7", "location_id": opo, "quantity": 9},
        {"sku": "NOPE", "location_id": opo, "quantity": 1},
    ]
    r = client.put("/api/v1/inventory", json=bad, headers=s.admin)
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "body[1].sku"
    r = client.put(
        "/api/v1/inventory",
        json=[{"sku": "NW-TRL-01-7", "location_id": "loc_x", "quantity": 1}],
        headers=s.admin,
    )
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "body[0].location_id"
    r = client.put(
        "/api/v1/inventory",
        json=[{"sku": "NW-TRL-01-7", "location_id": opo, "quantity": -1}],
        headers=s.admin,
    )
    assert r.status_code == 422
    with app.db.read() as db:
        got = {
            (v, loc): q
            for v, loc, q in db.execute(select(Stock.variant_id, Stock.location_id, Stock.quantity))
        }
    by_sku = {v["sku"]: v["id"] for v in s.product["variants"]}
    assert got == {
        (by_sku["NW-TRL-01-6.5"], lon): 0,
        (by_sku["NW-TRL-01-6.5"], opo): 1,
        (by_sku["NW-TRL-01-6"], lon): 5,
    }
    assert [a.details["rows"] for a in audit_of(app, "catalog.inventory.put")] == [2, 2]


def test_deltas_add_up_and_one_that_would_go_below_zero_refuses_the_call(
    client: TestClient, tokens: dict[str, str]
) -> None:
    s = shop(client, tokens, {("6", "lon-cg"): 2})
    lon, man = s.stores["lon-cg"], s.stores["man-nq"]
    body = {
        "deltas": [
            {"sku": "NW-TRL-01-6", "location_id": lon, "delta": -1},
            {"sku": "NW-TRL-01-6", "location_id": lon, "delta": 5},
            {"sku": "NW-TRL-01-6", "location_id": man, "delta": 3},  # no row yet: a delivery starts one
        ]
    }
    assert ok(client.post("/api/v1/inventory/deltas", json=body, headers=s.admin)) == {"written": 2}
    r = client.post(
        "/api/v1/inventory/deltas",
        json={"deltas": [{"sku": "NW-TRL-01-6", "location_id": man, "delta": 1},
                         {"sku": "NW-TRL-01-6", "location_id": lon, "delta": -7}]},
        headers=s.admin,
    )  # fmt: skip
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "deltas[1].delta"
    stock = ok(client.get("/api/v1/inventory", params={"sku": "NW-TRL-01-6"}, headers=s.agent))
    assert {loc["name"].split()[0]: loc["quantity"] for loc in stock["locations"]} == {
        "London": 6,
        "Manchester": 3,
    }


def test_lookup_is_nearest_first_from_a_point_a_store_visit_or_the_city_trait(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    s = shop(client, tokens, {("6.5", code): 1 for code in ("lon-cg", "man-nq", "lis-ch", "opo-sc")})
    sku = "NW-TRL-01-6.5"
    near_lisbon = ok(
        client.get("/api/v1/inventory", params={"sku": sku, "near": "38.72,-9.14"}, headers=s.agent)
    )
    assert [loc["city"] for loc in near_lisbon["locations"]] == ["Lisbon", "Porto", "London", "Manchester"]
    assert near_lisbon["locations"][0]["distance_km"] < 2
    assert 250 < near_lisbon["locations"][1]["distance_km"] < 300  # Lisbon-Porto is ~275 km
    assert near_lisbon["origin"]["source"] == "near"
    # A POS sale in Manchester makes Manchester the customer's last store visit.
    visitor = one(
        app, ev("order.placed", "email:mo@example.com", properties={"store": "man-nq", "items": []})
    )
    by_visit = ok(
        client.get("/api/v1/inventory", params={"sku": sku, "customer_id": visitor}, headers=s.agent)
    )
    assert by_visit["origin"]["source"] == "store_visit"
    assert [loc["city"] for loc in by_visit["locations"]][:2] == ["Manchester", "London"]
    # No visit: the declared city trait, matched to a location's city.
    ok(
        client.post(
            "/api/v1/traits", json={"name": "city", "type": "string", "purpose": "stock"}, headers=s.admin
        ),
        201,
    )
    porto = customer(app, "pia@example.com", traits={"city": "porto"})
    by_city = ok(client.get("/api/v1/inventory", params={"sku": sku, "customer_id": porto}, headers=s.agent))
    assert (by_city["origin"]["source"], by_city["locations"][0]["city"]) == ("trait:city", "Porto")
    # Nobody knows where this one is: most available first, no distances.
    nowhere = ok(client.get("/api/v1/inventory", params={"sku": sku, "customer_id": customer(app, "x@example.com")},
                            headers=s.agent))  # fmt: skip
    assert nowhere["origin"] is None and {loc["distance_km"] for loc in nowhere["locations"]} == {None}
    for bad in ("91,0", "abc", "1,2,3", "nan,0"):
        r = client.get("/api/v1/inventory", params={"sku": sku, "near": bad}, headers=s.agent)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "near", bad
    r = client.get("/api/v1/inventory", params={"sku": "NOPE"}, headers=s.agent)
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "sku"


# Another Amity process: its own engine and its own location cache, nothing shared with the test's.
OTHER_PROCESS = """
import sys
from pathlib import Path
from amity.catalog import actions
from amity.catalog.schemas import LocationIn, StockIn
from amity.config import Settings
from amity.core.actions import SYSTEM, perform
from amity.db import Database
from amity.web.app import build_app

url, home = sys.argv[1], Path(sys.argv[2])
db = Database(url)
app = build_app(Settings(home=home, database_url=url, secret_key="test-secret-key-not-for-production"), db)
place = LocationIn(name="Edinburgh Princes Street", code="edi-ps", city="Edinburgh", latitude=55.9521,
                   longitude=-3.1965, timezone="Europe/London")
[loc] = perform(app, SYSTEM, actions.create_locations, [place])
perform(app, SYSTEM, actions.put_inventory, [StockIn(sku="NW-TRL-01-6.5", location_id=loc, quantity=4)])
db.dispose()
print(loc)
"""


def test_a_store_another_process_adds_is_in_the_very_next_lookup_and_the_rest_come_from_the_cache(
    client: TestClient, app: App, tokens: dict[str, str], tmp_path: Path
) -> None:
    s = shop(client, tokens, {("6.5", code): 1 for code in ("lon-cg", "man-nq", "lis-ch", "opo-sc")})
    sku = "NW-TRL-01-6.5"
    loads: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if "catalog_locations.phone" in statement:  # only the cache's (re)load reads every location
            loads.append(statement)

    def lookup() -> dict[str, Any]:
        return ok(
            client.get("/api/v1/inventory", params={"sku": sku, "near": "55.95,-3.19"}, headers=s.agent)
        )

    lookup()  # whatever state the cache was in, it now holds the four stores
    event.listen(app.db.engine, "before_cursor_execute", count)
    try:
        for _ in range(3):
            assert [loc["city"] for loc in lookup()["locations"]] == [
                "Manchester",
                "London",
                "Porto",
                "Lisbon",
            ]
        assert loads == []
        done = subprocess.run(
            [sys.executable, "-c", OTHER_PROCESS, app.db.url, str(tmp_path / "other")],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        nearest = lookup()
        assert len(loads) == 1
        first = nearest["locations"][0]
        assert (first["location_id"], first["name"], first["city"]) == (
            done.stdout.strip(),
            "Edinburgh Princes Street",
            "Edinburgh",
        )
        assert (first["quantity"], first["available"], nearest["total_available"]) == (4, 4, 8)
        assert first["distance_km"] < 2
        lookup()
        assert len(loads) == 1
    finally:
        event.remove(app.db.engine, "before_cursor_execute", count)


def test_a_store_edited_by_hand_in_sql_shows_once_the_cache_is_older_than_its_refresh_time(
    client: TestClient, app: App, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    s = shop(client, tokens, {("6.5", "opo-sc"): 2})
    opo = s.stores["opo-sc"]

    def porto_phone() -> str | None:
        stock = ok(client.get("/api/v1/inventory", params={"sku": "NW-TRL-01-6.5"}, headers=s.agent))
        return next(loc["phone"] for loc in stock["locations"] if loc["location_id"] == opo)

    assert porto_phone() is None
    # Amity never edits a location; an edit outside it keeps neither the count nor the newest created_at.
    with app.db.engine.begin() as c:
        c.execute(update(Location).where(Location.id == opo).values(phone="+351222000000"))
    assert porto_phone() is None  # still the cached row: at most REFRESH_S old
    monkeypatch.setattr(stock_lookup, "REFRESH_S", 0.0)
    assert porto_phone() == "+351222000000"


def test_stock_times_are_utc_whatever_the_postgresql_session_time_zone(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    if app.db.is_sqlite:
        pytest.skip("SQLite has no session time zone")
    shop(client, tokens, {("6.5", "opo-sc"): 2})
    with app.db.read() as db:
        stored = db.scalars(select(Stock.updated_at)).one()
    with app.db.read() as db:
        db.execute(text("SET LOCAL TimeZone = 'America/St_Johns'"))  # -03:30: a half-hour zone
        [at] = queries.stock_for(db, "NW-TRL-01-6.5")["locations"]
    assert at["updated_at"] == stored.isoformat() and at["updated_at"].endswith("+00:00")


def test_the_inventory_json_is_stock_for_with_its_origin_ties_by_name_and_no_coordinates_last(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    s = shop(client, tokens, {("6.5", code): q for code, q in (("lon-cg", 2), ("man-nq", 0), ("lis-ch", 3))})
    extra = {
        "locations": [
            {"name": "Lisbon Chiado", "code": "lis-2", "city": "Lisbon", "latitude": 38.7107, "longitude": -9.1420},
            {"name": "Web warehouse", "kind": "warehouse", "code": "web", "address": 'Unit 4, "Dock" \\ 7'},
        ]
    }  # fmt: skip
    made = {
        loc["code"]: loc["id"]
        for loc in ok(client.post("/api/v1/locations", json=extra, headers=s.admin), 201)["items"]
    }
    rows = [{"sku": "NW-TRL-01-6.5", "location_id": made[c], "quantity": 3} for c in made]
    ok(client.put("/api/v1/inventory", json=rows, headers=s.admin))
    ana = customer(app)
    conv = conversation(app, ana)
    perform(app, SYSTEM, holds.reserve, "NW-TRL-01-6.5", s.stores["lon-cg"], ana, conv, 1.0)
    for params, point in (
        ({}, None),
        ({"near": "38.72,-9.14"}, (38.72, -9.14)),
        ({"in_stock": "true", "limit": "2"}, None),
    ):
        r = client.get("/api/v1/inventory", params={"sku": "NW-TRL-01-6.5", **params}, headers=s.agent)
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        with app.db.read() as db:
            want = queries.stock_for(
                db,
                "NW-TRL-01-6.5",
                point,
                in_stock_only="in_stock" in params,
                limit=int(params.get("limit", 0)) or None,
            )
        origin = (
            {"latitude": 38.72, "longitude": -9.14, "source": "near", "detail": "given"} if point else None
        )
        assert r.content == orjson.dumps({**want, "origin": origin}), params
        got = r.json()["locations"]
        if point:  # the two Chiado stores are 0 km away: the one with more to sell first, then by id
            assert [(x["name"], x["available"]) for x in got][:2] == [
                ("Lisbon Chiado", 3),
                ("Lisbon Chiado", 3),
            ]
            assert [x["location_id"] for x in got[:2]] == sorted(x["location_id"] for x in got[:2])
            assert got[-1]["name"] == "Web warehouse" and got[-1]["distance_km"] is None
        elif params:
            assert [(x["name"], x["available"]) for x in got] == [("Lisbon Chiado", 3), ("Lisbon Chiado", 3)]
            assert r.json()["total_available"] == 3 + 3 + 3 + 1
        else:
            assert [(x["name"], x["available"], x["reserved"]) for x in got] == [
                ("Lisbon Chiado", 3, 0), ("Lisbon Chiado", 3, 0), ("Web warehouse", 3, 0),
                ("London Covent Garden", 1, 1), ("Manchester Northern Quarter", 0, 0),
            ]  # fmt: skip
            assert got[2]["address"] == 'Unit 4, "Dock" \\ 7'


def test_a_reservation_holds_the_last_pair_and_the_next_one_gets_409_until_it_is_released(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    s = shop(client, tokens, {("6.5", "opo-sc"): 1})
    ana = customer(app)
    conv = conversation(app, ana)
    body = {
        "sku": "NW-TRL-01-6.5",
        "location_id": s.stores["opo-sc"],
        "customer_id": ana,
        "conversation_id": conv,
    }
    held = ok(client.post("/api/v1/reservations", json={**body, "hold_hours": 2}, headers=s.agent), 201)
    assert (held["status"], held["location_name"], held["customer_id"]) == (
        "held",
        "Porto Santa Catarina",
        ana,
    )
    gap = dt.datetime.fromisoformat(held["expires_at"]) - dt.datetime.fromisoformat(held["created_at"])
    assert gap == dt.timedelta(hours=2)
    again = client.post("/api/v1/reservations", json=body, headers=auth(tokens["supervisor"]))
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "sku"
    stock = ok(client.get("/api/v1/inventory", params={"sku": "NW-TRL-01-6.5"}, headers=s.agent))["locations"]
    porto = next(loc for loc in stock if loc["city"] == "Porto")
    assert (porto["quantity"], porto["reserved"], porto["available"]) == (1, 1, 0)
    assert any(
        "Reserved 1 x NW-TRL-01-6.5 at Porto Santa Catarina" in n for n in notes(client, s.agent, conv)
    )
    released = ok(client.delete(f"/api/v1/reservations/{held['id']}", headers=s.agent))
    assert released["status"] == "released" and released["ended_by"].startswith("token:")
    assert client.delete(f"/api/v1/reservations/{held['id']}", headers=s.agent).status_code == 409
    assert ok(client.post("/api/v1/reservations", json=body, headers=s.agent), 201)["status"] == "held"
    assert [a.action for a in audit_of(app, "catalog.reservation")] == [
        "catalog.reservation.created",
        "catalog.reservation.released",
        "catalog.reservation.created",
    ]
    types = timeline_types(client, s.agent, ana)
    assert types.count("reservation.created") == 2 and types.count("reservation.released") == 1
    mine = ok(
        client.get("/api/v1/reservations", params={"customer_id": ana, "status": "held"}, headers=s.agent)
    )
    assert len(mine) == 1
    assert (
        client.post(
            "/api/v1/reservations", json={**body, "customer_id": "cus_nobody"}, headers=s.agent
        ).status_code
        == 404
    )
    assert (
        client.post("/api/v1/reservations", json={**body, "hold_hours": 0}, headers=s.agent).status_code
        == 422
    )
    assert (
        client.post("/api/v1/reservations", json=body, headers=auth(tokens["integration"])).status_code == 403
    )


def test_holds_whose_time_is_up_are_swept_back_into_stock_once(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    s = shop(client, tokens, {("7", "lis-ch"): 2})
    ana = customer(app)
    conv = conversation(app, ana)
    for _ in range(2):
        perform(app, SYSTEM, holds.reserve, "NW-TRL-01-7", s.stores["lis-ch"], ana, conv, 1.0)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    assert perform(app, SYSTEM, holds.expire_due, later) == 2
    assert perform(app, SYSTEM, holds.expire_due, later) == 0  # a second sweep finds nothing to do
    stock = ok(client.get("/api/v1/inventory", params={"sku": "NW-TRL-01-7"}, headers=s.agent))
    assert stock["locations"][0]["available"] == 2
    assert sum("Expired: reservation" in n for n in notes(client, s.agent, conv)) == 2
    assert timeline_types(client, s.agent, ana).count("reservation.expired") == 2


def test_reviews_make_the_fit_summary_and_a_customer_review_goes_on_their_timeline(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    s = shop(client, tokens)
    pid = s.product["id"]
    ana = customer(app)
    shop_token = auth(tokens["integration"])
    for rating, fit in ((4, "small"), (5, "small"), (3, "true"), (4, None)):
        ok(
            client.post(
                "/api/v1/reviews", json={"product_id": pid, "rating": rating, "fit": fit}, headers=shop_token
            ),
            201,
        )
    mine = ok(
        client.post(
            "/api/v1/reviews",
            json={
                "product_id": pid,
                "customer_id": ana,
                "rating": 5,
                "fit": "small",
                "text": "Go half a size up",
            },
            headers=shop_token,
        ),
        201,
    )
    fit = ok(client.get(f"/api/v1/products/{pid}", headers=s.agent))["fit"]
    assert fit["fit_votes"] == {"small": 3, "true": 1, "large": 0}
    assert (fit["fit"], fit["fit_label"], fit["reviews"], fit["average_rating"]) == (
        "small",
        "runs small",
        5,
        4.2,
    )
    assert ok(client.get(f"/api/v1/products/{pid}/reviews", headers=s.agent))[0]["id"] == mine["id"]
    assert "review.posted" in timeline_types(client, s.agent, ana)
    r = client.post("/api/v1/reviews", json={"product_id": pid, "rating": 6}, headers=shop_token)
    assert r.status_code == 422
    r = client.post(
        "/api/v1/reviews", json={"product_id": pid, "rating": 3, "fit": "tight"}, headers=shop_token
    )
    assert r.status_code == 422
    assert (
        client.post(
            "/api/v1/reviews", json={"product_id": "prd_x", "rating": 3}, headers=shop_token
        ).status_code
        == 404
    )


def test_a_stock_lookup_and_a_size_recommendation_are_noted_on_the_conversation(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    s = shop(client, tokens, {("6.5", "opo-sc"): 1, ("6.5", "lon-cg"): 0, ("6", "lon-cg"): 3})
    pid = s.product["id"]
    for _ in range(3):
        ok(
            client.post(
                "/api/v1/reviews", json={"product_id": pid, "rating": 4, "fit": "small"}, headers=s.admin
            ),
            201,
        )
    ana = one(
        app,
        ev(
            "order.placed",
            "email:ana@example.com",
            properties={
                "store": "lon-cg",
                "items": [{"sku": "NW-HIK-02", "size": 6}, {"sku": "NW-SCK-12", "size": "M"}],
            },
        ),
    )
    one(
        app,
        ev("order.placed", "email:ana@example.com", properties={"items": [{"sku": "TR-6.5", "size": 6.5}]}),
    )
    allow_personalisation(app, ana)
    conv = conversation(app, ana)
    stock = ok(
        client.post(
            "/api/v1/stock-lookups", json={"sku": "NW-TRL-01-6.5", "conversation_id": conv}, headers=s.agent
        )
    )
    assert stock["origin"]["source"] == "store_visit"  # the London sale
    assert [loc["city"] for loc in stock["locations"]][:1] == ["London"]
    advice = ok(
        client.post("/api/v1/size-recommendations", json={"product_id": pid, "customer_id": ana, "conversation_id": conv},
                    headers=s.agent),
    )  # fmt: skip
    assert (advice["size"], advice["sku"], advice["bought_sizes"]) == ("6.5", "NW-TRL-01-6.5", ["6", "6.5"])
    assert advice["reason"] == "bought 6 and 6.5; this model runs small → 6.5"
    texts = notes(client, s.agent, conv)
    assert any(t.startswith("Stock of NW-TRL-01-6.5") and "Porto Santa Catarina 1" in t for t in texts)
    assert "Size advice for Ridgeline Trail Runner: bought 6 and 6.5; this model runs small → 6.5." in texts
    assert [a.action for a in audit_of(app, "catalog.s")] == [
        "catalog.stock.looked_up",
        "catalog.size.recommended",
    ]
    r = client.post("/api/v1/stock-lookups", json={"sku": "NW-TRL-01-6.5", "near": "x"}, headers=s.agent)
    assert r.status_code == 422
    r = client.post(
        "/api/v1/stock-lookups", json={"sku": "NW-TRL-01-6.5", "conversation_id": "cnv_x"}, headers=s.agent
    )
    assert r.status_code == 404


def test_without_consent_to_personal_advice_no_size_is_recommended(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    pytest.importorskip("amity.consent.policy", reason="the consent capability decides personal advice")
    s = shop(client, tokens)
    ok(
        client.post(
            "/api/v1/reviews",
            json={"product_id": s.product["id"], "rating": 4, "fit": "small"},
            headers=s.admin,
        ),
        201,
    )
    ana = one(
        app,
        ev(
            "order.placed", "email:ana@example.com", properties={"items": [{"sku": "NW-TRL-01-6", "size": 6}]}
        ),
    )
    body = {"product_id": s.product["id"], "customer_id": ana}
    advice = ok(client.post("/api/v1/size-recommendations", json=body, headers=s.agent))
    assert (advice["allowed"], advice["size"], advice["bought_sizes"]) == (False, None, [])
    allow_personalisation(app, ana)
    advice = ok(client.post("/api/v1/size-recommendations", json=body, headers=s.agent))
    assert (advice["allowed"], advice["size"]) == (True, "6.5")
