"""List, create, edit and delete pages for one kind of service configuration (tiers, teams, brands,
calendars, macros, routing rules, SLA policies), described once by a :class:`Resource`.

The actions and request models are the API's (``amity.service.people`` / ``setup`` and
``amity.service.schemas``), called the way ``service.api_common`` calls them, so a page and the API
refuse the same things with the same words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from amity.accounts.roles import Perm
from amity.core.actions import ActionContext
from amity.service.queries import KINDS
from amity.service.sla import now_of
from amity.web.ui_admin_kit import (
    Button,
    Errors,
    Field,
    Form,
    Row,
    admin_page,
    attempt,
    names,
    posted,
    status_of,
    validate,
)
from amity.web.ui_base import Page, redirect, render, signed_in

NOTICES = {"created": "Created.", "saved": "Changes saved.", "deleted": "Deleted."}


@dataclass(frozen=True)
class Resource:
    slug: str  # /admin/<slug>
    title: str  # "Tiers"
    noun: str  # "tier"
    intro: str
    model: type[Any]
    fields: Callable[[Page, Any | None], list[Field]]  # the row is None on the create form
    values: Callable[[Any], Form]  # a stored row as form values
    parse: Callable[[Form, Errors], dict[str, Any]]  # form -> request body (parse errors added)
    create_model: type[BaseModel]
    patch_model: type[BaseModel]
    create: Callable[..., Any]
    update: Callable[..., Any]
    delete: Callable[[ActionContext, str], None] | None
    columns: Sequence[str]
    cells: Callable[[Session, Any], list[str]]
    empty_form: Form
    multi: Sequence[str] = ()  # checkbox groups, read as lists
    buttons: Callable[[Any], list[Button]] = field(default=lambda row: [])
    edit_template: str = "admin_edit.html"
    list_template: str = "admin_list.html"
    side: Callable[[Page, Any], dict[str, Any]] = field(default=lambda page, row: {})
    perm: Perm = Perm.SERVICE_MANAGE
    plural: str = ""  # default: noun + "s"
    article: str = "a"

    @property
    def many(self) -> str:
        return self.plural or self.noun + "s"

    def url(self, row: Any | None = None) -> str:
        return f"/admin/{self.slug}" + (f"/{row.id}" if row is not None else "")


def not_found(page: Page, message: str) -> Response:
    return render(page.request, "error.html", 404, page=page, title="Not found", message=message)


def list_page(
    page: Page,
    res: Resource,
    form: Form | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    notice: str | None = None,
    **extra: Any,
) -> Response:
    order = KINDS[res.model][1]
    with page.app.db.read() as s:
        rows = [
            Row(
                res.cells(s, r),
                href=res.url(r),
                buttons=res.buttons(r) or None,
                muted=getattr(r, "enabled", True) is False,
            )
            for r in s.scalars(select(res.model).order_by(*order))
        ]
    return admin_page(
        page,
        res.list_template,
        status,
        title=res.title,
        intro=res.intro,
        list_title=f"{len(rows)} {res.noun if len(rows) == 1 else res.many}",
        columns=list(res.columns),
        rows=rows,
        empty=f"No {res.many} yet.",
        form_title=f"Add {res.article} {res.noun}",
        fields=res.fields(page, None),
        form=form if form is not None else dict(res.empty_form),
        errors=errors or {},
        action=res.url(),
        submit=f"Add {res.noun}",
        notice=notice,
        **extra,
    )


def edit_page(
    page: Page,
    res: Resource,
    row: Any,
    form: Form | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    notice: str | None = None,
    **extra: Any,
) -> Response:
    buttons = list(res.buttons(row))
    if res.delete is not None:
        buttons.append(
            Button(
                res.url(row) + "/delete",
                f"Delete {res.noun}",
                danger=True,
                confirm=f"Delete {res.noun} {row.name}?",
            )
        )
    context = {**res.side(page, row), **extra}
    return admin_page(
        page,
        res.edit_template,
        status,
        title=row.name,
        intro=f"{res.noun.capitalize()} {row.id}",
        back=(res.url(), res.title),
        form_title="Settings",
        fields=res.fields(page, row),
        form=form if form is not None else res.values(row),
        errors=errors or {},
        action=res.url(row),
        submit="Save changes",
        buttons=buttons,
        notice=notice,
        **context,
    )


def load(page: Page, res: Resource, key: str) -> Any:
    with page.app.db.read() as s:
        return s.get(res.model, key)


def register(router: APIRouter, res: Resource) -> None:
    """GET/POST /admin/<slug>, GET/POST /admin/<slug>/{id}, POST /admin/<slug>/{id}/delete."""

    def show_list(request: Request, notice: str = "") -> Response:
        page = signed_in(request, res.perm)
        if isinstance(page, Response):
            return page
        return list_page(page, res, notice=NOTICES.get(notice))

    async def create(request: Request) -> Response:
        page, form = await posted(request, res.perm, res.multi)
        if isinstance(page, Response):
            return page
        fields = names(res.fields(page, None))
        errors = Errors()
        body = validate(res.create_model, res.parse(form, errors), fields, errors)
        row = (
            None
            if body is None
            else attempt(page, fields, errors, res.create, body.model_dump(), now_of(page.app))
        )
        if row is None:
            return list_page(page, res, form, errors, status_of(errors))
        return redirect(f"{res.url(row)}?notice=created")

    def show(request: Request, key: str, notice: str = "") -> Response:
        page = signed_in(request, res.perm)
        if isinstance(page, Response):
            return page
        row = load(page, res, key)
        if row is None:
            return not_found(page, f"There is no {res.noun} {key}.")
        return edit_page(page, res, row, notice=NOTICES.get(notice))

    async def save(request: Request, key: str) -> Response:
        page, form = await posted(request, res.perm, res.multi)
        if isinstance(page, Response):
            return page
        row = load(page, res, key)
        if row is None:
            return not_found(page, f"There is no {res.noun} {key}.")
        fields = names(res.fields(page, row))
        errors = Errors()
        body = validate(res.patch_model, res.parse(form, errors), fields, errors)
        done = (
            None
            if body is None
            else attempt(
                page, fields, errors, res.update, key, body.model_dump(exclude_unset=True), now_of(page.app)
            )
        )
        if done is None:
            return edit_page(page, res, row, form, errors, status_of(errors))
        return redirect(f"{res.url(row)}?notice=saved")

    async def remove(request: Request, key: str) -> Response:
        page, _ = await posted(request, res.perm)
        if isinstance(page, Response):
            return page
        row = load(page, res, key)
        if row is None or res.delete is None:
            return not_found(page, f"There is no {res.noun} {key}.")
        errors = Errors()
        if attempt(page, [], errors, res.delete, key) is None and errors:
            # A refusal (still in use) names an id, not a form field: shown above the form.
            status = status_of(errors)
            return edit_page(page, res, row, None, {"_": next(iter(errors.values()))}, status)
        return redirect(f"{res.url()}?notice=deleted")

    base = f"/admin/{res.slug}"
    router.add_api_route(base, show_list, methods=["GET"], name=f"admin_{res.slug}")
    router.add_api_route(base, create, methods=["POST"], name=f"admin_{res.slug}_create")
    router.add_api_route(base + "/{key}", show, methods=["GET"], name=f"admin_{res.slug}_show")
    router.add_api_route(base + "/{key}", save, methods=["POST"], name=f"admin_{res.slug}_save")
    router.add_api_route(base + "/{key}/delete", remove, methods=["POST"], name=f"admin_{res.slug}_delete")
