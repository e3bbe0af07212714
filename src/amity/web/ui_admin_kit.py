"""What the admin pages share: form fields described once, form parsing, and refusals mapped to fields.

Every admin form is a list of :class:`Field`; one template macro draws any of them, so a refusal is
always shown under the field it names, with the values the admin typed kept in place. Refusals come
from two places, and both end up in the same ``errors`` dict keyed by form field name:

- the edge: the same Pydantic models the API validates with (``TeamIn``, ``SlaPolicyIn``…), whose error
  locations (``targets.normal.first_response``) are also the form's field names;
- the action: an :class:`ActionError` naming a field (``config.address``, ``members[0]``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from amity.accounts.roles import Perm
from amity.core.actions import ActionError, perform
from amity.web.ui_base import Page, checked, render

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")

# An error that names no field on the form is shown above the form under this key.
GENERAL = "_"

Form = dict[str, Any]  # field name -> str (or list[str] for multi-choice fields)


class Errors(dict[str, str]):
    """Refusals keyed by form field, and the HTTP status the page answers with (the first action
    refusal's: 409 for a conflict, 404 for an unknown id; else 422)."""

    status: int | None = None


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text | password | number | textarea | select | checkbox | checks
    options: Sequence[tuple[str, str]] = ()
    hint: str = ""
    placeholder: str = ""
    rows: int = 3

    @property
    def html_id(self) -> str:
        return "f-" + re.sub(r"[^a-zA-Z0-9_-]", "-", self.name)


def names(fields: Sequence[Field]) -> list[str]:
    return [f.name for f in fields]


def field_for(path: str, fields: Sequence[str]) -> str:
    """The form field a refusal belongs to: the longest field name the path starts with
    (``conditions.channel_types.0`` -> ``conditions.channel_types``), else the first field under the
    path (``actions`` -> ``actions.team_id``), else the general slot."""
    parts = re.sub(r"\[(\d+)\]", r".\1", path).split(".")
    for i in range(len(parts), 0, -1):
        candidate = ".".join(parts[:i])
        if candidate in fields:
            return candidate
    prefix = ".".join(parts) + "."
    return next((f for f in fields if f.startswith(prefix)), GENERAL)


def validation_errors(exc: ValidationError, fields: Sequence[str]) -> Errors:
    errors = Errors()
    for e in exc.errors(include_url=False):
        path = ".".join(str(p) for p in e["loc"])
        msg = str(e["msg"])
        if e["type"] == "extra_forbidden":  # a key the form did not offer: say which
            msg = f"{path}: not a field"
        errors.setdefault(field_for(path, fields), msg)
    return errors


def action_errors(exc: ActionError, fields: Sequence[str]) -> Errors:
    errors = Errors({field_for(exc.field or "", fields): exc.message})
    errors.status = exc.status
    return errors


def validate(model: type[M], data: dict[str, Any], fields: Sequence[str], errors: Errors) -> M | None:
    """The model, or None with the refusals added to ``errors`` (parse errors found earlier stay)."""
    try:
        out = model.model_validate(data)
    except ValidationError as exc:
        for k, v in validation_errors(exc, fields).items():
            errors.setdefault(k, v)
        return None
    return None if errors else out


def attempt(
    page: Page, fields: Sequence[str], errors: Errors, fn: Callable[..., R], *args: Any, **kwargs: Any
) -> R | None:
    """Performs the action; a refusal lands in ``errors`` (and the status to answer with)."""
    try:
        return perform(page.app, page.actor, fn, *args, **kwargs)
    except ActionError as exc:
        errors.update(action_errors(exc, fields))
        if errors.status is None:
            errors.status = exc.status
        return None


def status_of(errors: Errors) -> int:
    return errors.status or 422


# ---- reading forms ---------------------------------------------------------------------------------
async def read_form(request: Request, multi: Sequence[str] = ()) -> Form:
    """The posted form as plain strings; ``multi`` fields (checkbox groups) as lists."""
    raw = await request.form()
    out: Form = {}
    for key in raw:
        values = [v for v in raw.getlist(key) if isinstance(v, str)]
        out[key] = values if key in multi else (values[-1] if values else "")
    for key in multi:
        out.setdefault(key, [])
    return out


async def posted(request: Request, perm: Perm, multi: Sequence[str] = ()) -> tuple[Page | Response, Form]:
    """Signed in, allowed, CSRF-checked; and the form's values."""
    form = await read_form(request, multi)
    page = checked(request, perm, str(form.pop("csrf", "")))
    return page, form


def text(form: Form, key: str) -> str:
    value = form.get(key, "")
    return value.strip() if isinstance(value, str) else ""


def optional(form: Form, key: str) -> str | None:
    return text(form, key) or None


def flag(form: Form, key: str) -> bool:
    return text(form, key) in ("on", "true", "1")


def listed(form: Form, key: str) -> list[str]:
    value = form.get(key, [])
    return [v for v in value if v] if isinstance(value, list) else []


def split(form: Form, key: str) -> list[str]:
    """'a, b' or one per line -> ['a', 'b']."""
    return [v.strip() for v in re.split(r"[,\n]", text(form, key)) if v.strip()]


def whole(form: Form, key: str, errors: Errors, *, required: bool = False) -> int | None:
    value = text(form, key)
    if not value:
        if required:
            errors[key] = "Required: a whole number."
        return None
    if re.fullmatch(r"-?\d{1,12}", value):
        return int(value)
    errors[key] = "A whole number, please."
    return None


def skills_text(skills: dict[str, list[str]] | dict[str, str]) -> str:
    return "\n".join(f"{k}: {', '.join(v) if isinstance(v, list) else v}" for k, v in skills.items())


def parse_skills(form: Form, key: str, errors: Errors, *, many: bool) -> dict[str, Any]:
    """'language: en, pt' per line -> {'language': ['en', 'pt']} (or one value each when not many)."""
    out: dict[str, Any] = {}
    for n, line in enumerate(text(form, key).splitlines(), 1):
        if not line.strip():
            continue
        k, sep, v = line.partition(":")
        values = [x.strip() for x in v.split(",") if x.strip()]
        if not sep or not k.strip() or not values or (not many and len(values) > 1):
            errors[key] = f"Line {n}: write key: value" + (", value…" if many else "") + "."
            return {}
        out[k.strip()] = values if many else values[0]
    return out


# ---- rendering -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Button:
    """A one-click POST (revoke, delete, disable, move), with an optional confirmation question."""

    url: str
    label: str
    danger: bool = False
    confirm: str = ""


@dataclass
class Row:
    cells: list[str]
    href: str | None = None
    buttons: list[Button] | None = None
    muted: bool = False


def admin_page(page: Page, template: str, status: int = 200, **context: Any) -> Response:
    context.setdefault("errors", {})
    context.setdefault("once", None)
    return render(page.request, template, status, page=page, **context)
