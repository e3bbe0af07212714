"""What the one send policy costs per message: ``consent.policy.decide`` against the least it must read.

    python bench/consent.py                  # SQLite in a temporary directory
    python bench/consent.py --customers 20000 --records 3 --sends 20000

(1) baseline: ``customers.queries.profile_ids`` per send, the resolution of the person every decision
needs (merged profiles' history counts); (2) ``decide()`` for the same sends (the person, their ledger
for the purpose, and for proactive sends the time zone); (3) the outbox's whole question per message,
``policy.for_message``. Figures to stdout; the ratios are what to compare between machines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from amity.consent import policy
from amity.consent.config import ConsentSettings
from amity.consent.models import ConsentRecord
from amity.customers import queries as customers
from amity.customers.models import Customer
from amity.db import Database
from amity.migrate import upgrade

T0 = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
PURPOSES = ["service", "marketing", "personalisation"]
CHANNELS = ["email", "sms", "whatsapp", None]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--records", type=int, default=3, help="consent records per customer")
    ap.add_argument("--sends", type=int, default=10_000)
    ap.add_argument("--database-url", default=None, help="default: SQLite in a temporary directory")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="amity-bench-consent-"))
    db = Database(args.database_url or f"sqlite:///{tmp / 'amity.db'}")
    upgrade(db)
    rng = random.Random(7)
    ids = [f"cus_bench{i:021d}" for i in range(args.customers)]
    with db.write_session() as s, s.begin():
        s.execute(
            insert(Customer),
            [{"id": c, "created_at": T0, "updated_at": T0, "traits": {}, "trait_times": {}} for c in ids],
        )
        rows = [
            {
                "customer_id": c,
                "purpose": rng.choice(PURPOSES),
                "channel": rng.choice(CHANNELS),
                "status": rng.choice(["granted", "withdrawn"]),
                "lawful_basis": "consent",
                "source": "import",
                "at": T0 - dt.timedelta(days=rng.randrange(400)),
                "recorded_at": T0,
                "recorded_by": "bench",
            }
            for c in ids
            for _ in range(args.records)
        ]
        for i in range(0, len(rows), 10_000):
            s.execute(insert(ConsentRecord), rows[i : i + 10_000])
    sends = [(rng.choice(ids), rng.choice(PURPOSES), rng.choice(["email", "sms"])) for _ in range(args.sends)]
    cfg = ConsentSettings()

    def timed(label: str, fn: object) -> float:
        started = time.perf_counter()
        with db.read() as s:
            for cid, purpose, channel in sends:
                fn(s, cid, purpose, channel)  # type: ignore[operator]
        took = time.perf_counter() - started
        print(f"{label:<34} {len(sends) / took:>9,.0f}/s  {took * 1e6 / len(sends):>7,.0f} µs each")
        return took

    print(
        f"{args.customers:,} customers, {len(rows):,} consent records, {len(sends):,} sends, {db.engine.dialect.name}"
    )
    base = timed("baseline: profile_ids", lambda s, c, p, ch: customers.profile_ids(s, c))
    dec = timed(
        "decide() (campaign, not urgent)",
        lambda s, c, p, ch: policy.decide(
            s,
            c,
            p,
            ch,
            kind="campaign",
            urgent=False,
            now=T0,
            in_reply_to_customer_conversation=False,
            config=cfg,
        ),
    )
    out = timed(
        "for_message() (an unlabelled reply)",
        lambda s, c, p, ch: policy.for_message(
            s, customer_id=c, channel_type=ch, meta={}, customer_last_wrote_at=T0, now=T0, config=cfg
        ),
    )
    print(f"decide / baseline: {dec / base:.2f}x   for_message / baseline: {out / base:.2f}x")


if __name__ == "__main__":
    main()
