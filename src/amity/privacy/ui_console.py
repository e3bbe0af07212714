"""Console pages of data-subject requests: the open requests with time left (leads), and filing a
request from a customer's page (anyone who may file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from starlette.responses import Response

from amity.accounts.roles import Perm
from amity.core.actions import ActionError, perform
from amity.db import utcnow
from amity.privacy import queries, requests
from amity.privacy.schemas import RequestIn
from amity.web.ui_base import ID_RE, Page, checked, redirect, render, signed_in

router = APIRouter(include_in_schema=False)

TYPES = ("access", "erasure", "rectification", "restriction")


def _list(page: Page, notice: str | None = None, status: int = 200) -> Response:
    now = utcnow()
    home = Path(page.app.settings.home)
    with page.app.db.read() as s:
        rows, total = queries.listing(s, "open", 200, 0)
        items = [queries.request_out(r, home, now) for r in rows]
        done, _ = queries.listing(s, "completed", 20, 0)
        recent = [queries.request_out(r, home, now) for r in done]
    return render(
        page.request,
        "privacy_requests.html",
        status,
        page=page,
        title="Privacy requests",
        items=items,
        total=total,
        recent=recent,
        notice=notice,
    )


@router.get("/privacy-requests")
def requests_page(request: Request) -> Response:
    page = signed_in(request, Perm.PRIVACY_MANAGE)
    return page if isinstance(page, Response) else _list(page)


@router.get("/privacy-requests/new")
def new_request_page(request: Request, customer_id: str = "") -> Response:
    page = signed_in(request, Perm.PRIVACY_REQUEST)
    if isinstance(page, Response):
        return page
    cid = customer_id if ID_RE.match(customer_id) else ""
    return render(
        request,
        "privacy_request_new.html",
        page=page,
        title="File a privacy request",
        customer_id=cid,
        types=TYPES,
        form={},
        errors={},
    )


@router.post("/privacy-requests")
def file_request_submit(
    request: Request,
    csrf: Annotated[str, Form(max_length=500)] = "",
    customer_id: Annotated[str, Form(max_length=100)] = "",
    type: Annotated[str, Form(max_length=20)] = "",
    verification_method: Annotated[str, Form(max_length=300)] = "",
    note: Annotated[str, Form(max_length=3000)] = "",
) -> Response:
    page = checked(request, Perm.PRIVACY_REQUEST, csrf)
    if isinstance(page, Response):
        return page
    form = {
        "customer_id": customer_id,
        "type": type,
        "verification_method": verification_method,
        "note": note,
    }
    try:
        body = RequestIn.model_validate(
            {
                "type": type,
                "customer_id": customer_id.strip(),
                "verification_method": verification_method.strip() or None,
                "note": note.strip() or None,
            }
        )
        r = perform(page.app, page.actor, requests.file_request, body, utcnow())
    except ValidationError as exc:
        errors = {str(e["loc"][0]): e["msg"] for e in exc.errors(include_url=False)}
        return render(
            request,
            "privacy_request_new.html",
            422,
            page=page,
            title="File a privacy request",
            customer_id=customer_id,
            types=TYPES,
            form=form,
            errors=errors,
        )
    except ActionError as exc:
        return render(
            request,
            "privacy_request_new.html",
            exc.status,
            page=page,
            title="File a privacy request",
            customer_id=customer_id,
            types=TYPES,
            form=form,
            errors={exc.field or "type": exc.message},
        )
    if page.can(Perm.PRIVACY_MANAGE):
        return redirect(f"/privacy-requests#req-{r.id}")
    return render(
        request,
        "privacy_request_filed.html",
        page=page,
        title="Request filed",
        request_id=r.id,
        customer_id=r.customer_id,
        awaiting=bool(r.result.get("awaiting_approval")),
    )


@router.post("/privacy-requests/{request_id}/approve")
def approve_submit(
    request: Request, request_id: str, csrf: Annotated[str, Form(max_length=500)] = ""
) -> Response:
    page = checked(request, Perm.PRIVACY_MANAGE, csrf)
    if isinstance(page, Response):
        return page
    try:
        perform(page.app, page.actor, requests.approve_request, request_id, utcnow())
    except ActionError as exc:
        return _list(page, exc.message, exc.status)
    return redirect("/privacy-requests")
