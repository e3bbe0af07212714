"""Admin page of the purposes catalogue: the built-ins and the purposes admins added; add one.

Purposes are never edited or removed (the ledger's history refers to them), so the generic CRUD
resource of ``web.ui_admin_crud`` does not fit; the page is built from the same kit and list template.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from amity.accounts.roles import Perm
from amity.consent import actions, purposes, queries
from amity.consent.schemas import PurposeIn
from amity.web.ui_admin_kit import (
    Errors,
    Field,
    Form,
    Row,
    admin_page,
    attempt,
    listed,
    names,
    optional,
    posted,
    status_of,
    text,
    validate,
)
from amity.web.ui_base import Page, redirect, signed_in

router = APIRouter(include_in_schema=False)
URL = "/admin/consent-purposes"
BASES = [(b, b.replace("_", " ")) for b in purposes.LAWFUL_BASES]
FIELDS = [
    Field("key", "Key", placeholder="loyalty_offers", hint="a-z, 0-9 and _; used by the API and in events"),
    Field("name", "Name"),
    Field("description", "What it is for", kind="textarea"),
    Field("lawful_bases", "Lawful bases it may rest on", kind="checks", options=BASES),
    Field(
        "default_basis",
        "Without any record, allow on",
        kind="select",
        options=[("", "nothing: the customer's consent is needed"), *BASES[1:]],
    ),
]
EMPTY: Form = {"key": "", "name": "", "description": "", "lawful_bases": ["consent"], "default_basis": ""}


def _list(
    page: Page,
    form: Form | None = None,
    errors: Errors | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Response:
    with page.app.db.read() as s:
        items = queries.purposes_list(s)
    rows = [
        Row(
            [
                str(p["name"]),
                str(p["key"]),
                ", ".join(b.replace("_", " ") for b in p["lawful_bases"]),
                str(p["default_basis"] or "consent needed").replace("_", " "),
                "built in" if p["builtin"] else "added",
            ]
        )
        for p in items
    ]
    return admin_page(
        page,
        "admin_list.html",
        status,
        title="Consent purposes",
        intro="Why customer data is used and on which lawful bases. Every send and every profiling use "
        "asks the consent ledger for its purpose.",
        list_title=f"{len(rows)} purposes",
        columns=["Name", "Key", "Lawful bases", "Without a record", "Kind"],
        rows=rows,
        empty="No purposes.",
        form_title="Add a purpose",
        fields=FIELDS,
        form=form if form is not None else dict(EMPTY),
        errors=errors or {},
        action=URL,
        submit="Add purpose",
        notice=notice,
    )


@router.get(URL)
def purposes_page(request: Request, notice: str = "") -> Response:
    page = signed_in(request, Perm.PURPOSES_MANAGE)
    if isinstance(page, Response):
        return page
    return _list(page, notice="Purpose added." if notice == "added" else None)


@router.post(URL)
async def purposes_submit(request: Request) -> Response:
    page, form = await posted(request, Perm.PURPOSES_MANAGE, multi=("lawful_bases",))
    if isinstance(page, Response):
        return page
    errors = Errors()
    data = {
        "key": text(form, "key"),
        "name": text(form, "name"),
        "description": text(form, "description"),
        "lawful_bases": listed(form, "lawful_bases"),
        "default_basis": optional(form, "default_basis"),
    }
    body = validate(PurposeIn, data, names(FIELDS), errors)
    if body is not None:
        attempt(
            page,
            names(FIELDS),
            errors,
            actions.add_purpose,
            key=body.key,
            name=body.name,
            description=body.description,
            lawful_bases=list(body.lawful_bases),
            default_basis=body.default_basis,
        )
    if errors:
        return _list(page, form, errors, status_of(errors))
    return redirect(f"{URL}?notice=added")
