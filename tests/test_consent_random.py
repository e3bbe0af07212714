"""The issue's randomized test: 10,000 customers with random consent histories (some merged into
others, some with a time zone), 10,000 attempted sends -> zero sends without a valid basis, zero
legitimate service replies blocked, and quiet hours hold exactly the proactive sends they should.

The expectation is a reference written apart from the policy (below, from docs/consent.md); the rows
are bulk-inserted so the time goes to ``decide()`` itself. PostgreSQL answers each of decide()'s few
reads over a socket, so there the same world gets the first 1,000 sends (the full 10,000 take minutes
on a loaded CI machine); SQLite runs all 10,000.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from amity.consent.config import ConsentSettings
from amity.consent.models import ConsentRecord
from amity.consent.policy import decide
from amity.consent.purposes import BUILTIN, LAWFUL_BASES
from amity.core.actions import App
from amity.customers.models import Customer

N_CUSTOMERS = 10_000
N_SENDS = {"sqlite": 10_000, "postgresql": 1_000}
PURPOSES = {p.key: p for p in BUILTIN}
CHANNELS = ["email", "sms", "whatsapp", "chat"]
ZONES = ["Europe/Lisbon", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
T0 = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
CFG = ConsentSettings()  # 21:00-08:00, business zone UTC


@dataclass(frozen=True)
class Rec:
    id: int
    customer: str
    purpose: str
    channel: str | None
    status: str
    basis: str
    at: dt.datetime


def _world(rng: random.Random) -> tuple[list[dict[str, object]], list[Rec], dict[str, str]]:
    customers: list[dict[str, object]] = []
    root: dict[str, str] = {}
    for i in range(N_CUSTOMERS):
        cid = f"cus_rand{i:022d}"
        # one in twenty is merged into an earlier, never-merged profile: its history counts there
        target = f"cus_rand{rng.randrange(i):022d}" if i > 10 and rng.random() < 0.05 else None
        if target is not None and root[target] != target:
            target = None
        root[cid] = target or cid
        traits = {"timezone": rng.choice(ZONES)} if rng.random() < 0.3 else {}
        customers.append(
            {
                "id": cid,
                "created_at": T0,
                "updated_at": T0,
                "merged_into_id": target,
                "traits": traits,
                "trait_times": {},
            }
        )
    recs: list[Rec] = []
    for c in customers:
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 5])):
            purpose = rng.choice(list(PURPOSES))
            allowed = PURPOSES[purpose].lawful_bases
            # a tenth rest on a basis the purpose does not allow (as if an admin changed it since)
            basis = rng.choice(LAWFUL_BASES) if rng.random() < 0.1 else rng.choice(allowed)
            at = T0 - dt.timedelta(minutes=rng.choice([0, 5, 60]) + 60 * rng.randrange(24 * 400))
            recs.append(
                Rec(
                    len(recs) + 1,
                    str(c["id"]),
                    purpose,
                    rng.choice([None, None, *CHANNELS]),
                    rng.choice(["granted", "granted", "withdrawn", "denied"]),
                    basis,
                    at,
                )
            )
    return customers, recs, root


def _reference(
    recs: list[Rec], purpose: str, channel: str, kind: str, own: bool, wrote: dt.datetime | None
) -> bool:
    """Is there a valid basis for this send? (docs/consent.md, written without the policy's code)"""
    mine = [r for r in recs if r.purpose == purpose]

    def newest(ch: str | None) -> Rec | None:
        rows = [r for r in mine if r.channel == ch]
        return max(rows, key=lambda r: (r.at, r.id)) if rows else None

    specific, blanket = newest(channel), newest(None)
    decisive = specific or blanket
    if (
        specific
        and blanket
        and blanket.status != "granted"
        and (blanket.at, blanket.id) > (specific.at, specific.id)
    ):
        decisive = blanket
    if decisive is None:
        return PURPOSES[purpose].default_basis is not None
    if decisive.status == "granted":
        return decisive.basis in PURPOSES[purpose].lawful_bases
    return purpose == "service" and kind == "reply" and own and wrote is not None and wrote > decisive.at


def _quiet(now: dt.datetime, zone: str) -> bool:
    h = now.astimezone(ZoneInfo(zone)).hour
    return h >= 21 or h < 8


def test_ten_thousand_sends_none_without_a_basis_no_service_reply_blocked(app: App) -> None:
    rng = random.Random(20261201)
    customers, recs, root = _world(rng)
    with app.db.write_session() as s, s.begin():
        # roots before the profiles merged into them (the foreign key), in batches
        ordered = sorted(customers, key=lambda c: c["merged_into_id"] is not None)
        for i in range(0, len(ordered), 2000):
            s.execute(insert(Customer), ordered[i : i + 2000])
        rows = [
            {
                "customer_id": r.customer,
                "purpose": r.purpose,
                "channel": r.channel,
                "status": r.status,
                "lawful_basis": r.basis,
                "source": "import",
                "at": r.at,
                "recorded_at": T0,
                "recorded_by": "system:test",
            }
            for r in recs
        ]
        for i in range(0, len(rows), 5000):
            s.execute(insert(ConsentRecord), rows[i : i + 5000])
    by_person: dict[str, list[Rec]] = {}
    for r in recs:
        by_person.setdefault(root[r.customer], []).append(r)
    zone_of = {str(c["id"]): str(c["traits"].get("timezone", "UTC")) for c in customers}  # type: ignore[attr-defined]

    tally: Counter[str] = Counter()
    started = time.perf_counter()
    with app.db.read() as s:
        n_sends = N_SENDS[app.db.engine.dialect.name]
        for _ in range(n_sends):
            cid = str(rng.choice(customers)["id"])
            purpose = rng.choice(list(PURPOSES))
            channel = rng.choice(CHANNELS)
            kind = rng.choice(["reply", "reply", "notification", "survey", "campaign"])
            own = rng.random() < 0.7
            urgent = rng.random() < 0.1
            wrote = (
                T0 - dt.timedelta(minutes=rng.randrange(60 * 24 * 400))
                if own and rng.random() < 0.8
                else None
            )
            now = T0 + dt.timedelta(minutes=rng.randrange(24 * 60))
            d = decide(
                s,
                cid,
                purpose,
                channel,
                kind=kind,
                urgent=urgent,
                now=now,
                in_reply_to_customer_conversation=own,
                customer_last_wrote_at=wrote,
                config=CFG,
            )
            valid = _reference(by_person.get(root[cid], []), purpose, channel, kind, own, wrote)
            went = not d.blocked  # sent now, or held until the morning
            if went and not valid:
                tally["sent without a basis"] += 1
            if valid and purpose == "service" and kind == "reply" and own and d.blocked:
                tally["service reply blocked"] += 1
            if valid != went:
                tally["disagrees with the reference"] += 1
            # the root's zone: a merged-away profile's time zone trait is not the person's any more
            should_hold = (
                went
                and kind != "reply"
                and not urgent
                and not (wrote is not None and now - wrote <= dt.timedelta(minutes=CFG.active_minutes))
                and _quiet(now, zone_of[root[cid]])
            )
            if should_hold != d.held:
                tally["quiet hours wrong"] += 1
            tally["sent now" if d.allowed else "held" if d.held else "blocked"] += 1
    took = time.perf_counter() - started
    print(
        f"\n{n_sends} decisions in {took:.1f} s ({n_sends / took:.0f}/s) on {app.db.engine.dialect.name}: {dict(tally)}"
    )
    assert tally["sent without a basis"] == 0
    assert tally["service reply blocked"] == 0
    assert tally["disagrees with the reference"] == 0
    assert tally["quiet hours wrong"] == 0
    every = n_sends // 100
    assert (
        tally["sent now"] > 10 * every and tally["blocked"] > 10 * every and tally["held"] > every
    )  # every path ran
