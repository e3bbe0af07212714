"""The agent console's pages, timed on the server with the demo retailer loaded.

    python bench/console.py                    # SQLite, 1,000 demo people, 300 conversations
    python bench/console.py --requests 50      # quicker
    python bench/console.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test   # and PostgreSQL

For each backend: a fresh database, the demo data (``amity.demo.load_demo``: ~1,000 customers with
their identities, traits, merges and timelines), an SLA policy so conversations have due times, and
``--conversations`` conversations opened through the API channel's signed webhook by demo customers
(a third assigned to the agent, some tagged, a few approvals pending). Then every console page is
requested in-process (FastAPI's TestClient: the whole ASGI app, middleware and templates, no
network), the pages in turn, round after round, signed in through the login form as the demo agent
(approvals: the demo supervisor).
``--warmup`` requests per page are not counted. The baseline in the same run is ``GET /healthz``:
what a request costs with no work at all. Target: p95 < 300 ms per page.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from amity.accounts.actions import create_token
from amity.channels.signing import sign
from amity.config import Settings
from amity.core.actions import SYSTEM, perform
from amity.customers.models import Identity
from amity.db import Database
from amity.demo import DEMO_PASSWORD, load_demo
from amity.migrate import upgrade
from amity.web.app import build_app, create_app

SECRET = "bench-secret-key-not-for-production-0123456789"  # noqa: S105 -- a throwaway app
CHANNEL_SECRET = "bench-channel-secret-0123456789"  # noqa: S105
TARGET_P95_MS = 300.0
TOPICS = ["order", "refund", "size", "delivery", "store", "coupon", "return", "loyalty"]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: TestClient, email: str) -> str:
    r = client.post(
        "/login",
        data={"email": email, "password": DEMO_PASSWORD, "csrf": csrf(client.get("/login").text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return csrf(client.get("/inbox").text)


def seed(client: TestClient, app: Any, conversations: int) -> list[str]:
    """Conversations from demo customers through the signed webhook; returns their ids."""
    token = perform(app, SYSTEM, create_token, "bench", "admin")
    admin = {"Authorization": f"Bearer {token}"}
    r = client.post(
        "/api/v1/sla-policies",
        json={"name": "Standard", "targets": {"*": {"first_response": 45, "resolution": 1440}}},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/channels",
        json={"type": "api", "name": "Web chat", "config": {"secret": CHANNEL_SECRET}},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    channel = r.json()["id"]
    with app.db.read() as s:
        emails = list(
            s.scalars(
                select(Identity.value)
                .where(Identity.type == "email")
                .order_by(Identity.id)
                .limit(conversations)
            )
        )
    ids = []
    for n, email in enumerate(emails):
        body = orjson.dumps(
            {
                "from": {"type": "email", "value": email},
                "text": f"Question {n} about my {TOPICS[n % len(TOPICS)]}",
            }
        )
        r = client.post(
            f"/hooks/{channel}/api",
            content=body,
            headers={"content-type": "application/json", "X-Amity-Signature": sign(CHANNEL_SECRET, body)},
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["conversation_id"])
    return ids


def run_backend(name: str, db_url: str, home: Path, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    db = Database(db_url)
    upgrade(db)
    app = build_app(Settings(home=home, database_url=db_url, secret_key=SECRET), db)
    started = time.perf_counter()
    demo = load_demo(app, people=args.people)
    print(f"[{name}] demo loaded in {time.perf_counter() - started:.0f} s: {demo}", file=sys.stderr)
    with TestClient(create_app(app)) as root:
        ids = seed(root, app, args.conversations)
        agent, supervisor = TestClient(root.app), TestClient(root.app)
        token = sign_in(agent, "agent@amity.example")
        sign_in(supervisor, "supervisor@amity.example")
        for n, cid in enumerate(ids):
            if n % 3 == 0:
                agent.post(
                    f"/conversations/{cid}/update",
                    data={"csrf": token, "which": "assign", "assignee_id": "me"},
                )
            if n % 5 == 0:
                agent.post(
                    f"/conversations/{cid}/update", data={"csrf": token, "which": "tags", "tags": "vip"}
                )
            if n % 30 == 0:
                agent.post(
                    f"/conversations/{cid}/approval",
                    data={
                        "csrf": token,
                        "kind": "refund",
                        "amount": "49.90",
                        "currency": "EUR",
                        "reason": "bench",
                    },
                )
        print(f"[{name}] {len(ids)} conversations opened", file=sys.stderr)

        turn = itertools.count()

        def some_conversation() -> str:
            return ids[next(turn) % len(ids)]

        pages: dict[str, tuple[TestClient, Callable[[], str]]] = {
            "GET /healthz (baseline)": (agent, lambda: "/healthz"),
            "GET /inbox (mine)": (agent, lambda: "/inbox"),
            "GET /inbox?view=all": (agent, lambda: "/inbox?view=all"),
            "GET /inbox?view=unassigned&tag=vip": (agent, lambda: "/inbox?view=unassigned&tag=vip"),
            "GET /inbox?view=breaching": (agent, lambda: "/inbox?view=breaching"),
            "GET /inbox?view=all&q=refund": (agent, lambda: "/inbox?view=all&q=refund"),
            "GET /inbox?view=all&channel=api": (agent, lambda: "/inbox?view=all&channel=api"),
            "GET /inbox/counts": (agent, lambda: "/inbox/counts?view=all"),
            "GET /inbox/rows/{id}": (agent, lambda: f"/inbox/rows/{some_conversation()}?view=all"),
            "GET /conversations/{id}": (agent, lambda: f"/conversations/{some_conversation()}"),
            "GET /approvals (supervisor)": (supervisor, lambda: "/approvals"),
        }
        # Round-robin over the pages: a burst of load from elsewhere on the machine then lands on every
        # page (and on the baseline) alike instead of on whichever page happened to be measured.
        for _ in range(args.warmup):
            for client, path in pages.values():
                client.get(path())
        times: dict[str, list[float]] = {label: [] for label in pages}
        for _ in range(args.requests):
            for label, (client, path) in pages.items():
                url = path()
                t0 = time.perf_counter()
                r = client.get(url)
                times[label].append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, (url, r.status_code)
        out = {
            label: {"p50": statistics.median(t), "p95": pct(t, 95), "max": max(t)}
            for label, t in times.items()
        }
    db.dispose()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--conversations", type=int, default=300)
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--pg", help="also run on this PostgreSQL server (a fresh database is made)")
    args = parser.parse_args()
    backends: list[tuple[str, str, Callable[[], None]]] = []
    home = Path(tempfile.mkdtemp(prefix="amity-bench-console-"))
    backends.append(("sqlite", f"sqlite:///{home / 'amity.db'}", lambda: None))
    if args.pg:
        base = make_url(args.pg)
        name = f"amity_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))

        def drop() -> None:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

        backends.append(("postgresql", base.set(database=name).render_as_string(hide_password=False), drop))
    failed = False
    for name, url, cleanup in backends:
        try:
            results = run_backend(name, url, home / name, args)
        finally:
            cleanup()
        print(
            f"\n{name}: {args.requests} requests per page after {args.warmup} warm-up, in-process (TestClient)"
        )
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"load average when done: {load} on {os.cpu_count()} CPUs (compare every row with the baseline)"
        )
        print(f"{'page':42} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for label, r in results.items():
            over = label != "GET /healthz (baseline)" and r["p95"] >= TARGET_P95_MS
            failed |= over
            mark = "  over target" if over else ""
            print(f"{label:42} {r['p50']:8.1f} {r['p95']:8.1f} {r['max']:8.1f}{mark}")
    print(f"\ntarget: p95 < {TARGET_P95_MS:.0f} ms on every page: {'NOT MET' if failed else 'met'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
