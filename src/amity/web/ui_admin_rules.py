"""Admin pages for routing rules: tried in order on every new conversation; conditions and actions,
moved up and down, enabled and disabled."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from amity.accounts.roles import Perm
from amity.core.actions import ActionContext
from amity.service import setup
from amity.service.models import Macro, RoutingRule, Team
from amity.service.schemas import (
    RoutingRuleIn,
    RoutingRulePatch,
)
from amity.service.sla import now_of
from amity.web.ui_admin_conditions import (
    CONDITION_MULTI,
    EMPTY_CONDITIONS,
    PRIORITIES,
    condition_fields,
    condition_values,
    conditions_text,
    options,
    parse_conditions,
)
from amity.web.ui_admin_crud import Resource, list_page, load, not_found, register
from amity.web.ui_admin_kit import (
    Button,
    Errors,
    Field,
    Form,
    attempt,
    flag,
    optional,
    parse_skills,
    posted,
    skills_text,
    split,
    status_of,
    text,
    whole,
)
from amity.web.ui_admin_teams import people_options
from amity.web.ui_base import Page, redirect

router = APIRouter(include_in_schema=False)
PERM = Perm.SERVICE_MANAGE


# ---- routing rules -----------------------------------------------------------------------------------
def _rule_fields(page: Page, row: Any) -> list[Field]:
    return [
        Field("name", "Name", placeholder="Refunds to Returns"),
        Field("position", "Position", "number", hint="Rules are tried lowest first; empty: after the last"),
        Field("enabled", "Enabled", "checkbox"),
        *condition_fields(page),
        Field("actions.team_id", "Send to team", "select", options(page, Team)),
        Field(
            "actions.priority", "Set priority", "select", [("", "— keep —"), *((p, p) for p in PRIORITIES)]
        ),
        Field("actions.tags", "Add tags", placeholder="refund, vip", hint="Separate with commas"),
        Field("actions.assignee_id", "Assign to", "select", [("", "— nobody —"), *people_options(page)]),
        Field("actions.macro_id", "Auto-reply with macro", "select", options(page, Macro)),
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
    errors = Errors()
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


register(router, RULES)
