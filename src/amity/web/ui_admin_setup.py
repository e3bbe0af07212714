"""Admin pages for how work is handled: routing rules (ordered), SLA policies, business-hours
calendars, macros (with a preview) and brands."""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from amity.accounts.roles import Perm
from amity.channels.models import CHANNEL_TYPES
from amity.core.actions import ActionContext, ActionError
from amity.service import macros, setup
from amity.service.calendars import DAYS
from amity.service.models import Brand, Calendar, Macro, RoutingRule, SlaPolicy, Team
from amity.service.schemas import (
    BrandIn,
    BrandPatch,
    CalendarIn,
    CalendarPatch,
    MacroIn,
    MacroPatch,
    RoutingRuleIn,
    RoutingRulePatch,
    SlaPolicyIn,
    SlaPolicyPatch,
)
from amity.service.sla import now_of
from amity.web.ui_admin_crud import Resource, edit_page, list_page, load, not_found, register
from amity.web.ui_admin_kit import (
    Button,
    Errors,
    Field,
    Form,
    attempt,
    flag,
    listed,
    optional,
    parse_skills,
    posted,
    skills_text,
    split,
    status_of,
    text,
    whole,
)
from amity.web.ui_admin_people import people_options
from amity.web.ui_base import Page, redirect

router = APIRouter(include_in_schema=False)
PERM = Perm.SERVICE_MANAGE
PRIORITIES = ("low", "normal", "high", "urgent")
TARGET_PRIORITIES = (("*", "Any priority"), *((p, p.capitalize()) for p in reversed(PRIORITIES)))
TARGETS = (
    ("first_response", "first response"),
    ("next_response", "next response"),
    ("resolution", "resolution"),
)


def _options(page: Page, model: Any, none: str = "— none —") -> list[tuple[str, str]]:
    with page.app.db.read() as s:
        rows = s.execute(select(model.id, model.name).order_by(model.name)).all()
    return [("", none), *((r.id, r.name) for r in rows)]


# ---- conditions (shared by routing rules and SLA policies) -----------------------------------------
def condition_fields(page: Page) -> list[Field]:
    return [
        Field(
            "conditions.channel_types",
            "Channels",
            "checks",
            [(t, t) for t in CHANNEL_TYPES],
            hint="None ticked: any channel",
        ),
        Field(
            "conditions.priorities",
            "Priorities",
            "checks",
            [(p, p) for p in PRIORITIES],
            hint="None ticked: any priority",
        ),
        Field(
            "conditions.keywords",
            "Keywords",
            placeholder="refund, broken",
            hint="Any of these words in the subject or first message; separate with commas",
        ),
        Field(
            "conditions.customer_traits",
            "Customer traits",
            "textarea",
            rows=2,
            placeholder='{"vip": true, "tier": ["gold", "platinum"]}',
            hint="JSON: trait -> value or list of values",
        ),
        Field(
            "conditions.business_hours.calendar_id",
            "Business hours",
            "select",
            _options(page, Calendar, "— any time —"),
        ),
        Field(
            "conditions.business_hours.open",
            "…applies",
            "select",
            [("true", "while open"), ("false", "while closed")],
        ),
    ]


CONDITION_MULTI = ("conditions.channel_types", "conditions.priorities")


def parse_conditions(form: Form, errors: Errors) -> dict[str, Any]:
    out: dict[str, Any] = {
        "channel_types": listed(form, "conditions.channel_types"),
        "priorities": listed(form, "conditions.priorities"),
        "keywords": split(form, "conditions.keywords"),
    }
    if traits := text(form, "conditions.customer_traits"):
        try:
            out["customer_traits"] = orjson.loads(traits)
        except orjson.JSONDecodeError:
            errors["conditions.customer_traits"] = 'Not JSON: write an object like {"vip": true}.'
    if calendar := text(form, "conditions.business_hours.calendar_id"):
        open_ = text(form, "conditions.business_hours.open") != "false"
        out["business_hours"] = {"calendar_id": calendar, "open": open_}
    return out


def condition_values(c: dict[str, Any]) -> Form:
    bh = c.get("business_hours") or {}
    return {
        "conditions.channel_types": list(c.get("channel_types", [])),
        "conditions.priorities": list(c.get("priorities", [])),
        "conditions.keywords": ", ".join(c.get("keywords", [])),
        "conditions.customer_traits": orjson.dumps(c["customer_traits"]).decode()
        if c.get("customer_traits")
        else "",
        "conditions.business_hours.calendar_id": bh.get("calendar_id", ""),
        "conditions.business_hours.open": "false" if bh.get("open") is False else "true",
    }


def conditions_text(c: dict[str, Any]) -> str:
    parts = []
    for key, label in (("channel_types", "on"), ("priorities", "priority"), ("keywords", "mentions")):
        if c.get(key):
            parts.append(f"{label} {' or '.join(c[key])}")
    if c.get("customer_traits"):
        parts.append("customer " + orjson.dumps(c["customer_traits"]).decode())
    if bh := c.get("business_hours"):
        parts.append("while open" if bh.get("open", True) else "while closed")
    return "; ".join(parts) or "always"


EMPTY_CONDITIONS: Form = condition_values({})


# ---- routing rules -----------------------------------------------------------------------------------
def _rule_fields(page: Page, row: Any) -> list[Field]:
    return [
        Field("name", "Name", placeholder="Refunds to Returns"),
        Field("position", "Position", "number", hint="Rules are tried lowest first; empty: after the last"),
        Field("enabled", "Enabled", "checkbox"),
        *condition_fields(page),
        Field("actions.team_id", "Send to team", "select", _options(page, Team)),
        Field(
            "actions.priority", "Set priority", "select", [("", "— keep —"), *((p, p) for p in PRIORITIES)]
        ),
        Field("actions.tags", "Add tags", placeholder="refund, vip", hint="Separate with commas"),
        Field("actions.assignee_id", "Assign to", "select", [("", "— nobody —"), *people_options(page)]),
        Field("actions.macro_id", "Auto-reply with macro", "select", _options(page, Macro)),
        Field(
            "actions.skills",
            "Needs skills",
            "textarea",
            rows=2,
            placeholder="language: pt",
            hint="One per line, skill: value (for teams that assign by skill)",
        ),
        Field("continue", "Keep evaluating later rules after this one matches", "checkbox"),
    ]


def _rule_parse(form: Form, errors: Errors) -> dict[str, Any]:
    actions: dict[str, Any] = {
        "team_id": optional(form, "actions.team_id"),
        "priority": optional(form, "actions.priority"),
        "tags": split(form, "actions.tags") or None,
        "assignee_id": optional(form, "actions.assignee_id"),
        "macro_id": optional(form, "actions.macro_id"),
        "skills": parse_skills(form, "actions.skills", errors, many=False) or None,
    }
    return {
        "name": text(form, "name"),
        "position": whole(form, "position", errors),
        "enabled": flag(form, "enabled"),
        "conditions": parse_conditions(form, errors),
        "actions": {k: v for k, v in actions.items() if v is not None},
        "continue": flag(form, "continue"),
    }


def _rule_values(r: RoutingRule) -> Form:
    a = r.actions
    return {
        "name": r.name,
        "position": str(r.position),
        "enabled": "on" if r.enabled else "",
        **condition_values(r.conditions),
        "actions.team_id": a.get("team_id", ""),
        "actions.priority": a.get("priority", ""),
        "actions.tags": ", ".join(a.get("tags", [])),
        "actions.assignee_id": a.get("assignee_id", ""),
        "actions.macro_id": a.get("macro_id", ""),
        "actions.skills": skills_text(a.get("skills", {})),
        "continue": "on" if r.continue_after else "",
    }


def _actions_text(a: dict[str, Any]) -> str:
    parts = [f"{k.removesuffix('_id')} {', '.join(v) if isinstance(v, list) else v}" for k, v in a.items()]
    return "; ".join(parts)


def _rule_buttons(r: RoutingRule) -> list[Button]:
    toggle = (
        Button(f"/admin/routing/{r.id}/disable", "Disable")
        if r.enabled
        else Button(f"/admin/routing/{r.id}/enable", "Enable")
    )
    return [
        Button(f"/admin/routing/{r.id}/up", "↑ Up"),
        Button(f"/admin/routing/{r.id}/down", "↓ Down"),
        toggle,
    ]


def _delete_rule(ctx: ActionContext, rule_id: str) -> None:
    setup.delete_rule_or_policy(ctx, RoutingRule, rule_id)


def _delete_policy(ctx: ActionContext, policy_id: str) -> None:
    setup.delete_rule_or_policy(ctx, SlaPolicy, policy_id)


RULES = Resource(
    slug="routing",
    title="Routing rules",
    noun="routing rule",
    intro="Tried in order on every new conversation; the first that matches decides (unless it says to go on).",
    model=RoutingRule,
    fields=_rule_fields,
    values=_rule_values,
    parse=_rule_parse,
    create_model=RoutingRuleIn,
    patch_model=RoutingRulePatch,
    create=setup.create_rule,
    update=setup.update_rule,
    delete=_delete_rule,
    columns=["Name", "Position", "When", "Then", "Status"],
    cells=lambda s, r: [
        r.name,
        str(r.position),
        conditions_text(r.conditions),
        _actions_text(r.actions),
        ("enabled" if r.enabled else "disabled") + (" · continues" if r.continue_after else ""),
    ],
    empty_form={
        "name": "",
        "position": "",
        "enabled": "on",
        **EMPTY_CONDITIONS,
        "actions.team_id": "",
        "actions.priority": "",
        "actions.tags": "",
        "actions.assignee_id": "",
        "actions.macro_id": "",
        "actions.skills": "",
        "continue": "",
    },
    multi=CONDITION_MULTI,
    buttons=_rule_buttons,
)


def _move(ctx: ActionContext, rule_id: str, step: int, now: Any) -> None:
    """Swaps a rule with its neighbour in one transaction, so the order is never half-changed."""
    rules = list(
        ctx.session.scalars(
            select(RoutingRule).order_by(RoutingRule.position, RoutingRule.created_at, RoutingRule.id)
        )
    )
    i = next((n for n, r in enumerate(rules) if r.id == rule_id), None)
    if i is None or not 0 <= i + step < len(rules):
        return
    a, b = rules[i], rules[i + step]
    first, second = (b.position, a.position) if a.position != b.position else (a.position + step, a.position)
    setup.update_rule(ctx, a.id, {"position": max(first, 0)}, now)
    setup.update_rule(ctx, b.id, {"position": max(second, 0)}, now)


async def _rule_change(request: Request, rule_id: str, fn: Any, *args: Any) -> Response:
    page, _ = await posted(request, PERM)
    if isinstance(page, Response):
        return page
    rule = load(page, RULES, rule_id)
    if rule is None:
        return not_found(page, f"There is no routing rule {rule_id}.")
    errors: Errors = {}
    attempt(page, [], errors, fn, rule_id, *args, now_of(page.app))
    if errors:
        status = status_of(errors)
        return list_page(page, RULES, status=status, error=next(iter(errors.values())))
    return redirect("/admin/routing?notice=saved")


@router.post("/admin/routing/{rule_id}/up")
async def rule_up(request: Request, rule_id: str) -> Response:
    return await _rule_change(request, rule_id, _move, -1)


@router.post("/admin/routing/{rule_id}/down")
async def rule_down(request: Request, rule_id: str) -> Response:
    return await _rule_change(request, rule_id, _move, 1)


@router.post("/admin/routing/{rule_id}/enable")
async def rule_enable(request: Request, rule_id: str) -> Response:
    return await _rule_change(request, rule_id, setup.update_rule, {"enabled": True})


@router.post("/admin/routing/{rule_id}/disable")
async def rule_disable(request: Request, rule_id: str) -> Response:
    return await _rule_change(request, rule_id, setup.update_rule, {"enabled": False})


# ---- SLA policies --------------------------------------------------------------------------------------
def _target_fields() -> list[Field]:
    return [
        Field(f"targets.{p}.{t}", f"{label}: {what} (minutes)", "number")
        for p, label in TARGET_PRIORITIES
        for t, what in TARGETS
    ]


def _policy_fields(page: Page, row: Any) -> list[Field]:
    return [
        Field("name", "Name", placeholder="Standard"),
        Field("position", "Position", "number", hint="The first enabled policy that matches applies"),
        Field("enabled", "Enabled", "checkbox"),
        Field("calendar_id", "Counts time in", "select", _options(page, Calendar, "— around the clock —")),
        *condition_fields(page),
        *_target_fields(),
        Field("pause_on_hold", "Pause the clocks while a conversation is on hold", "checkbox"),
        Field("warn_before_minutes", "Warn before a breach (minutes)", "number"),
    ]


def _policy_parse(form: Form, errors: Errors) -> dict[str, Any]:
    targets: dict[str, dict[str, int]] = {}
    for p, _ in TARGET_PRIORITIES:
        for t, _ in TARGETS:
            if (minutes := whole(form, f"targets.{p}.{t}", errors)) is not None:
                targets.setdefault(p, {})[t] = minutes
    if not targets and not errors:  # Pydantic would say "Dictionary should have at least 1 item"
        errors["targets.*.first_response"] = "Give at least one target in minutes."
    data: dict[str, Any] = {
        "name": text(form, "name"),
        "position": whole(form, "position", errors),
        "enabled": flag(form, "enabled"),
        "calendar_id": optional(form, "calendar_id"),
        "conditions": parse_conditions(form, errors),
        "targets": targets,
        "pause_on_hold": flag(form, "pause_on_hold"),
    }
    if (warn := whole(form, "warn_before_minutes", errors)) is not None:
        data["warn_before_minutes"] = warn
    return data


def _policy_values(p: SlaPolicy) -> Form:
    form: Form = {
        "name": p.name,
        "position": str(p.position),
        "enabled": "on" if p.enabled else "",
        "calendar_id": p.calendar_id or "",
        **condition_values(p.conditions),
        "pause_on_hold": "on" if p.pause_on_hold else "",
        "warn_before_minutes": str(p.warn_before_minutes),
    }
    for prio, _ in TARGET_PRIORITIES:
        for t, _ in TARGETS:
            value = (p.targets.get(prio) or {}).get(t)
            form[f"targets.{prio}.{t}"] = "" if value is None else str(value)
    return form


def _targets_text(targets: dict[str, dict[str, int]]) -> str:
    return "; ".join(
        f"{'any' if prio == '*' else prio}: "
        + ", ".join(f"{k.replace('_', ' ')} {v} min" for k, v in t.items())
        for prio, t in targets.items()
    )


POLICIES = Resource(
    slug="sla",
    title="SLA policies",
    noun="SLA policy",
    intro="Targets in minutes for the first response, each next response and resolution. "
    "The first enabled policy whose conditions match a conversation applies.",
    model=SlaPolicy,
    fields=_policy_fields,
    values=_policy_values,
    parse=_policy_parse,
    create_model=SlaPolicyIn,
    patch_model=SlaPolicyPatch,
    create=setup.create_policy,
    update=setup.update_policy,
    delete=_delete_policy,
    columns=["Name", "Position", "When", "Targets", "Status"],
    cells=lambda s, p: [
        p.name,
        str(p.position),
        conditions_text(p.conditions),
        _targets_text(p.targets),
        "enabled" if p.enabled else "disabled",
    ],
    empty_form={
        "name": "",
        "position": "",
        "enabled": "on",
        "calendar_id": "",
        **EMPTY_CONDITIONS,
        **{f"targets.{p}.{t}": "" for p, _ in TARGET_PRIORITIES for t, _ in TARGETS},
        "pause_on_hold": "",
        "warn_before_minutes": "15",
    },
    multi=CONDITION_MULTI,
)


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


def preview(page: Page, form: Form) -> tuple[str | None, Errors]:
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


for _resource in (RULES, POLICIES, CALENDARS, MACROS, BRANDS):
    register(router, _resource)
