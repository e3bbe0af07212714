"""The trait schema page: everyone with traits:read sees it; admins declare new traits from it."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from starlette.responses import Response

from amity.accounts.roles import Perm
from amity.core.actions import ActionError, perform
from amity.customers import actions, queries
from amity.customers.schemas import TraitIn
from amity.customers.traits import TRAIT_TYPES
from amity.web.ui_base import Page, checked, redirect, render, signed_in

router = APIRouter(include_in_schema=False)

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Pydantic's own words for a pattern mismatch quote the regex; people deserve a sentence.
PATTERN_HINTS = {
    "name": "Use lower_snake_case: a lower-case letter, then letters, digits or _ (at most 64).",
    "type": f"Choose one of {', '.join(TRAIT_TYPES)}.",
}
EMPTY_FORM = {
    "name": "",
    "type": "string",
    "pii": "",
    "purpose": "",
    "retention_days": "",
    "description": "",
    "enum_values": "",
}


def _schema_page(
    page: Page,
    status: int = 200,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    with page.app.db.read() as s:
        traits = queries.list_traits(s)
    return render(
        page.request,
        "traits.html",
        status,
        page=page,
        title="Trait schema",
        traits=traits,
        types=TRAIT_TYPES,
        form=form or EMPTY_FORM,
        errors=errors or {},
        notice=notice,
    )


@router.get("/traits")
def traits_page(request: Request, declared: str = "") -> Response:
    page = signed_in(request, Perm.TRAITS_READ)
    if isinstance(page, Response):
        return page
    notice = f"Trait {declared} declared. Events may now carry it." if NAME_RE.match(declared) else None
    return _schema_page(page, notice=notice)


def _parse(form: dict[str, str]) -> tuple[TraitIn | None, dict[str, str]]:
    """Form strings -> TraitIn, or the errors keyed by the field they belong to."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {
        "name": form["name"],
        "type": form["type"],
        "pii": form["pii"] in ("on", "true", "1"),
        "purpose": form["purpose"],
        "description": form["description"],
    }
    days = form["retention_days"]
    if days:
        if days.isdigit():
            data["retention_days"] = int(days)
        else:
            errors["retention_days"] = "A whole number of days, or empty to keep until erased."
    values = [v.strip() for v in re.split(r"[,\n]", form["enum_values"]) if v.strip()]
    if values:
        data["enum_values"] = values
    try:
        return (TraitIn.model_validate(data) if not errors else None), errors
    except ValidationError as exc:
        for e in exc.errors(include_url=False):
            field = str(e["loc"][0]) if e["loc"] else "name"
            hint = PATTERN_HINTS.get(field) if e["type"] == "string_pattern_mismatch" else None
            errors.setdefault(field, hint or e["msg"])
        return None, errors


@router.post("/traits")
def declare_submit(
    request: Request,
    name: Annotated[str, Form()] = "",
    type: Annotated[str, Form()] = "string",
    pii: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
    retention_days: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    enum_values: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    page = checked(request, Perm.TRAITS_WRITE, csrf)
    if isinstance(page, Response):
        return page
    form = {
        "name": name.strip(),
        "type": type.strip(),
        "pii": pii,
        "purpose": purpose.strip(),
        "retention_days": retention_days.strip(),
        "description": description.strip(),
        "enum_values": enum_values,
    }
    trait, errors = _parse(form)
    if trait is None:
        return _schema_page(page, 422, form=form, errors=errors)
    try:
        perform(page.app, page.actor, actions.declare_trait, trait)
    except ActionError as exc:
        return _schema_page(page, exc.status, form=form, errors={exc.field or "name": exc.message})
    return redirect(f"/traits?declared={trait.name}")
