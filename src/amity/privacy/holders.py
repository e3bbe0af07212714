"""Who holds a customer's personal data: the contract between each capability and privacy requests.

Access and erasure requests must reach every table that holds customer data, but capabilities don't
reach into each other's tables. So each capability registers one ``DataHolder`` (from its package
``__init__`` or ``install(app)``): the tables it owns that hold customer data, how to export a
customer's rows from them, and how to erase or anonymise them. The privacy capability runs every
holder inside the request's transaction; a test enumerates the schema and fails if a table with a
``customer_id`` column (or other personal data) belongs to no holder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

# (session, customer_ids) -> {table or section name: [row as JSON-ready dict, ...]}
# ``customer_ids`` is the profile and every profile merged into it (their rows now carry the
# survivor's id, but some capabilities keep the original id too).
Exporter = Callable[[Session, list[str]], "dict[str, list[dict[str, Any]]]"]
# (session, customer_ids) -> None: delete or anonymise in the caller's transaction. Keep what is not
# personal (counts, timestamps, amounts) so aggregates and KPIs stay right.
Eraser = Callable[[Session, list[str]], None]


@dataclass(frozen=True)
class DataHolder:
    name: str  # "customers", "conversations", "commerce.orders", ...
    tables: tuple[str, ...]  # every table this holder exports and erases
    export: Exporter
    erase: Eraser


_HOLDERS: dict[str, DataHolder] = {}


def register(holder: DataHolder) -> None:
    """Idempotent by name, so importing or installing twice keeps one entry."""
    _HOLDERS[holder.name] = holder


def holders() -> list[DataHolder]:
    return [_HOLDERS[k] for k in sorted(_HOLDERS)]


def covered_tables() -> set[str]:
    return {t for h in _HOLDERS.values() for t in h.tables}
