"""The inbox: views (mine, unassigned, my teams, breaching soon, all) with counts, filters and search,
and the one-row and counts fragments the live-update script fetches when an event arrives."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from amity.accounts.roles import Perm
from amity.conversations import queries as conversations
from amity.core.actions import ActionError
from amity.service.sla import now_of
from amity.web import ui_console_data as data
from amity.web.ui_base import SECURITY_HEADERS, Page, render, signed_in

router = APIRouter(include_in_schema=False)


def _counts(page: Page, f: data.Filters) -> list[dict[str, Any]]:
    with page.app.db.read() as s:
        n = data.counts(s, page.actor, f, now_of(page.app))
    return [
        {"view": key, "label": label, "count": n[key], "query": f.query(view=key)}
        for key, label in data.VIEWS
    ]


@router.get("/inbox")
def inbox_page(request: Request) -> Response:
    page = signed_in(request, Perm.CONVERSATIONS_READ)
    if isinstance(page, Response):
        return page
    f, errors = data.Filters.parse(request.query_params)
    with page.app.db.read() as s:
        names = data.lookups(s)
        try:
            got = data.listing(s, page.actor, f, now_of(page.app))
        except ActionError as exc:  # a cursor that decodes but is not one the list query gave out
            errors[exc.field or "cursor"] = "this page link is damaged; start again from the first page"
            f = dataclasses.replace(f, cursor="", trail=())
            got = data.listing(s, page.actor, f, now_of(page.app))
    return render(
        request,
        "inbox.html",
        422 if errors else 200,
        page=page,
        title=f"Inbox · {data.VIEW_NAMES[f.view]}",
        f=f,
        errors=errors,
        rows=got.items,
        next_query=f.next_query(got.next_cursor) if got.next_cursor else None,
        previous_query=f.previous_query(),
        page_size=data.PAGE_SIZE,
        counts=_counts(page, f),
        names=names,
        statuses=data.STATUSES,
        now=now_of(page.app).isoformat(),
    )


@router.get("/inbox/rows/{conversation_id}")
def inbox_row(request: Request, conversation_id: str) -> Response:
    """One inbox row, if the conversation belongs in the view; 204 (remove it) if it no longer does."""
    page = signed_in(request, Perm.CONVERSATIONS_READ)
    if isinstance(page, Response):
        return page
    f, errors = data.Filters.parse(request.query_params)
    if errors:
        return Response(status_code=422, headers=SECURITY_HEADERS)
    try:
        with page.app.db.read() as s:
            full = conversations.get_conversation(s, conversation_id[:64])
            if not data.matches(s, page.actor, f, full, now_of(page.app)):
                return Response(status_code=204, headers=SECURITY_HEADERS)
            names = data.lookups(s)
    except ActionError:
        return Response(status_code=404, headers=SECURITY_HEADERS)
    return render(request, "_console_row.html", page=page, c=full, names=names, f=f)


@router.get("/inbox/counts")
def inbox_counts(request: Request) -> Response:
    page = signed_in(request, Perm.CONVERSATIONS_READ)
    if isinstance(page, Response):
        return page
    f, errors = data.Filters.parse(request.query_params)
    if errors:
        return Response(status_code=422, headers=SECURITY_HEADERS)
    return render(request, "_console_counts.html", page=page, f=f, counts=_counts(page, f))
