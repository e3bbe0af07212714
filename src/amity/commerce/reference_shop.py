"""The built-in shop adapter: a folder of JSON Lines files, one per kind, as any shop can export.

    shop/
      locations.jsonl      {"code": "opo-sc", "name": "Porto Santa Catarina", "latitude": 41.15, ...}
      products.jsonl       {"code": "NW-TRL-01", "name": "Trail runner", "variants": [{"sku": ..., "size": 6}]}
      inventory.jsonl      {"sku": "NW-TRL-01-6", "location": "opo-sc", "quantity": 1}
      loyalty_programmes.jsonl, memberships.jsonl ({"programme": "Trail Club", ...}), coupons.jsonl,
      orders.jsonl, shipments.jsonl, subscriptions.jsonl, appointments.jsonl, devices.jsonl

Each line is one record in the shape of the matching API body (docs/commerce.md); a missing file is a
kind the shop does not have. Files are read line by line, so a large export never sits in memory.
``amity shop import DIR`` loads a folder (:func:`amity.commerce.shop_sync.sync`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

from amity.commerce.shop_sync import KINDS, Record, Unreadable


class ReferenceShop:
    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is not a folder")
        self.folder = folder
        self.name = f"reference shop at {folder}"

    def kinds(self) -> list[str]:
        """The kinds this export has a file for, in the order a sync loads them."""
        return [k for k in KINDS if (self.folder / f"{k}.jsonl").is_file()]

    def records(self, kind: str) -> Iterator[Record]:
        path = self.folder / f"{kind}.jsonl"
        if not path.is_file():
            return
        with path.open("rb") as f:
            for n, raw in enumerate(f, start=1):
                line = raw.strip()
                if not line or line.startswith(b"#"):
                    continue
                where = f"{path.name}:{n}"
                try:
                    yield Record(where, orjson.loads(line))
                except orjson.JSONDecodeError as exc:
                    yield Record(where, Unreadable(f"not valid JSON: {exc}"))
