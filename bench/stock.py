"""Stock lookup across 500 locations x 50,000 variants: ``GET /api/v1/inventory?sku=``.

    python bench/stock.py                                   # SQLite, 500 x 50,000 (25M stock rows)
    python bench/stock.py --variants 5000 --lookups 500     # quicker
    python bench/stock.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test   # and PostgreSQL

For each backend: a fresh database migrated to head, then the catalogue loaded straight into its
tables: ``--locations`` stores with coordinates and ``--variants`` SKUs (10 sizes per product) through
``amity.db.fast_insert_rows``, then a stock row for every variant at every location made by the
database itself (``INSERT … SELECT`` over variants x locations, 1,000 variants a statement, the
secondary index and the foreign keys after, as one would for an initial load). Then ``--lookups``
random SKUs are looked up, each way in turn:

- baseline: a bare ``SELECT location_id, quantity, reserved … WHERE sku = ?`` through the driver;
- ``stock_for``: the query function the console and the agent actions call (in-process, no HTTP);
- ``stock_for near``: the same, sorted nearest first from a point;
- inventory JSON bytes: what the API sends, built in-process (``stock_lookup.as_json``);
- TestClient: ``GET /api/v1/inventory?sku=`` through the whole ASGI app (auth, middleware, JSON);
- uvicorn: the same over a real socket to uvicorn in a thread, with one keep-alive client.

Target: p99 <= 20 ms for the API. Figures are wall time on a shared machine, plus the process's CPU
time per call: compare with the baseline and the ``/healthz`` floor measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import TextClause, bindparam, create_engine, text
from sqlalchemy.engine import make_url

from amity.accounts.actions import create_token
from amity.catalog import queries, stock_lookup
from amity.catalog.models import Location, Product, Variant
from amity.config import Settings
from amity.core.actions import SYSTEM, perform
from amity.db import Database, UTCDateTime, fast_insert_rows, utcnow
from amity.migrate import upgrade
from amity.web.app import build_app, create_app

SECRET = "bench-secret-key-not-for-production-0123456789"  # noqa: S105 -- a throwaway app
TARGET_P99_MS = 20.0
SIZES = ("5", "5.5", "6", "6.5", "7", "7.5", "8", "8.5", "9", "9.5")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def load(db: Database, locations: int, variants: int, seed: int) -> tuple[list[str], float]:
    """Bulk-load the catalogue; returns the SKUs and the seconds it took."""
    rng = random.Random(seed)
    now = utcnow()
    started = time.perf_counter()
    loc_ids = [f"loc_bench{i:021d}" for i in range(locations)]
    products = (variants + len(SIZES) - 1) // len(SIZES)
    skus: list[str] = []
    var_ids: list[str] = []
    with db.write_session() as s, s.begin():
        fast_insert_rows(
            s,
            Location,
            ["id", "code", "name", "kind", "address", "city", "country", "latitude", "longitude", "timezone", "phone", "created_at"],
            [
                [lid, f"st-{i:04d}", f"Store {i:04d}", "store", f"{i} High Street", f"City {i % 97}", "GB",
                 rng.uniform(36.0, 60.0), rng.uniform(-10.0, 25.0), "Europe/London", f"+4420{i:07d}", now]
                for i, lid in enumerate(loc_ids)
            ],
        )  # fmt: skip
        fast_insert_rows(
            s,
            Product,
            ["id", "code", "name", "name_key", "brand", "category", "description", "attributes", "created_at", "updated_at"],
            [
                [f"prd_bench{p:021d}", f"ST-{p:06d}", f"Model {p:06d}", f"model {p:06d}", "Northwind", "shoes", "", {}, now, now]
                for p in range(products)
            ],
        )  # fmt: skip
        rows = []
        for v in range(variants):
            p, size = divmod(v, len(SIZES))
            vid = f"var_bench{v:021d}"
            sku = f"ST-{p:06d}-{SIZES[size]}"
            var_ids.append(vid)
            skus.append(sku)
            rows.append([vid, f"prd_bench{p:021d}", sku, SIZES[size], "black", {}, now])
        fast_insert_rows(
            s, Variant, ["id", "product_id", "sku", "size", "colour", "attributes", "created_at"], rows
        )
    load_stock(db, var_ids, locations, seed)
    print(file=sys.stderr)
    return skus, time.perf_counter() - started


QUANTITIES = (0, 0, 1, 1, 2, 3, 5, 8)  # mostly a few pairs, often none: what a shoe shop's shelves hold
VARIANTS_PER_STATEMENT = 1000  # 500,000 stock rows per INSERT … SELECT at 500 locations


def stock_insert(locations: int, seed: int) -> TextClause:
    """One INSERT … SELECT that makes a stock row for every (variant, location) of a range of variant
    ids, in primary-key order, with a quantity picked from QUANTITIES by a hash of the row's number.

    The rows never pass through Python: a 25M-row load is the database's own work. The row number
    comes from the bench's own ids (``var_bench…<n>``, ``loc_bench…<n>``); the pick is Knuth's
    multiplicative hash (the top 3 of 32 bits), in integer arithmetic both SQLite and PostgreSQL do
    the same way (no overflow: the product stays below 2**63).
    """
    n = f"(CAST(substr(v.id, 10) AS BIGINT) * {locations} + CAST(substr(l.id, 10) AS BIGINT) + {seed})"
    pick = f"({n} * 2654435761 % 4294967296) / 536870912"
    quantity = f"CASE {pick} " + " ".join(f"WHEN {i} THEN {q}" for i, q in enumerate(QUANTITIES)) + " END"
    sql = (
        "INSERT INTO catalog_stock (variant_id, location_id, quantity, reserved, updated_at) "
        f"SELECT v.id, l.id, {quantity}, 0, :now FROM catalog_variants v CROSS JOIN catalog_locations l "
        "WHERE v.id BETWEEN :first AND :last ORDER BY v.id, l.id"
    )
    return text(sql).bindparams(bindparam("now", type_=UTCDateTime()))


# Checked row by row these cost more than the insert itself (2.5x on PostgreSQL, 2.4x on SQLite). The
# rows are made from a join of the very tables they point at, so none can dangle: PostgreSQL checks
# them all at once when the constraints come back, SQLite's are simply off on the loading connection.
STOCK_FKS = (
    ("fk_catalog_stock_variant_id_catalog_variants", "variant_id", "catalog_variants"),
    ("fk_catalog_stock_location_id_catalog_locations", "location_id", "catalog_locations"),
)


def load_stock(db: Database, var_ids: list[str], locations: int, seed: int) -> None:
    """Every variant at every location, generated by the database in chunks of variants, as one would
    do an initial load: the secondary index and the foreign keys come after the rows."""
    stmt = stock_insert(locations, seed)
    now = utcnow()
    total = len(var_ids) * locations
    with db.engine.connect() as c:
        if db.is_sqlite:
            # A per-connection setting, and only outside a transaction: before SQLAlchemy begins one.
            c.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        else:
            for name, _, _ in STOCK_FKS:
                c.execute(text(f"ALTER TABLE catalog_stock DROP CONSTRAINT {name}"))
        c.execute(text("DROP INDEX ix_catalog_stock_location_id"))
        c.commit()
        for i in range(0, len(var_ids), VARIANTS_PER_STATEMENT):
            chunk = var_ids[i : i + VARIANTS_PER_STATEMENT]
            c.execute(stmt, {"now": now, "first": chunk[0], "last": chunk[-1]})
            c.commit()
            done = (i + len(chunk)) * locations
            print(f"\r  stock rows {done:,} / {total:,}", end="", file=sys.stderr, flush=True)
        c.execute(text("CREATE INDEX ix_catalog_stock_location_id ON catalog_stock (location_id)"))
        if not db.is_sqlite:
            for name, column, parent in STOCK_FKS:  # validates every row in one pass
                c.execute(
                    text(
                        f"ALTER TABLE catalog_stock ADD CONSTRAINT {name} FOREIGN KEY ({column}) REFERENCES {parent} (id)"
                    )
                )
        c.execute(text("ANALYZE"))
        c.commit()
        if db.is_sqlite:
            c.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
        loaded = c.execute(text("SELECT count(*) FROM catalog_stock")).scalar()
        c.rollback()
    assert loaded == total, (loaded, total)


def timed(fn: Callable[[str], object], skus: list[str], warmup: int) -> tuple[list[float], float]:
    """Wall milliseconds per call, and the process's CPU milliseconds per call (all its threads: for
    uvicorn the server's and the client's): the CPU figure moves far less with the machine's load."""
    for sku in skus[:warmup]:
        fn(sku)
    out = []
    cpu = time.process_time()
    for sku in skus[warmup:]:
        t0 = time.perf_counter()
        fn(sku)
        out.append((time.perf_counter() - t0) * 1000)
    return out, (time.process_time() - cpu) * 1000 / len(out)


def run_backend(name: str, url: str, home: Path, args: argparse.Namespace) -> dict[str, Any]:
    home.mkdir(parents=True, exist_ok=True)
    db = Database(url)
    upgrade(db)
    print(f"{name}: loading {args.locations} locations x {args.variants:,} variants", file=sys.stderr)
    skus, load_s = load(db, args.locations, args.variants, args.seed)
    app = build_app(Settings(home=home, database_url=url, secret_key=SECRET), db)
    token = perform(app, SYSTEM, create_token, "bench", "agent")
    rng = random.Random(args.seed + 1)
    sample = [rng.choice(skus) for _ in range(args.lookups + args.warmup)]
    results: dict[str, tuple[list[float], float]] = {}

    raw = db.engine.raw_connection()
    mark = "%s" if name == "postgresql" else "?"
    bare = (
        "SELECT s.location_id, s.quantity, s.reserved FROM catalog_stock s "
        f"JOIN catalog_variants v ON v.id = s.variant_id WHERE v.sku = {mark}"
    )

    def baseline(sku: str) -> None:
        cur = raw.cursor()
        cur.execute(bare, (sku,))
        assert len(cur.fetchall()) == args.locations
        cur.close()
        raw.rollback()

    results["baseline: bare SELECT by SKU (driver)"] = timed(baseline, sample, args.warmup)
    raw.close()

    def in_process(sku: str, near: tuple[float, float] | None = None) -> None:
        with db.read() as s:
            assert len(queries.stock_for(s, sku, near)["locations"]) == args.locations

    results["stock_for (in-process)"] = timed(in_process, sample, args.warmup)
    results["stock_for near (in-process)"] = timed(
        lambda k: in_process(k, (41.15, -8.61)), sample, args.warmup
    )

    def as_json(sku: str) -> None:
        with db.read() as s:
            assert stock_lookup.as_json(stock_lookup.lookup(s, sku), None).startswith(b'{"sku":')

    results["inventory JSON bytes (in-process)"] = timed(as_json, sample, args.warmup)
    headers = {"Authorization": f"Bearer {token}"}
    api = create_app(app)
    with TestClient(api) as client:

        def via_testclient(sku: str) -> None:
            r = client.get("/api/v1/inventory", params={"sku": sku}, headers=headers)
            assert r.status_code == 200, r.text

        def healthz_testclient(_: str) -> None:
            assert client.get("/healthz").status_code == 200

        results["GET /healthz (TestClient): HTTP floor"] = timed(healthz_testclient, sample, args.warmup)
        results["GET /api/v1/inventory (TestClient)"] = timed(via_testclient, sample, args.warmup)
    server = uvicorn.Server(
        uvicorn.Config(api, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    with httpx2.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as http:

        def via_http(sku: str) -> None:
            r = http.get("/api/v1/inventory", params={"sku": sku})
            assert r.status_code == 200, r.text

        def healthz_http(_: str) -> None:
            assert http.get("/healthz").status_code == 200

        results["GET /healthz (uvicorn): HTTP floor"] = timed(healthz_http, sample, args.warmup)
        results["GET /api/v1/inventory (uvicorn, HTTP)"] = timed(via_http, sample, args.warmup)
        size = len(http.get("/api/v1/inventory", params={"sku": sample[0]}).content)
    server.should_exit = True
    thread.join(timeout=10)
    db.dispose()
    return {"load_s": load_s, "rows": args.locations * args.variants, "bytes": size, "results": results}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--locations", type=int, default=500)
    parser.add_argument("--variants", type=int, default=50_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--pg", help="also run on this PostgreSQL server (a fresh database is made and dropped)"
    )
    parser.add_argument("--only-pg", action="store_true", help="skip SQLite")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="amity-bench-stock-"))
    backends: list[tuple[str, str, Callable[[], None]]] = []
    if not args.only_pg:

        def drop_sqlite() -> None:  # a few GB at full size: not left behind in /tmp
            for f in home.glob("amity.db*"):
                f.unlink()

        backends.append(("sqlite", f"sqlite:///{home / 'amity.db'}", drop_sqlite))
    if args.pg:
        base = make_url(args.pg)
        dbname = f"amity_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{dbname}"'))

        def drop() -> None:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
            admin.dispose()

        backends.append(("postgresql", base.set(database=dbname).render_as_string(hide_password=False), drop))
    failed = False
    for name, url, cleanup in backends:
        try:
            out = run_backend(name, url, home / name, args)
        finally:
            cleanup()
            shutil.rmtree(home / name, ignore_errors=True)
        print(
            f"\n{name}: {args.locations} locations x {args.variants:,} variants = {out['rows']:,} stock rows"
        )
        print(
            f"bulk load {out['load_s']:.0f} s ({out['rows'] / out['load_s']:,.0f} rows/s); answer {out['bytes']:,} bytes"
        )
        print(
            f"{args.lookups} random SKUs after {args.warmup} warm-up; load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
        )
        print(f"{'lookup':42} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'cpu ms':>8} {'x base p50':>10}")
        base_p50 = pct(next(iter(out["results"].values()))[0], 50)
        for label, (times, cpu) in out["results"].items():
            p50, p99 = pct(times, 50), pct(times, 99)
            over = label.startswith("GET /api") and p99 > TARGET_P99_MS
            failed |= over
            print(
                f"{label:42} {p50:8.2f} {p99:8.2f} {statistics.fmean(times):8.2f} {cpu:8.2f} {p50 / base_p50:10.1f}{'  over target' if over else ''}"
            )
    home.rmdir()
    print(
        f"\ntarget: p99 <= {TARGET_P99_MS:.0f} ms for GET /api/v1/inventory: {'NOT MET' if failed else 'met'}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
