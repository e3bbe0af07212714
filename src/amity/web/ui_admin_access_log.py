"""The access log for admins: filters (who, what, when) and a CSV export of the same selection."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from amity.accounts.roles import Perm
from amity.privacy import access_log
from amity.web.ui_base import SECURITY_HEADERS, render, signed_in

router = APIRouter(include_in_schema=False)
PERM = Perm.ACCESS_LOG_READ
PAGE_ROWS = 200
FIELDS = ("actor", "subject_type", "subject_id", "since", "until")


def _day(value: str) -> dt.datetime | None:
    try:
        d = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)


def _filters(request: Request) -> tuple[access_log.Filters, dict[str, str], str | None]:
    raw = {k: request.query_params.get(k, "").strip()[:200] for k in FIELDS}
    error = None
    if raw["subject_type"] not in ("", "customer", "conversation"):
        raw["subject_type"], error = "", "Choose customers or conversations."
    since = _day(raw["since"]) if raw["since"] else None
    until = _day(raw["until"]) if raw["until"] else None
    if (raw["since"] and since is None) or (raw["until"] and until is None):
        error = "Dates are YYYY-MM-DD."
    if until is not None:
        until = until + dt.timedelta(days=1) if until.date() < dt.date.max else None  # inclusive day
    f = access_log.Filters(
        raw["actor"] or None, raw["subject_type"] or None, raw["subject_id"] or None, since, until
    )
    return f, raw, error


@router.get("/admin/access-log")
def access_log_page(request: Request) -> Response:
    page = signed_in(request, PERM)
    if isinstance(page, Response):
        return page
    f, raw, error = _filters(request)
    with page.app.db.read() as s:
        rows = access_log.entries(s, f, PAGE_ROWS + 1)
    return render(
        request,
        "audit_access_log.html",
        422 if error else 200,
        page=page,
        title="Access log",
        f=raw,
        rows=rows[:PAGE_ROWS],
        more=len(rows) > PAGE_ROWS,
        query=urlencode({k: v for k, v in raw.items() if v}),
        error=error,
    )


@router.get("/admin/access-log.csv")
def access_log_csv(request: Request) -> Response:
    page = signed_in(request, PERM)
    if isinstance(page, Response):
        return page
    f, _, error = _filters(request)
    if error:
        return render(request, "error.html", 422, page=page, title="Not exported", message=error)

    def lines() -> Iterator[str]:
        with page.app.db.read() as s:
            yield from access_log.csv_lines(s, f)

    resp = StreamingResponse(lines(), media_type="text/csv; charset=utf-8")
    resp.headers.update(SECURITY_HEADERS)
    resp.headers["Content-Disposition"] = 'attachment; filename="amity-access-log.csv"'
    return resp
