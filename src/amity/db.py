"""Engine and session set-up for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import orjson
from sqlalchemy import JSON, DateTime, Engine, MetaData, Table, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC on the way in and out, whatever the backend stores.

    SQLite has no timezone type; storing naive UTC there and re-attaching UTC on read keeps
    comparisons and ordering correct on both backends.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def _json_dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def _json_loads(value: Any) -> Any:
    # SQLite gives a JSON column NUMERIC affinity, so the text "6.5" comes back as the number 6.5;
    # SQLAlchemy expects json.loads' TypeError for that, while orjson raises a ValueError.
    if isinstance(value, int | float):
        return value
    return orjson.loads(value)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            json_serializer=_json_dumps,
            json_deserializer=_json_loads,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(
        url,
        echo=echo,
        json_serializer=_json_dumps,
        json_deserializer=_json_loads,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        # Take transaction control from pysqlite so we can say BEGIN IMMEDIATE for writers:
        # a deferred writer that upgrades its lock mid-transaction can fail with SQLITE_BUSY at once.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")  # durable across app crashes in WAL mode
        # Checkpoint every ~40 MB of WAL instead of every 4 MB: an ingest batch dirties ~7 MB of pages,
        # and hot index pages rewritten by several batches are then copied to the database (and
        # fsynced) once instead of once per batch. Readers are not blocked by checkpoints in WAL mode.
        cur.execute("PRAGMA wal_autocheckpoint=10000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("amity_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


class Database:
    """One per process: the engine, a read session factory and a write session factory."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        write_engine = self.engine.execution_options(amity_write=True)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(write_engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    def write_session(self) -> Session:
        return self._write()

    def dispose(self) -> None:
        self.engine.dispose()


SQLITE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # what SQLAlchemy's DateTime stores on SQLite


def _sqlite_time(v: dt.datetime | None) -> str | None:
    if v is None:
        return None
    if v.tzinfo is not dt.UTC:
        v = v.astimezone(dt.UTC)
    if v.year >= 1000:
        # isoformat is ~3x faster than strftime and, for 4-digit years, writes the same 26 characters
        # before its "+00:00"
        return v.isoformat(" ", "microseconds")[:26]
    return v.strftime(SQLITE_TIME_FORMAT)


def _json_text(v: Any) -> str:
    # JSON null (not SQL NULL) for None, as SQLAlchemy's JSON type does by default
    return orjson.dumps(v).decode()


def _converter(column: Any, dialect: str) -> Callable[[Any], Any] | None:
    """How one column's Python value becomes a driver value, matching what SQLAlchemy itself stores."""
    ctype = column.type
    if isinstance(ctype, UTCDateTime):
        if dialect == "sqlite":
            return _sqlite_time
        return None  # psycopg sends aware datetimes as timestamptz
    if (
        isinstance(ctype, JSON)
        or isinstance(getattr(ctype, "impl", None), JSON)
        or "JSON" in type(ctype).__name__
    ):
        return _json_text
    return None


def fast_insert(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """``fast_insert_rows`` for rows given as dicts (every dict with the same keys)."""
    if rows:
        cols = list(rows[0])
        fast_insert_rows(session, model, cols, [[row[c] for c in cols] for row in rows])


def fast_insert_rows(
    session: Session, model: type[Base], columns: Sequence[str], rows: list[list[Any]]
) -> None:
    """Insert rows straight through the driver, for hot bulk paths (event ingest).

    SQLAlchemy's per-row parameter processing costs more than SQLite's own insert; here only the
    columns that need it are converted, in place (the lists are the caller's and are consumed), and
    the rows go to the DBAPI cursor: ``executemany`` on SQLite, ``COPY`` on PostgreSQL (a third of the
    time of executemany there). Values are stored exactly as SQLAlchemy would store them, so the ORM
    reads them back unchanged.
    """
    if not rows:
        return
    table = cast(Table, model.__table__)
    conn = session.connection()
    dialect = conn.dialect.name
    for i, name in enumerate(columns):
        conv = _converter(table.c[name], dialect)
        if conv is not None:
            # Neighbouring rows often hold the very same object (the batch's time, None): convert it once.
            last_in: Any = object()
            last_out: Any = None
            for row in rows:
                value = row[i]
                if value is not last_in:
                    last_in, last_out = value, conv(value)
                row[i] = last_out
    names = ", ".join(columns)
    if dialect == "postgresql":
        import psycopg  # only PostgreSQL deployments need the driver

        dbapi = cast(psycopg.Connection[Any], conn.connection.dbapi_connection)
        sql = f"COPY {table.name} ({names}) FROM STDIN"
        try:
            with dbapi.cursor() as cur, cur.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        except psycopg.Error as exc:
            # As SQLAlchemy would raise it (IntegrityError, OperationalError…): actions retry on those.
            raise DBAPIError.instance(sql, None, exc, psycopg.Error, dialect=conn.dialect) from exc
        return
    marks = ", ".join("?" * len(columns))
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # noqa: S608 -- names come from our own Table, values are bound
    conn.exec_driver_sql(sql, [tuple(row) for row in rows])
