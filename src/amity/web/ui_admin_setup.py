"""Admin pages for business-hours calendars, macros (with a preview) and brands."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from amity.accounts.roles import Perm
from amity.core.actions import ActionError
from amity.service import macros, setup
from amity.service.calendars import DAYS
from amity.service.models import Brand, Calendar, Macro
from amity.service.schemas import (
    BrandIn,
    BrandPatch,
    CalendarIn,
    CalendarPatch,
    MacroIn,
    MacroPatch,
)
from amity.web.ui_admin_crud import Resource, edit_page, list_page, load, not_found, register
from amity.web.ui_admin_kit import (
    Errors,
    Field,
    Form,
    optional,
    posted,
    split,
    text,
)
from amity.web.ui_base import Page

router = APIRouter(include_in_schema=False)
PERM = Perm.SERVICE_MANAGE


# ---- calendars -----------------------------------------------------------------------------------------
SPAN = re.compile(r"^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")


def _calendar_fields(page: Page, row: Any) -> list[Field]:
    return [
        Field("name", "Name", placeholder="Lisbon office"),
        Field("timezone", "Time zone", placeholder="Europe/Lisbon", hint="An IANA name"),
        *(
            Field(
                f"hours.{d}",
                d.capitalize(),
                placeholder="09:00-17:00" if d not in ("sat", "sun") else "closed",
                hint="Empty: closed. Several openings: 09:00-12:00, 13:00-17:00" if d == "mon" else "",
            )
            for d in DAYS
        ),
        Field(
            "holidays",
            "Holidays",
            "textarea",
            rows=3,
            placeholder="2026-12-25",
            hint="Dates the calendar is closed, YYYY-MM-DD, one per line",
        ),
    ]


def _calendar_parse(form: Form, errors: Errors) -> dict[str, Any]:
    hours: dict[str, list[list[str]]] = {}
    for d in DAYS:
        spans = []
        for part in split(form, f"hours.{d}"):
            m = SPAN.match(part)
            if m is None:
                errors[f"hours.{d}"] = f"'{part}' is not an opening like 09:00-17:00."
                break
            spans.append([m.group(1).zfill(5), m.group(2).zfill(5)])
        if spans:
            hours[d] = spans
    return {
        "name": text(form, "name"),
        "timezone": text(form, "timezone"),
        "hours": hours,
        "holidays": split(form, "holidays"),
    }


def _calendar_values(c: Calendar) -> Form:
    form: Form = {"name": c.name, "timezone": c.timezone, "holidays": "\n".join(c.holidays)}
    for d in DAYS:
        form[f"hours.{d}"] = ", ".join(f"{a}-{b}" for a, b in c.hours.get(d, []))
    return form


CALENDARS = Resource(
    slug="calendars",
    title="Business hours",
    noun="calendar",
    intro="Weekly opening times in one time zone, minus holidays. SLA clocks and routing rules can count in them.",
    model=Calendar,
    fields=_calendar_fields,
    values=_calendar_values,
    parse=_calendar_parse,
    create_model=CalendarIn,
    patch_model=CalendarPatch,
    create=setup.create_calendar,
    update=setup.update_calendar,
    delete=setup.delete_calendar,
    columns=["Name", "Time zone", "Hours", "Holidays"],
    cells=lambda s, c: [
        c.name,
        c.timezone,
        "; ".join(f"{d} " + ", ".join(f"{a}-{b}" for a, b in c.hours[d]) for d in DAYS if c.hours.get(d)),
        str(len(c.holidays)),
    ],
    empty_form={
        "name": "",
        "timezone": "",
        "holidays": "",
        **{f"hours.{d}": ("09:00-17:00" if d not in ("sat", "sun") else "") for d in DAYS},
    },
)


# ---- macros --------------------------------------------------------------------------------------------
SAMPLE = {
    "customer": {
        "id": "cus_sample",
        "name": "Ana Silva",
        "first_name": "Ana",
        "email": "ana@example.com",
        "phone": "+351912345678",
        "traits": {"name": "Ana Silva", "language": "pt"},
    },
    "conversation": {
        "id": "cnv_sample",
        "subject": "My order",
        "status": "open",
        "priority": "normal",
        "tags": [],
        "channel_type": "email",
    },
    "brand": {"name": "Your brand", "signature": "— The support team", "from_address": "support@example.com"},
    "agent": {"name": ""},
}


def _macro_fields(page: Page, row: Any) -> list[Field]:
    return [
        Field("name", "Name", placeholder="Refund on its way"),
        Field(
            "body",
            "Text",
            "textarea",
            rows=8,
            placeholder="Hello {{ customer.first_name }},\n\n…\n\n{{ brand.signature }}",
            hint="A template: {{ customer.first_name }}, {{ conversation.subject }}, {{ brand.name }}, "
            "{{ agent.name }}…",
        ),
        Field(
            "preview_conversation",
            "Preview for conversation",
            placeholder="cnv_…",
            hint="Optional: preview with a real conversation's data; otherwise a sample customer (Ana Silva)",
        ),
    ]


MACROS = Resource(
    slug="macros",
    title="Macros",
    noun="macro",
    intro="Saved replies agents insert with one click; routing rules can send them as auto-replies.",
    model=Macro,
    fields=_macro_fields,
    values=lambda m: {"name": m.name, "body": m.body, "preview_conversation": ""},
    parse=lambda form, errors: {"name": text(form, "name"), "body": str(form.get("body", ""))},
    create_model=MacroIn,
    patch_model=MacroPatch,
    create=setup.create_macro,
    update=setup.update_macro,
    delete=setup.delete_macro,
    columns=["Name", "Text"],
    cells=lambda s, m: [m.name, m.body if len(m.body) <= 80 else m.body[:79] + "…"],
    empty_form={"name": "", "body": "", "preview_conversation": ""},
    edit_template="admin_macro.html",
    list_template="admin_macro_list.html",
)


def preview(page: Page, form: Form) -> tuple[str | None, dict[str, str]]:
    """The macro as it would read (not saved); a template or data error names the field."""
    body = str(form.get("body", ""))
    conversation = text(form, "preview_conversation")
    try:
        macros.check_template(body)
        if conversation:
            with page.app.db.read() as s:
                try:
                    context = macros.context(s, conversation, page.actor)
                except ActionError as exc:
                    return None, {"preview_conversation": exc.message}
        else:
            context = SAMPLE
        return macros.render(body, context), {}
    except ActionError as exc:
        return None, {"body": exc.message}


@router.post("/admin/macros/preview")
async def macro_preview_new(request: Request) -> Response:
    page, form = await posted(request, PERM)
    if isinstance(page, Response):
        return page
    text_, errors = preview(page, form)
    return list_page(page, MACROS, form, errors, 422 if errors else 200, preview=text_)


@router.post("/admin/macros/{macro_id}/preview")
async def macro_preview(request: Request, macro_id: str) -> Response:
    page, form = await posted(request, PERM)
    if isinstance(page, Response):
        return page
    row = load(page, MACROS, macro_id)
    if row is None:
        return not_found(page, f"There is no macro {macro_id}.")
    text_, errors = preview(page, form)
    return edit_page(page, MACROS, row, form, errors, 422 if errors else 200, preview=text_)


# ---- brands --------------------------------------------------------------------------------------------
COLOURS = ("primary", "accent", "background", "text")


def _brand_fields(page: Page, row: Any) -> list[Field]:
    return [
        Field("name", "Name", placeholder="Trail Shoes"),
        Field(
            "from_address",
            "From address",
            placeholder="help@trailshoes.example",
            hint="Email replies go out from this address",
        ),
        Field("signature", "Signature", "textarea", rows=3, placeholder="— The Trail Shoes team"),
        *(
            Field(
                f"colours.{c}",
                f"{c.capitalize()} colour",
                placeholder="#4f46e5",
                hint="#RRGGBB; used by the chat widget" if c == "primary" else "",
            )
            for c in COLOURS
        ),
    ]


def _brand_parse(form: Form, errors: Errors) -> dict[str, Any]:
    return {
        "name": text(form, "name"),
        "from_address": optional(form, "from_address"),
        "signature": str(form.get("signature", "")).strip(),
        "colours": {c: v for c in COLOURS if (v := text(form, f"colours.{c}"))},
    }


BRANDS = Resource(
    slug="brands",
    title="Brands",
    noun="brand",
    intro="The names you answer under. Channels and conversations carry a brand; macros can use it.",
    model=Brand,
    fields=_brand_fields,
    values=lambda b: {
        "name": b.name,
        "from_address": b.from_address or "",
        "signature": b.signature,
        **{f"colours.{c}": b.colours.get(c, "") for c in COLOURS},
    },
    parse=_brand_parse,
    create_model=BrandIn,
    patch_model=BrandPatch,
    create=setup.create_brand,
    update=setup.update_brand,
    delete=setup.delete_brand,
    columns=["Name", "From address", "Colours"],
    cells=lambda s, b: [b.name, b.from_address or "—", " ".join(b.colours.values()) or "—"],
    empty_form={"name": "", "from_address": "", "signature": "", **{f"colours.{c}": "" for c in COLOURS}},
)


for _resource in (CALENDARS, MACROS, BRANDS):
    register(router, _resource)
