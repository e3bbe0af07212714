"""The access export covers every table that holds customer data: the schema is enumerated, so a new
table nobody exports fails here, and every covered table's seeded rows must be in the zip."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import JSON, Boolean, DateTime, Integer, Numeric, String, Table, Text, select
from sqlalchemy.orm import Session

from amity.core.actions import App
from amity.models import Base
from amity.privacy import export, holders, runner
from tests.conftest import auth
from tests.conversation_helpers import api_channel, write_in
from tests.test_privacy_kit import file, now_app, now_client, person, read_zip

__all__ = ["now_app", "now_client"]  # fixtures used by name below

# Tables that hold a person's data without a customer_id column (docs/privacy.md, "Holders"): they
# are reached through a customer's conversations, messages or ids in their content.
PERSONAL_WITHOUT_CUSTOMER_ID = frozenset(
    {
        "merges",  # which profiles were one person, and the identifier that showed it
        "deliveries",  # the outbox rows of messages to the person
        "webhook_deliveries",  # events about the person, as sent to outside systems
        "service_escalations",  # the reasons given when the person's conversations were escalated
        "service_sla_clocks",  # timings of the person's conversations
    }
)


def personal_tables() -> set[str]:
    return {
        t.name for t in Base.metadata.sorted_tables if "customer_id" in t.c
    } | PERSONAL_WITHOUT_CUSTOMER_ID


def test_every_table_with_customer_data_belongs_to_a_holder(app: App) -> None:
    missing = personal_tables() - holders.covered_tables()
    assert not missing, (
        f"tables holding customer data that no privacy holder exports or erases: {sorted(missing)}"
    )
    unknown = holders.covered_tables() - {t.name for t in Base.metadata.sorted_tables}
    assert not unknown, f"holders name tables that do not exist: {sorted(unknown)}"


# ---- a row in every covered table ----------------------------------------------------------------
def _value(col: Any, person_ids: list[str]) -> Any:
    t = col.type
    if isinstance(t, DateTime) or "DateTime" in type(t).__name__:
        return dt.datetime.now(dt.UTC)
    if isinstance(t, Boolean):
        return False
    if isinstance(t, Integer | Numeric):
        return 1
    if isinstance(t, JSON) or "JSON" in type(t).__name__:
        # Content that names the person, as real payloads do (webhook events carry the customer id).
        return {"customer_id": person_ids[0]}
    if isinstance(t, String | Text):
        n = getattr(t, "length", None) or 40
        return ("seed" + secrets.token_hex(12))[:n]
    return None


def _seed(s: Session, table: Table, person_ids: list[str], conversation_id: str, depth: int = 0) -> Any:
    """Insert one row, pointing at the person (or their conversation) wherever it can; returns its key."""
    assert depth < 6, f"foreign keys too deep at {table.name}"
    values: dict[str, Any] = {}
    for col in table.c:
        if col.primary_key and isinstance(col.type, Integer) and col.autoincrement in (True, "auto"):
            continue
        fks = list(col.foreign_keys)
        if col.name in ("customer_id", "origin_customer_id") or (
            fks and fks[0].column.table.name == "customers"
        ):
            values[col.name] = person_ids[0]
        elif fks and fks[0].column.table.name == "conversations":
            values[col.name] = conversation_id
        elif fks:
            target = fks[0].column.table
            existing = s.scalar(select(fks[0].column).limit(1)) if target.name != table.name else None
            if existing is None and target.name != table.name:
                existing = _seed(s, target, person_ids, conversation_id, depth + 1)
            if existing is not None or not col.nullable:
                values[col.name] = existing
        elif (not col.nullable and col.default is None and col.server_default is None) or col.primary_key:
            values[col.name] = _value(col, person_ids)
    res = s.execute(table.insert().values(**values))
    pk = list(table.primary_key.columns)
    return values.get(pk[0].name) if pk and pk[0].name in values else (res.inserted_primary_key or [None])[0]


def test_the_export_holds_rows_from_every_covered_table(
    now_client: TestClient, now_app: App, tokens: dict[str, str]
) -> None:
    cid = person(now_app, "eve.export@example.com", "+447911100202", "Eve Export")
    kiosk = api_channel(now_client, tokens["admin"])
    conv = write_in(
        now_client,
        kiosk["id"],
        ("email", "eve.export@example.com"),
        "hello",
        attachments=[{"filename": "a.txt", "content_base64": "aGVsbG8="}],
    ).json()
    now_client.post(
        f"/api/v1/conversations/{conv['conversation_id']}/messages",
        json={"text": "a note", "note": True},
        headers=auth(tokens["agent"]),
    )
    with now_app.db.read() as s:
        ids = runner.person(now_app, cid)
        have = {t for tables in export.collect(s, ids).values() for t, rows in tables.items() if rows}
    # Whatever the real flows above did not fill gets a generic row pointing at the person.
    with now_app.db.write_session() as s, s.begin():
        for table in Base.metadata.sorted_tables:
            if table.name in holders.covered_tables() - have - {"privacy_requests"}:
                _seed(s, table, ids, conv["conversation_id"])
    r = file(now_client, tokens["admin"], type="access", customer_id=cid, verification_method="in store")
    z = now_client.get(f"/api/v1/privacy/requests/{r['id']}/export", headers=auth(tokens["admin"]))
    assert z.status_code == 200, z.text
    data, files = read_zip(z.content)
    found = {table: rows for tables in data["data"].values() for table, rows in tables.items()}
    empty = sorted(t for t in holders.covered_tables() if not found.get(t))
    assert not empty, f"covered tables whose seeded rows are not in the export: {empty}"
    for holder_name, tables in data["data"].items():
        for table in tables:
            assert f"csv/{holder_name}.{table}.csv" in files
    assert [n for n in files if n.startswith("files/")] and files[
        next(n for n in files if n.startswith("files/"))
    ] == b"hello"
