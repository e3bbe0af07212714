"""Customer pages: search, the Customer 360 (identities, traits, merges, timeline) and trait history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from amity.accounts.roles import Perm
from amity.core.actions import ActionError, perform
from amity.customers import actions, queries, service
from amity.web.ui_base import ID_RE, Page, checked, redirect, render, signed_in

router = APIRouter(include_in_schema=False)

TIMELINE_PAGE = 20
MAX_ID = 64
NOTICES = {
    "merged": "Merged. The other customer's identities, traits and events are now part of this profile.",
    "unmerged": "Merge undone. Both customers are separate again, each with their own data.",
}


@router.get("/customers")
def customers_page(request: Request, q: str = "", identity: str = "") -> Response:
    page = signed_in(request, Perm.CUSTOMERS_READ)
    if isinstance(page, Response):
        return page
    q, identity = q.strip()[:200], identity.strip()[:400]
    results: list[dict[str, Any]] | None = None
    errors: dict[str, str] = {}
    if q or identity:
        try:
            with page.app.db.read() as s:
                pol = service.policy(page.app)
                results = (
                    queries.find_by_identity(s, pol, identity) if identity else queries.search(s, pol, q)
                )
        except ActionError as exc:
            errors[exc.field or ("identity" if identity else "q")] = exc.message
    return render(
        request,
        "customers.html",
        422 if errors else 200,
        page=page,
        title="Customers",
        q=q,
        identity=identity,
        results=results,
        errors=errors,
    )


def _group_identities(idents: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for i in idents:
        grouped.setdefault(i["type"], []).append(i)
    return grouped


def _profile(
    page: Page,
    customer_id: str,
    *,
    cursor: str | None = None,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    merge_form: dict[str, str] | None = None,
    merge_errors: dict[str, str] | None = None,
) -> Response:
    if len(customer_id) > MAX_ID:
        return _not_found(page, customer_id)
    try:
        with page.app.db.read() as s:
            try:
                data = queries.customer_360(s, customer_id, limit=TIMELINE_PAGE, cursor=cursor)
            except ActionError as exc:
                if exc.field != "cursor":
                    raise
                # A stale or hand-edited "older" link: show the newest events and say why.
                data = queries.customer_360(s, customer_id, limit=TIMELINE_PAGE)
                status, error = 422, f"Could not page the timeline: {exc.message}."
    except ActionError:
        return _not_found(page, customer_id)
    return render(
        page.request,
        "customer.html",
        status,
        page=page,
        title=data["traits"].get("name") or data["id"],
        c=data,
        name=data["traits"].get("name"),
        identities=_group_identities(data["identities"]),
        cursor=cursor,
        error=error,
        notice=notice,
        merge_form=merge_form or {"other_id": "", "note": ""},
        merge_errors=merge_errors or {},
    )


def _not_found(page: Page, customer_id: str) -> Response:
    return render(
        page.request,
        "error.html",
        404,
        page=page,
        title="No such customer",
        message=f"There is no customer with id {customer_id[:MAX_ID]}.",
    )


@router.get("/customers/{customer_id}")
def customer_page(
    request: Request, customer_id: str, cursor: str = "", notice: str = "", restored: str = ""
) -> Response:
    page = signed_in(request, Perm.CUSTOMERS_READ)
    if isinstance(page, Response):
        return page
    text = NOTICES.get(notice)
    if text and notice == "unmerged" and ID_RE.match(restored):
        text = f"Merge undone. {restored} is a separate customer again, with their own data."
    return _profile(page, customer_id, cursor=cursor[:500] or None, notice=text)


@router.get("/customers/{customer_id}/traits")
def trait_history_page(request: Request, customer_id: str, name: str = "") -> Response:
    page = signed_in(request, Perm.CUSTOMERS_READ)
    if isinstance(page, Response):
        return page
    if len(customer_id) > MAX_ID:
        return _not_found(page, customer_id)
    try:
        with page.app.db.read() as s:
            data = queries.customer_360(s, customer_id, limit=1)
            history = queries.trait_history(s, data["id"], name[:64] or None)
    except ActionError:
        return _not_found(page, customer_id)
    return render(
        request,
        "trait_history.html",
        page=page,
        title="Trait history",
        c=data,
        name=data["traits"].get("name"),
        history=history,
        only=name[:64],
    )


@router.post("/customers/{customer_id}/merge")
def merge_submit(
    request: Request,
    customer_id: str,
    other_id: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    page = checked(request, Perm.CUSTOMERS_MERGE, csrf)
    if isinstance(page, Response):
        return page
    other_id, note = other_id.strip(), note.strip()
    form = {"other_id": other_id, "note": note}
    problem: dict[str, str] = {}
    if not other_id:
        problem["other_id"] = "Enter the id of the customer to merge into this one."
    elif len(other_id) > MAX_ID:
        problem["other_id"] = f"A customer id is at most {MAX_ID} characters."
    if len(note) > 1000:
        problem["note"] = "At most 1,000 characters."
    if problem:
        return _profile(page, customer_id, status=422, merge_form=form, merge_errors=problem)
    try:
        perform(
            page.app,
            page.actor,
            actions.merge_customers,
            customer_id,
            other_id,
            service.policy(page.app),
            note or None,
        )
    except ActionError as exc:
        if exc.field == "id":
            return _not_found(page, customer_id)
        return _profile(
            page,
            customer_id,
            status=exc.status,
            merge_form=form,
            merge_errors={exc.field or "other_id": exc.message},
        )
    return redirect(f"/customers/{customer_id}?notice=merged")


@router.post("/merges/{merge_id}/undo")
def undo_submit(
    request: Request,
    merge_id: str,
    reason: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    page = checked(request, Perm.CUSTOMERS_MERGE, csrf)
    if isinstance(page, Response):
        return page
    back = back if ID_RE.match(back) else ""
    try:
        result = perform(
            page.app, page.actor, actions.undo_merge, merge_id[:MAX_ID], reason.strip()[:1000] or None
        )
    except ActionError as exc:
        if back:
            return _profile(page, back, status=exc.status, error=f"Could not undo the merge: {exc.message}.")
        return render(
            request, "error.html", exc.status, page=page, title="Could not undo", message=exc.message
        )
    return redirect(
        f"/customers/{back or result['survivor_id']}?notice=unmerged&restored={result['restored_id']}"
    )
