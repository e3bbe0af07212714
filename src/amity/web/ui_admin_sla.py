"""Admin pages for SLA policies: conditions, the calendar time is counted in, and minutes per priority
for the first response, each next response and resolution."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from amity.accounts.roles import Perm
from amity.core.actions import ActionContext
from amity.service import setup
from amity.service.models import Calendar, SlaPolicy
from amity.service.schemas import (
    SlaPolicyIn,
    SlaPolicyPatch,
)
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
from amity.web.ui_admin_crud import Resource, register
from amity.web.ui_admin_kit import (
    Errors,
    Field,
    Form,
    flag,
    optional,
    text,
    whole,
)
from amity.web.ui_base import Page

router = APIRouter(include_in_schema=False)
PERM = Perm.SERVICE_MANAGE
TARGET_PRIORITIES = (("*", "Any priority"), *((p, p.capitalize()) for p in reversed(PRIORITIES)))
TARGETS = (
    ("first_response", "first response"),
    ("next_response", "next response"),
    ("resolution", "resolution"),
)


def _delete_policy(ctx: ActionContext, policy_id: str) -> None:
    setup.delete_rule_or_policy(ctx, SlaPolicy, policy_id)


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
        Field("calendar_id", "Counts time in", "select", options(page, Calendar, "— around the clock —")),
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
    plural="SLA policies",
    article="an",
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


register(router, POLICIES)
