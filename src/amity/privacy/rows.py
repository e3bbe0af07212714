"""Rows as JSON-ready dicts, for exports: every column, times as ISO 8601, nothing left out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import inspect


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def row_dict(row: Any) -> dict[str, Any]:
    mapper = inspect(type(row))
    return {c.key: jsonable(getattr(row, c.key)) for c in mapper.column_attrs}


def as_dicts(rows: Iterable[Any]) -> list[dict[str, Any]]:
    return [row_dict(r) for r in rows]
