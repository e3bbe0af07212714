"""The consent history page of a customer, where an agent records a change the customer asked for."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from amity.accounts.roles import Perm
from amity.consent import actions, purposes, queries
from amity.core.actions import ActionError, perform
from amity.customers import queries as customers
from amity.web.ui_base import Page, checked, redirect, render, signed_in

router = APIRouter(include_in_schema=False)
MAX_ID = 64
BASES_FOR_AGENTS = purposes.LAWFUL_BASES


def _not_found(page: Page, customer_id: str) -> Response:
    return render(
        page.request,
        "error.html",
        404,
        page=page,
        title="No such customer",
        message=f"There is no customer with id {customer_id[:MAX_ID]}.",
    )


def _history(
    page: Page,
    customer_id: str,
    *,
    status: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    if len(customer_id) > MAX_ID:
        return _not_found(page, customer_id)
    try:
        with page.app.db.read() as s:
            live = customers.resolve_customer(s, customer_id)
            name = customers.current_traits(s, live).get("name")
            data: dict[str, Any] = {
                "summary": queries.summary(s, live),
                "history": queries.history(s, live),
                "catalogue": queries.purposes_list(s),
            }
    except ActionError:
        return _not_found(page, customer_id)
    return render(
        page.request,
        "consent_history.html",
        status,
        page=page,
        title="Consent",
        customer_id=live,
        name=name if isinstance(name, str) else None,
        can_write=page.can(Perm.CONSENT_WRITE),
        channels=purposes.CHANNELS,
        statuses=purposes.STATUSES,
        bases=BASES_FOR_AGENTS,
        form=form or {"purpose": "", "channel": "", "status": "", "lawful_basis": "consent", "note": ""},
        errors=errors or {},
        notice=notice,
        **data,
    )


@router.get("/customers/{customer_id}/consents")
def consent_page(request: Request, customer_id: str, notice: str = "") -> Response:
    page = signed_in(request, Perm.CONSENT_READ)
    if isinstance(page, Response):
        return page
    return _history(page, customer_id, notice="Recorded." if notice == "recorded" else None)


@router.post("/customers/{customer_id}/consents")
def consent_submit(
    request: Request,
    customer_id: str,
    purpose: Annotated[str, Form()] = "",
    channel: Annotated[str, Form()] = "",
    status: Annotated[str, Form()] = "",
    lawful_basis: Annotated[str, Form()] = "consent",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    page = checked(request, Perm.CONSENT_WRITE, csrf)
    if isinstance(page, Response):
        return page
    form = {
        "purpose": purpose[:40],
        "channel": channel[:20],
        "status": status[:10],
        "lawful_basis": lawful_basis[:30],
    }
    problems: dict[str, str] = {}
    if not purpose:
        problems["purpose"] = "Choose the purpose."
    if status not in purposes.STATUSES:
        problems["status"] = "Choose granted, withdrawn or denied."
    if problems:
        return _history(page, customer_id, status=422, form=form, errors=problems)
    try:
        perform(
            page.app,
            page.actor,
            actions.record_consent,
            customer_id[: MAX_ID + 1],
            purpose=form["purpose"],
            status=form["status"],
            lawful_basis=form["lawful_basis"],
            source="agent",  # an agent records what the customer told them
            channel=form["channel"] or None,
        )
    except ActionError as exc:
        if exc.field == "customer_id":
            return _not_found(page, customer_id)
        return _history(
            page, customer_id, status=exc.status, form=form, errors={exc.field or "purpose": exc.message}
        )
    return redirect(f"/customers/{customer_id}/consents?notice=recorded")
