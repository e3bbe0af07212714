"""What the privacy capability costs: the tombstone guard on ingest, and one erasure.

    python bench/privacy.py            # SQLite in a temporary directory
    python bench/privacy.py --events 20000 --tombstones 5000

(1) ``events`` events through the action layer (``customers.service.ingest``, batches of 1,000) with no
tombstones: the guard's one indexed probe per batch; (2) the same number again after ``tombstones``
people were erased: every identifier is hashed and looked up; the ratio (2)/(1) is the guard's cost.
(3) the time of one erasure of a person with 50 events and a conversation, with the database holding
everything above. Figures to stdout; ratios are what to compare between machines.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from amity.config import Settings
from amity.core.actions import SYSTEM, perform
from amity.customers import service
from amity.db import Database, utcnow
from amity.migrate import upgrade
from amity.privacy import requests, runner, tombstones
from amity.privacy.schemas import RequestIn
from amity.web.app import build_app


def _events(prefix: str, n: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "page.viewed",
            "identities": [{"type": "email", "value": f"{prefix}{i % (n // 5 or 1)}@bench.example"}],
            "properties": {"path": "/shoes"},
        }
        for i in range(n)
    ]


def _ingest(app: Any, events: list[dict[str, Any]]) -> float:
    t = time.perf_counter()
    for i in range(0, len(events), 1000):
        service.ingest(app, SYSTEM, events[i : i + 1000])
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--tombstones", type=int, default=2_000)
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="amity-bench-privacy-"))
    db = Database(f"sqlite:///{home / 'amity.db'}")
    upgrade(db)
    app = build_app(Settings(home=home, secret_key=secrets.token_urlsafe(32)), db)
    secret = str(app.cache["secret_key"])

    base = _ingest(app, _events("a", args.events))
    with db.write_session() as s, s.begin():
        tombstones.bury(
            s, secret, [("email", f"gone{i}@bench.example") for i in range(args.tombstones)], None
        )
    guarded = _ingest(app, _events("b", args.events))

    times = []
    for k in range(3):
        cid = service.ingest(app, SYSTEM, _events(f"victim{k}-", 50))["results"][0]["customer_id"]
        body = RequestIn(type="erasure", customer_id=cid, verification_method="bench")
        r = perform(app, SYSTEM, requests.file_request, body, utcnow())
        t = time.perf_counter()
        assert runner.run(app, r.id) == "completed"
        times.append(time.perf_counter() - t)

    print(f"ingest, no tombstones:          {args.events / base:10.0f} events/s")
    print(f"ingest, {args.tombstones} tombstones:      {args.events / guarded:10.0f} events/s")
    print(f"guard cost (with/without):      {guarded / base:10.2f}x time")
    print(f"one erasure (median of 3):      {statistics.median(times) * 1000:10.1f} ms")


if __name__ == "__main__":
    main()
