"""Storage side of the ingest benchmark: bulk background population and the raw-insert baselines.

The background (full mode: most of the 10M events) is written straight into Amity's real tables with the
row shapes Amity itself stores (same id layout, JSON text, UTC times), bypassing resolution: each person
is one customer holding the identifiers it is "known" by, a few have a merged-away second profile.
The raw baseline inserts the very rows the action layer stored into an events-shaped table with the
(customer_id, timestamp) index and nothing else: no resolution, no validation, no foreign keys.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import time
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import psycopg
from sqlalchemy.engine import make_url

from _gen import ANCHOR, KINDS, EventStream, Population, frac, mix, properties, sortable_id

EVENT_COLS = "id, customer_id, origin_customer_id, type, timestamp, received_at, source, identities, traits, properties, flags"
TABLE_COLS = {
    "customers": "id, created_at, updated_at, merged_into_id, merged_at, traits, trait_times, name_key",
    "identities": "customer_id, origin_customer_id, type, value, created_at, event_id",
    "trait_history": "customer_id, origin_customer_id, name, value, observed_at, event_id",
    "merges": "id, survivor_id, merged_id, reason, evidence, actor, created_at",
    "events": EVENT_COLS,
}
BATCH = 1000  # rows per transaction in the raw baselines, the same as an ingest batch
Row = tuple[Any, ...]


def dumps(v: Any) -> str:
    return orjson.dumps(v).decode()


def ts_key(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Background:
    """Rows for ``people`` customers and ``events`` timeline events before the measured slices."""

    def __init__(self, pop: Population, people: int, events: int, seed: int, pg: bool) -> None:
        self.pop, self.n, self.events, self.seed = pop, people, events, seed
        self.fmt = "%Y-%m-%d %H:%M:%S.%f+00" if pg else "%Y-%m-%d %H:%M:%S.%f"
        self.cust: list[str] = []
        self.extra: dict[int, str] = {}
        self.ident_json: list[tuple[str, str]] = []
        self.created0 = ANCHOR - dt.timedelta(days=400)

    def t(self, when: dt.datetime) -> str:
        return when.strftime(self.fmt)

    def people_rows(self) -> dict[str, list[Row]]:
        out: dict[str, list[Row]] = {
            name: [] for name in ("customers", "identities", "trait_history", "merges")
        }
        base_ms = int(self.created0.timestamp() * 1000)
        for i in range(self.n):
            p = self.pop.person(i)
            known = self.pop.known(p)
            ms = base_ms + i * 10
            created = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
            cid = sortable_id("cus", ms, mix(self.seed, i, 30))
            self.cust.append(cid)
            self.ident_json.append(
                (
                    dumps([{"type": t, "value": v} for t, v in known[:1]]),
                    dumps([{"type": t, "value": v} for t, v in known[:3]]),
                )
            )
            traits: dict[str, Any] = {}
            if frac(self.seed, i, 33) < 0.45:
                traits = {k: p.traits[k] for k in ("name", "language")}
                if frac(self.seed, i, 34) < 0.3:
                    traits["timezone"] = p.traits["timezone"]
            seen = created + dt.timedelta(hours=1)
            out["customers"].append(
                (
                    cid,
                    self.t(created),
                    self.t(seen),
                    None,
                    None,
                    dumps(traits),
                    dumps({k: ts_key(seen) for k in traits}),
                    traits["name"].lower() if traits else None,
                )
            )
            out["trait_history"].extend(
                (cid, cid, k, dumps(v), self.t(seen), None) for k, v in traits.items()
            )
            origin = [cid] * len(known)
            if len(known) > 1 and frac(self.seed, i, 31) < 0.04:  # a second profile, merged in long ago
                other = sortable_id("cus", ms + 5, mix(self.seed, i, 32))
                self.extra[i] = other
                origin[-1] = other
                merged = created + dt.timedelta(days=1)
                out["customers"].append(
                    (
                        other,
                        self.t(created + dt.timedelta(milliseconds=5)),
                        self.t(merged),
                        cid,
                        self.t(merged),
                        "{}",
                        "{}",
                        None,
                    )
                )
                ev = {"identity": f"{known[-1][0]}:{known[-1][1]}", "event_id": None}
                out["merges"].append(
                    (
                        sortable_id("mrg", ms + 6, mix(self.seed, i, 35)),
                        cid,
                        other,
                        "identity",
                        dumps(ev),
                        "system:amity",
                        self.t(merged),
                    )
                )
            out["identities"].extend(
                (cid, o, t, v, self.t(created), None) for (t, v), o in zip(known, origin, strict=True)
            )
        out["identities"].sort(key=lambda r: (r[3], r[2]))  # unique (value, type) index: append in order
        return out

    def event_rows(self, chunk: int = 100_000) -> Iterator[list[Row]]:
        """Time-ordered events over the year before the slices; ids sort like Amity's (time first)."""
        rng = random.Random(self.seed * 31 + 1)
        picker = EventStream(
            self.pop, self.n, seed=self.seed * 31 + 2, start=ANCHOR, span=dt.timedelta(days=1)
        )
        pool: list[tuple[str, str, str]] = []
        for k in range(4096):
            kind, source, _ = KINDS[k % len(KINDS)]
            pool.append((kind, source, dumps(properties(rng, kind))))
        start_ms = int((ANCHOR - dt.timedelta(days=366)).timestamp() * 1000)
        step = 365 * 86_400_000 / max(self.events, 1)
        rows: list[Row] = []
        for j in range(self.events):
            i = picker.pick_person()
            ms = start_ms + int(j * step)
            when = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
            kind, source, props = pool[rng.getrandbits(12)]
            cid = self.cust[i]
            origin = self.extra.get(i, cid) if rng.random() < 0.3 else cid
            idents = self.ident_json[i][rng.random() < 0.4]
            rows.append(
                (
                    sortable_id("evt", ms, rng.getrandbits(80)),
                    cid,
                    origin,
                    kind,
                    self.t(when),
                    self.t(when + dt.timedelta(seconds=2)),
                    source,
                    idents,
                    "null",
                    props,
                    "null",
                )
            )
            if len(rows) >= chunk:
                yield rows
                rows = []
        if rows:
            yield rows


def pg_conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class SqliteStore:
    kind = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self.pragmas: dict[str, str] = {"journal_mode": "wal", "synchronous": "1"}  # replaced by Amity's own
        self.cpu_seconds: float | None = None  # set by raw_baseline

    def mirror(self, pragmas: dict[str, str]) -> None:
        """Give the raw table the settings of Amity's own connections (read from a live one)."""
        self.pragmas = pragmas

    def _conn(self, path: str | None = None) -> sqlite3.Connection:
        conn = sqlite3.connect(path or self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def bulk_load(self, bg: Background) -> dict[str, int]:
        conn = self._conn()
        conn.execute(
            "PRAGMA cache_size=-2000000"
        )  # the loader's own connection only; Amity keeps its defaults
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL AND tbl_name IN ('customers','identities','events','trait_history','merges')"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        counts: dict[str, int] = {}
        for table, rows in bg.people_rows().items():
            counts[table] = len(rows)
            self._insert(conn, table, rows)
        counts["events"] = 0
        for rows in bg.event_rows():
            counts["events"] += len(rows)
            self._insert(conn, "events", rows)
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        return counts

    @staticmethod
    def _insert(conn: sqlite3.Connection, table: str, rows: Sequence[Row]) -> None:
        cols = TABLE_COLS[table]
        marks = ", ".join("?" * len(cols.split(",")))
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
        conn.execute("COMMIT")

    def mark(self) -> int:
        conn = self._conn()
        try:
            return int(conn.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()[0])
        finally:
            conn.close()

    def slice_rows(self, lo: Any, hi: Any) -> list[Row]:
        conn = self._conn()
        try:
            return conn.execute(
                f"SELECT {EVENT_COLS} FROM events WHERE rowid > ? AND rowid <= ? ORDER BY rowid", (lo, hi)
            ).fetchall()
        finally:
            conn.close()

    def raw_baseline(self, raw_path: str, prefill_upto: Any, rows: list[Row]) -> float:
        """Seconds to insert ``rows`` in 1000-row transactions, table pre-filled with the background."""
        conn = sqlite3.connect(raw_path, isolation_level=None)
        for name in (
            "page_size",
            *sorted(set(self.pragmas) - {"page_size"}),
        ):  # page_size before the file exists
            if name in self.pragmas:
                conn.execute(f"PRAGMA {name}={self.pragmas[name]}")
        conn.execute(
            "CREATE TABLE raw_events (id VARCHAR(128) NOT NULL PRIMARY KEY, customer_id VARCHAR(32) NOT NULL, "
            "origin_customer_id VARCHAR(32) NOT NULL, type VARCHAR(100) NOT NULL, timestamp DATETIME NOT NULL, "
            "received_at DATETIME NOT NULL, source VARCHAR(100), identities JSON NOT NULL, traits JSON, "
            "properties JSON NOT NULL, flags JSON)"
        )
        if prefill_upto:
            conn.execute("ATTACH DATABASE ? AS src", (self.path,))
            conn.execute(
                f"INSERT INTO raw_events SELECT {EVENT_COLS} FROM src.events WHERE rowid <= ?",
                (prefill_upto,),
            )
            conn.execute("DETACH DATABASE src")
        conn.execute("CREATE INDEX ix_raw_customer_ts ON raw_events (customer_id, timestamp)")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        sql = f"INSERT INTO raw_events ({EVENT_COLS}) VALUES ({', '.join('?' * 11)})"
        cpu_started = time.process_time()
        started = time.perf_counter()
        for k in range(0, len(rows), BATCH):
            conn.execute("BEGIN")
            conn.executemany(sql, rows[k : k + BATCH])
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
        self.cpu_seconds = time.process_time() - cpu_started
        conn.close()
        return elapsed


class PgStore:
    kind = "postgresql"

    def __init__(self, url: str) -> None:
        self.conninfo = pg_conninfo(url)
        self.copy_seconds: float | None = None  # set by raw_baseline

    def bulk_load(self, bg: Background) -> dict[str, int]:
        counts: dict[str, int] = {}
        with psycopg.connect(self.conninfo) as conn:
            conn.execute("SET maintenance_work_mem = '1GB'")
            indexes = conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(%s) "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                (list(TABLE_COLS),),
            ).fetchall()
            for name, _ in indexes:
                conn.execute(f'DROP INDEX "{name}"')
            for table, rows in bg.people_rows().items():
                counts[table] = len(rows)
                self._copy(conn, table, rows)
            counts["events"] = 0
            for rows in bg.event_rows():
                counts["events"] += len(rows)
                self._copy(conn, "events", rows)
            conn.commit()
            for _, sql in indexes:
                conn.execute(sql)
            conn.commit()
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE")  # autovacuum would get there; don't measure before it does
        return counts

    @staticmethod
    def _copy(conn: psycopg.Connection[Any], table: str, rows: Sequence[Row]) -> None:
        with conn.cursor() as cur, cur.copy(f"COPY {table} ({TABLE_COLS[table]}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def mark(self) -> dt.datetime:
        time.sleep(0.01)
        return dt.datetime.now(dt.UTC)

    def slice_rows(self, lo: Any, hi: Any) -> list[Row]:
        cols = EVENT_COLS.replace("identities", "identities::text").replace("traits", "traits::text")
        cols = cols.replace("properties", "properties::text").replace("flags", "flags::text")
        with psycopg.connect(self.conninfo) as conn:
            return conn.execute(
                f"SELECT {cols} FROM events WHERE received_at >= %s AND received_at < %s ORDER BY received_at, ctid",
                (lo, hi),
            ).fetchall()

    def raw_baseline(self, _raw_path: str, prefill_upto: Any, rows: list[Row]) -> float:
        with psycopg.connect(self.conninfo) as conn:
            conn.execute("SET maintenance_work_mem = '1GB'")
            conn.execute("CREATE TABLE bench_raw_events (LIKE events INCLUDING DEFAULTS)")
            if prefill_upto:
                conn.execute(
                    "INSERT INTO bench_raw_events SELECT * FROM events WHERE received_at < %s",
                    (prefill_upto,),
                )
            conn.execute("ALTER TABLE bench_raw_events ADD PRIMARY KEY (id)")
            conn.execute("CREATE INDEX ix_bench_raw_customer_ts ON bench_raw_events (customer_id, timestamp)")
            conn.commit()
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE bench_raw_events")
            conn.autocommit = False
            sql = f"INSERT INTO bench_raw_events ({EVENT_COLS}) VALUES ({', '.join(['%s'] * 11)})"
            started = time.perf_counter()
            with conn.cursor() as cur:
                for k in range(0, len(rows), BATCH):
                    cur.executemany(sql, rows[k : k + BATCH])
                    conn.commit()
            elapsed = time.perf_counter() - started
            # For reference only (not the baseline): the same rows again by COPY, as Amity writes them,
            # under new ids into the same table (the slice already in makes its indexes 2.6 % larger).
            copied = [(f"{r[0]}~c", *r[1:]) for r in rows]
            started = time.perf_counter()
            with conn.cursor() as cur:
                for k in range(0, len(copied), BATCH):
                    with cur.copy(f"COPY bench_raw_events ({EVENT_COLS}) FROM STDIN") as copy:
                        for row in copied[k : k + BATCH]:
                            copy.write_row(row)
                    conn.commit()
            self.copy_seconds = time.perf_counter() - started
            conn.execute("DROP TABLE bench_raw_events")
            conn.commit()
        return elapsed
