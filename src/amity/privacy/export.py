"""The access export: one zip with everything every holder returns, as JSON and as CSV per table,
plus the person's attachment files (docs/privacy.md, "Access").

Stored under ``AMITY_HOME/privacy/exports/`` (mode 600) and handed out only through authenticated
downloads until it expires; erasure and the retention sweep delete it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import zipfile
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.orm import Session

from amity.privacy import holders
from amity.privacy.holders import DataHolder

EXPORT_DIR = Path("privacy") / "exports"
EXPORT_DAYS = 7  # how long a finished export can be downloaded

README = """\
This archive holds every piece of data {name} keeps about you, as of {at}.

data.json     everything, grouped by where it is kept (customers, conversations, ...)
csv/          the same, one table per file, for spreadsheets
files/        the files you sent us (attachments)

Questions: reply to the message that brought you this link, or use the privacy page.
"""


def collect(session: Session, ids: list[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Every holder's export, by holder name. An unknown person gets the same shape, empty."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for h in holders.holders():
        out[h.name] = h.export(session, ids) if ids else {t: [] for t in h.tables}
    return out


def _csv(rows: list[dict[str, Any]]) -> str:
    columns: list[str] = []
    for r in rows:
        columns.extend(k for k in r if k not in columns)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(columns)
    for r in rows:
        w.writerow(
            [
                v if isinstance(v, str | int | float) or v is None else orjson.dumps(v).decode()
                for v in (r.get(c) for c in columns)
            ]
        )
    return buf.getvalue()


def write_zip(
    home: Path,
    request_id: str,
    customer_id: str,
    data: dict[str, dict[str, list[dict[str, Any]]]],
    files: list[tuple[str, str]],
    *,
    now: dt.datetime,
    brand: str = "we",
) -> str:
    """The zip on disk; returns its path relative to ``home``."""
    rel = EXPORT_DIR / f"{request_id}.zip"
    path = home / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    doc = {
        "customer_id": customer_id,
        "request_id": request_id,
        "generated_at": now.isoformat(),
        "data": data,
    }
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("README.txt", README.format(name=brand, at=now.strftime("%Y-%m-%d %H:%M UTC")))
        z.writestr("data.json", orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
        for holder_name, tables in data.items():
            for table, rows in tables.items():
                z.writestr(f"csv/{holder_name}.{table}.csv", _csv(rows))
        for name, storage_path in files:
            src = home / storage_path
            if src.is_file():
                z.write(src, f"files/{name}")
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return str(rel)


def remove(home: Path, rel: str | None) -> None:
    if not rel:
        return
    path = home / rel
    try:
        size = path.stat().st_size
        with path.open("r+b") as f:  # overwritten first: the export is the person's whole record
            f.write(b"\0" * size)
        path.unlink()
    except FileNotFoundError:
        pass


def holder_of(table: str) -> DataHolder | None:
    return next((h for h in holders.holders() if table in h.tables), None)
