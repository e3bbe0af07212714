"""A shop's export loaded through the adapter interface and the built-in reference shop: stores,
products, stock by store code, loyalty, orders resolved to customers, shipments; each refused line
named with its file, line and field without losing the others; a second run changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select

from amity.catalog.models import Location, Product, Stock, Variant
from amity.commerce.models import Membership, Order, Shipment
from amity.commerce.reference_shop import ReferenceShop
from amity.commerce.shop_sync import Record, sync
from amity.core.actions import SYSTEM, App
from amity.customers.models import Event
from tests.test_cli import _env, _run

SHOP: dict[str, list[Any]] = {
    "locations": [
        {"code": "opo-sc", "name": "Porto Santa Catarina", "city": "Porto", "country": "PT",
         "latitude": 41.15, "longitude": -8.61, "timezone": "Europe/Lisbon"},
        {"code": "lis-ch", "name": "Lisboa Chiado", "city": "Lisboa", "country": "PT"},
        {"name": "No code store"},
    ],
    "products": [
        {"code": "NW-TRL-01", "name": "Trail runner", "brand": "Northwind",
         "variants": [{"sku": "NW-TRL-01-6", "size": 6}, {"sku": "NW-TRL-01-6.5", "size": 6.5}]},
    ],
    "inventory": [
        {"sku": "NW-TRL-01-6", "location": "opo-sc", "quantity": 1},
        {"sku": "NW-TRL-01-6.5", "location": "lis-ch", "quantity": 4},
        {"sku": "NW-TRL-01-6", "location": "nowhere", "quantity": 2},
        {"sku": "NO-SUCH", "location": "opo-sc", "quantity": 2},
        {"sku": "NW-TRL-01-6", "location": "lis-ch", "quantity": -3},
    ],
    "loyalty_programmes": [
        {"name": "Trail Club", "tiers": [{"name": "Gold", "rank": 2, "benefits": ["free_expedited_shipping"]}]},
    ],
    "memberships": [
        {"programme": "Trail Club", "identities": [{"type": "email", "value": "ana@example.com"}], "tier": "Gold"},
        {"programme": "Hiking Club", "identities": [{"type": "email", "value": "bob@example.com"}]},
    ],
    "orders": [
        {"external_id": "10442", "identities": [{"type": "email", "value": "Ana@Example.com"}], "currency": "EUR",
         "lines": [{"sku": "NW-TRL-01-6", "quantity": 1, "unit_price_minor": 8900}],
         "payments": [{"amount_minor": 8900, "currency": "EUR"}]},
        {"external_id": "10443", "identities": [{"type": "email", "value": "bob@example.com"}], "currency": "EUR",
         "lines": [{"sku": "GONE", "quantity": 1, "unit_price_minor": 100}]},
    ],
    "shipments": [
        {"order_external_id": "10442", "carrier": "CTT", "tracking_number": "RR123PT", "status": "dispatched"},
    ],
}  # fmt: skip


def _export(folder: Path, extra: dict[str, list[bytes]] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for kind, rows in SHOP.items():
        lines = [orjson.dumps(r) for r in rows] + (extra or {}).get(kind, [])
        (folder / f"{kind}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    return folder


def _count(app: App, model: type) -> int:
    with app.db.read() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_a_reference_shop_export_loads_in_order_refuses_lines_by_name_and_loads_again_as_unchanged(
    app: App, tmp_path: Path
) -> None:
    folder = _export(
        tmp_path / "shop", {"orders": [b"", b"# a comment", b"{not json"], "products": [b"[1, 2]"]}
    )
    shop = ReferenceShop(folder)
    assert shop.kinds() == ["locations", "products", "inventory", "loyalty_programmes", "memberships",
                            "orders", "shipments"]  # fmt: skip
    report = sync(app, SYSTEM, shop, shop.kinds()).as_dict()
    kinds = report["kinds"]
    assert {k: (v["accepted"], v["unchanged"], v["rejected"]) for k, v in kinds.items()} == {
        "locations": (2, 0, 1),
        "products": (1, 0, 1),
        "inventory": (2, 0, 3),
        "loyalty_programmes": (1, 0, 0),
        "memberships": (1, 0, 1),
        "orders": (1, 0, 2),
        "shipments": (1, 0, 0),
    }
    # Within a kind, unreadable lines are reported as they are read, the rest after their batch.
    problems = [(p["where"], p["field"]) for k in kinds.values() for p in k["problems"]]
    assert sorted(problems) == [
        ("inventory.jsonl:3", "location"),
        ("inventory.jsonl:4", "sku"),
        ("inventory.jsonl:5", "quantity"),
        ("locations.jsonl:3", "code"),
        ("memberships.jsonl:2", "programme"),
        ("orders.jsonl:2", "lines[0].sku"),
        ("orders.jsonl:5", "record"),
        ("products.jsonl:2", "record"),
    ]
    assert kinds["orders"]["problems"][0]["message"].startswith("not valid JSON")

    # What the shop has is now Amity's: stock per store, the order on Ana's profile and timeline.
    with app.db.read() as s:
        rows = s.execute(
            select(Variant.sku, Location.code, Stock.quantity)
            .join(Variant, Variant.id == Stock.variant_id)
            .join(Location, Location.id == Stock.location_id)
        )
        stock = {f"{sku}@{code}": q for sku, code, q in rows}
        assert stock == {"NW-TRL-01-6@opo-sc": 1, "NW-TRL-01-6.5@lis-ch": 4}
        order = s.scalars(select(Order)).one()
        assert (order.external_id, order.status, order.total_minor) == ("10442", "shipped", 8900)
        ship = s.scalars(select(Shipment)).one()
        assert (ship.tracking_number, ship.status) == ("RR123PT", "dispatched")
        member = s.scalars(select(Membership)).one()
        assert member.customer_id == order.customer_id  # the same Ana, however the shop spelled her email
        kinds_on_timeline = set(s.scalars(select(Event.type).where(Event.customer_id == order.customer_id)))
        assert {"order.placed", "shipment.dispatched", "loyalty.joined"} <= kinds_on_timeline

    # The same export again: nothing new, nothing lost, the same refusals.
    counts = {
        m: _count(app, m) for m in (Location, Product, Variant, Stock, Order, Shipment, Membership, Event)
    }
    again = sync(app, SYSTEM, shop, shop.kinds()).as_dict()
    assert all(v["accepted"] == 0 or k == "inventory" for k, v in again["kinds"].items()), again
    assert again["rejected"] == report["rejected"]
    assert {m: _count(app, m) for m in counts} == counts


def test_any_adapter_plugs_in_and_a_record_that_is_not_an_object_is_refused(app: App) -> None:
    class Pos:
        name = "point of sale"

        def records(self, kind: str) -> list[Record]:
            return {
                "locations": [Record("pos:store/1", {"code": "st-1", "name": "High Street"})],
                "products": [
                    Record("pos:item/9", ["not", "an", "object"]),
                    Record("pos:item/10", {"code": "TEE", "name": "Tee", "variants": [{"sku": "TEE-S"}]}),
                    Record("pos:item/11", {"code": "TEE", "name": "Tee 2", "variants": [{"sku": "TEE-M"}]}),
                ],
            }.get(kind, [])

    out = sync(app, SYSTEM, Pos()).as_dict()
    assert out["adapter"] == "point of sale"
    assert (out["kinds"]["locations"]["accepted"], out["kinds"]["products"]["accepted"]) == (1, 1)
    # A code twice in one feed refuses the second alone; the first still goes in.
    assert out["kinds"]["products"]["problems"] == [
        {"where": "pos:item/9", "field": "record", "message": "must be a JSON object"},
        {"where": "pos:item/11", "field": "code", "message": "product code TEE appears twice"},
    ]
    assert _count(app, Product) == 1


def test_amity_shop_import_loads_a_folder_and_exits_1_when_a_line_was_refused(
    app: App, tmp_path: Path
) -> None:
    env = _env(tmp_path / "home", app.db.url)
    folder = _export(tmp_path / "shop")
    r = _run(["shop", "import", str(folder), "--json"], env)
    assert r.returncode == 1, r.stderr
    report = orjson.loads(r.stdout)
    assert report["kinds"]["orders"]["accepted"] == 1 and report["rejected"] == 6
    assert _count(app, Order) == 1
    only = _run(["shop", "import", str(folder), "--only", "locations"], env)
    assert only.returncode == 1 and "locations.jsonl:3" in only.stdout and "orders.jsonl" not in only.stdout
    bad = _run(["shop", "import", str(tmp_path / "missing")], env)
    assert bad.returncode == 2 and "folder" in bad.stdout
    wrong = _run(["shop", "import", str(folder), "--only", "pets"], env)
    assert wrong.returncode == 2 and "pets" in wrong.stdout
