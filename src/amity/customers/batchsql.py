"""The statements of a batch ingest: lookups and bulk writes, each one statement whatever the batch size.

A list of keys is bound as ONE parameter (a JSON array read by ``json_each`` on SQLite, an array for
``= ANY`` on PostgreSQL) instead of one bind per key: the statement text never changes, so SQLAlchemy
compiles it once per process instead of expanding hundreds of binds on every call, and no chunking is
needed for SQLite's bind limit. Both forms use the same indexes as ``IN (...)``. Statements run on the
session's Core connection: these are plain column reads, the ORM adds nothing but time. Writes are
one executemany each (inserts go through ``db.fast_insert_rows``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable
from typing import Any, cast

import orjson
from sqlalchemy import ColumnElement, Select, String, Table, any_, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from amity.customers.models import Customer, Event, Identity, Merge
from amity.db import _converter

KEYS = "keys"

# Column order of the rows the resolver builds (lists, so flush can re-point customer_id in place).
IDENTITY_COLS = ("customer_id", "origin_customer_id", "type", "value", "created_at", "event_id")
EVENT_COLS = (
    "id",
    "customer_id",
    "origin_customer_id",
    "type",
    "timestamp",
    "received_at",
    "source",
    "identities",
    "traits",
    "properties",
    "flags",
)
TRAIT_COLS = ("customer_id", "origin_customer_id", "name", "value", "observed_at", "event_id")
CUSTOMER_COLS = ("id", "created_at", "updated_at", "traits", "trait_times", "name_key")
MERGE_COLS = ("id", "survivor_id", "merged_id", "reason", "evidence", "actor", "created_at")


def _member(column: Any, dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return cast(ColumnElement[bool], column == any_(bindparam(KEYS, type_=ARRAY(String))))
    each = func.json_each(bindparam(KEYS, type_=String)).table_valued("value")
    return cast(ColumnElement[bool], column.in_(select(each.c.value)))


def _keys(values: Iterable[str], dialect: str) -> Any:
    # Sorted, the index is probed in key order: each of its pages is visited once, while it is hot.
    keys = sorted(values)
    return keys if dialect == "postgresql" else orjson.dumps(keys).decode()


def _statements(dialect: str) -> dict[str, Select[Any]]:
    return {
        "identities": select(
            Identity.type, Identity.value, Identity.customer_id, Identity.origin_customer_id
        ).where(_member(Identity.value, dialect)),
        "customers": select(
            Customer.id, Customer.created_at, Customer.traits, Customer.trait_times, Customer.name_key
        ).where(_member(Customer.id, dialect)),
        "counts": select(Identity.customer_id, Identity.type, func.count())
        .where(_member(Identity.customer_id, dialect))
        .group_by(Identity.customer_id, Identity.type),
        "undone": select(Merge.survivor_id, Merge.merged_id).where(
            Merge.undone_at.is_not(None),
            or_(_member(Merge.survivor_id, dialect), _member(Merge.merged_id, dialect)),
        ),
        "events": select(Event.id, Event.customer_id).where(_member(Event.id, dialect)),
    }


_CACHE: dict[str, dict[str, Select[Any]]] = {}


def _run(session: Session, name: str, keys: Collection[str]) -> list[Any]:
    if not keys:
        return []
    conn = session.connection()
    dialect = conn.dialect.name
    stmts = _CACHE.get(dialect)
    if stmts is None:
        stmts = _CACHE[dialect] = _statements(dialect)
    return list(conn.execute(stmts[name], {KEYS: _keys(keys, dialect)}).all())


def identities_by_value(session: Session, values: Collection[str]) -> list[tuple[str, str, str, str]]:
    """(type, value, customer_id, origin_customer_id) of every identity holding one of the values."""
    return [(r[0], r[1], r[2], r[3]) for r in _run(session, "identities", values)]


def customer_rows(
    session: Session, ids: Collection[str]
) -> list[tuple[str, dt.datetime, dict[str, Any], dict[str, str], str | None]]:
    """(id, created_at, traits, trait_times, name_key) of each customer."""
    return [(r[0], r[1], r[2] or {}, r[3] or {}, r[4]) for r in _run(session, "customers", ids)]


def identity_counts(session: Session, ids: Collection[str]) -> list[tuple[str, str, int]]:
    """(customer_id, type, number of identities) for each customer and identifier type it has."""
    return [(r[0], r[1], int(r[2])) for r in _run(session, "counts", ids)]


def undone_pairs(session: Session, ids: Collection[str]) -> list[tuple[str, str]]:
    """(survivor, merged) of every undone merge that involved one of the customers."""
    return [(r[0], r[1]) for r in _run(session, "undone", ids)]


def stored_events(session: Session, ids: Collection[str]) -> dict[str, str]:
    """event id -> customer id, for the ids already stored."""
    return {r[0]: r[1] for r in _run(session, "events", ids)}


def update_customers(session: Session, columns: tuple[str, ...], rows: list[list[Any]]) -> None:
    """``UPDATE customers SET <columns> WHERE id = ?`` for each row: ``[*values, id]``, one executemany.

    Only the columns named are written: on SQLite an index entry is rewritten whenever its column is
    in the SET list, even with the value it already had.
    """
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect.name
    table = cast(Table, Customer.__table__)
    convs: list[Callable[[Any], Any] | None] = [_converter(table.c[c], dialect) for c in columns]
    for row in rows:
        for i, conv in enumerate(convs):
            if conv is not None:
                row[i] = conv(row[i])
    if dialect == "postgresql":
        conn.exec_driver_sql(
            f"UPDATE customers SET {', '.join(f'{c} = %s' for c in columns)} WHERE id = %s",  # noqa: S608 -- our own column names
            [tuple(row) for row in rows],
        )
        return
    conn.exec_driver_sql(
        f"UPDATE customers SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?",  # noqa: S608 -- our own column names
        [tuple(row) for row in rows],
    )


def move_owned(session: Session, moves: list[tuple[str, str]], tables: Iterable[Table]) -> None:
    """Re-point every row of ``tables`` owned by a merged-away customer: moves are (from, to)."""
    if not moves:
        return
    conn = session.connection()
    params = [{"old": old, "new": new} for old, new in moves]
    for table in tables:
        conn.execute(
            update(table).where(table.c.customer_id == bindparam("old")).values(customer_id=bindparam("new")),
            params,
        )
