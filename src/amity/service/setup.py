"""Changing brands, calendars, macros, routing rules and SLA policies (each an action, audited)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from amity.accounts.queries import assignable_user
from amity.channels.models import Channel
from amity.conversations.models import Conversation
from amity.core.actions import ActionContext, Conflict, Invalid, NotFound
from amity.ids import new_id
from amity.service.calendars import BusinessHours, CalendarError
from amity.service.macros import check_template
from amity.service.models import Brand, Calendar, Macro, RoutingRule, SlaPolicy, Team
from amity.service.people import _changed, fetch, unique_name


def _present(changes: dict[str, Any], *nullable: str) -> dict[str, Any]:
    """PATCH semantics: a key sent as null clears it only where null means something."""
    return {k: v for k, v in changes.items() if v is not None or k in nullable}


# ---- brands --------------------------------------------------------------------------------------
def _address(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Invalid(f"not a valid email address: {exc}", field="from_address") from None


def create_brand(ctx: ActionContext, data: dict[str, Any], now: dt.datetime) -> Brand:
    unique_name(ctx, Brand, data["name"])
    data["from_address"] = _address(data.get("from_address"))
    row = Brand(id=new_id("brd"), created_at=now, updated_at=now, **data)
    ctx.session.add(row)
    ctx.session.flush()
    ctx.audit("brand.created", "brand", row.id, **data)
    return row


def update_brand(ctx: ActionContext, brand_id: str, changes: dict[str, Any], now: dt.datetime) -> Brand:
    row = fetch(ctx, Brand, brand_id, "brand", "brand_id")
    changes = _present(changes, "from_address")
    if "name" in changes:
        unique_name(ctx, Brand, changes["name"], row.id)
    if "from_address" in changes:
        changes["from_address"] = _address(changes["from_address"])
    if done := _changed(row, changes):
        row.updated_at = now
        ctx.audit("brand.updated", "brand", row.id, **done)
    return row


def delete_brand(ctx: ActionContext, brand_id: str) -> None:
    s = ctx.session
    row = fetch(ctx, Brand, brand_id, "brand", "brand_id")
    if s.scalar(select(Channel.name).where(Channel.brand_id == row.id).limit(1)) is not None:
        raise Conflict(f"channels speak for brand '{row.name}'; change them first", field="brand_id")
    used = s.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.brand_id == row.id, Conversation.status != "closed")
    )
    if used:
        raise Conflict(f"{used} conversations not closed belong to brand '{row.name}'", field="brand_id")
    s.delete(row)
    ctx.audit("brand.deleted", "brand", row.id, name=row.name)


# ---- calendars -----------------------------------------------------------------------------------
def _check_calendar(data: dict[str, Any]) -> None:
    try:
        BusinessHours.parse(data["timezone"], data["hours"], data.get("holidays") or [])
    except CalendarError as exc:
        raise Invalid(exc.message, field=exc.field) from None


def create_calendar(ctx: ActionContext, data: dict[str, Any], now: dt.datetime) -> Calendar:
    unique_name(ctx, Calendar, data["name"])
    _check_calendar(data)
    row = Calendar(id=new_id("cal"), created_at=now, updated_at=now, **data)
    ctx.session.add(row)
    ctx.session.flush()
    ctx.audit("calendar.created", "calendar", row.id, **data)
    return row


def update_calendar(
    ctx: ActionContext, calendar_id: str, changes: dict[str, Any], now: dt.datetime
) -> Calendar:
    row = fetch(ctx, Calendar, calendar_id, "calendar", "calendar_id")
    changes = _present(changes)
    if "name" in changes:
        unique_name(ctx, Calendar, changes["name"], row.id)
    _check_calendar(
        {
            "timezone": changes.get("timezone", row.timezone),
            "hours": changes.get("hours", row.hours),
            "holidays": changes.get("holidays", row.holidays),
        }
    )
    if done := _changed(row, changes):
        row.updated_at = now
        ctx.audit("calendar.updated", "calendar", row.id, **done)
    return row


def _uses_calendar(conditions: dict[str, Any], calendar_id: str) -> bool:
    return bool((conditions.get("business_hours") or {}).get("calendar_id") == calendar_id)


def delete_calendar(ctx: ActionContext, calendar_id: str) -> None:
    s = ctx.session
    row = fetch(ctx, Calendar, calendar_id, "calendar", "calendar_id")
    for p in s.scalars(select(SlaPolicy)):
        if p.calendar_id == row.id or _uses_calendar(p.conditions, row.id):
            raise Conflict(f"SLA policy '{p.name}' uses this calendar", field="calendar_id")
    for r in s.scalars(select(RoutingRule)):
        if _uses_calendar(r.conditions, row.id):
            raise Conflict(f"routing rule '{r.name}' uses this calendar", field="calendar_id")
    s.delete(row)
    ctx.audit("calendar.deleted", "calendar", row.id, name=row.name)


# ---- macros --------------------------------------------------------------------------------------
def create_macro(ctx: ActionContext, data: dict[str, Any], now: dt.datetime) -> Macro:
    unique_name(ctx, Macro, data["name"])
    check_template(data["body"])
    row = Macro(id=new_id("mac"), created_at=now, updated_at=now, **data)
    ctx.session.add(row)
    ctx.session.flush()
    ctx.audit("macro.created", "macro", row.id, name=row.name)
    return row


def update_macro(ctx: ActionContext, macro_id: str, changes: dict[str, Any], now: dt.datetime) -> Macro:
    row = fetch(ctx, Macro, macro_id, "macro", "macro_id")
    changes = _present(changes)
    if "name" in changes:
        unique_name(ctx, Macro, changes["name"], row.id)
    if "body" in changes:
        check_template(changes["body"])
    if done := _changed(row, changes):
        row.updated_at = now
        ctx.audit("macro.updated", "macro", row.id, fields=sorted(done))
    return row


def delete_macro(ctx: ActionContext, macro_id: str) -> None:
    s = ctx.session
    row = fetch(ctx, Macro, macro_id, "macro", "macro_id")
    for r in s.scalars(select(RoutingRule)):
        if r.actions.get("macro_id") == row.id:
            raise Conflict(f"routing rule '{r.name}' auto-replies with this macro", field="macro_id")
    s.delete(row)
    ctx.audit("macro.deleted", "macro", row.id, name=row.name)


# ---- routing rules and SLA policies --------------------------------------------------------------
def _compact(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, [], {})}


def _check_conditions(ctx: ActionContext, conditions: dict[str, Any]) -> dict[str, Any]:
    out = _compact(conditions)
    if (bh := out.get("business_hours")) is not None:
        fetch(ctx, Calendar, bh["calendar_id"], "calendar", "conditions.business_hours.calendar_id")
    return out


def _check_actions(ctx: ActionContext, actions: dict[str, Any]) -> dict[str, Any]:
    out = _compact(actions)
    if not out:
        raise Invalid("a rule needs at least one action", field="actions")
    if "team_id" in out:
        fetch(ctx, Team, out["team_id"], "team", "actions.team_id")
    if "macro_id" in out:
        fetch(ctx, Macro, out["macro_id"], "macro", "actions.macro_id")
    if "assignee_id" in out and not assignable_user(ctx.session, out["assignee_id"]):
        raise NotFound(f"no active agent {out['assignee_id']}", field="actions.assignee_id")
    if "tags" in out:
        out["tags"] = list(dict.fromkeys(t.lower() for t in out["tags"]))
    return out


def _next_position(ctx: ActionContext, model: Any) -> int:
    last = ctx.session.scalar(select(func.max(model.position)))
    return 10 if last is None else int(last) + 10


def create_rule(ctx: ActionContext, data: dict[str, Any], now: dt.datetime) -> RoutingRule:
    row = RoutingRule(
        id=new_id("rul"),
        name=data["name"],
        position=data.get("position")
        if data.get("position") is not None
        else _next_position(ctx, RoutingRule),
        enabled=data.get("enabled", True),
        conditions=_check_conditions(ctx, data.get("conditions") or {}),
        actions=_check_actions(ctx, data["actions"]),
        continue_after=bool(data.get("continue_")),
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    ctx.audit("routing_rule.created", "routing_rule", row.id, name=row.name, position=row.position)
    return row


def update_rule(ctx: ActionContext, rule_id: str, changes: dict[str, Any], now: dt.datetime) -> RoutingRule:
    row = fetch(ctx, RoutingRule, rule_id, "routing rule", "rule_id")
    changes = _present(changes)
    if "conditions" in changes:
        changes["conditions"] = _check_conditions(ctx, changes["conditions"])
    if "actions" in changes:
        changes["actions"] = _check_actions(ctx, changes["actions"])
    if "continue_" in changes:
        changes["continue_after"] = bool(changes.pop("continue_"))
    if done := _changed(row, changes):
        row.updated_at = now
        ctx.audit("routing_rule.updated", "routing_rule", row.id, **done)
    return row


def _targets(targets: dict[str, Any]) -> dict[str, dict[str, int]]:
    out = {prio: _compact(t) for prio, t in targets.items()}
    out = {p: t for p, t in out.items() if t}
    if not out:
        raise Invalid("give at least one target in minutes", field="targets")
    return out


def create_policy(ctx: ActionContext, data: dict[str, Any], now: dt.datetime) -> SlaPolicy:
    unique_name(ctx, SlaPolicy, data["name"])
    if data.get("calendar_id") is not None:
        fetch(ctx, Calendar, data["calendar_id"], "calendar", "calendar_id")
    row = SlaPolicy(
        id=new_id("sla"),
        name=data["name"],
        position=data.get("position") if data.get("position") is not None else _next_position(ctx, SlaPolicy),
        enabled=data.get("enabled", True),
        calendar_id=data.get("calendar_id"),
        conditions=_check_conditions(ctx, data.get("conditions") or {}),
        targets=_targets(data["targets"]),
        pause_on_hold=bool(data.get("pause_on_hold")),
        warn_before_minutes=int(data.get("warn_before_minutes", 15)),
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    ctx.audit("sla_policy.created", "sla_policy", row.id, name=row.name, targets=row.targets)
    return row


def update_policy(ctx: ActionContext, policy_id: str, changes: dict[str, Any], now: dt.datetime) -> SlaPolicy:
    row = fetch(ctx, SlaPolicy, policy_id, "SLA policy", "policy_id")
    changes = _present(changes, "calendar_id")
    if "name" in changes:
        unique_name(ctx, SlaPolicy, changes["name"], row.id)
    if changes.get("calendar_id") is not None:
        fetch(ctx, Calendar, changes["calendar_id"], "calendar", "calendar_id")
    if "conditions" in changes:
        changes["conditions"] = _check_conditions(ctx, changes["conditions"])
    if "targets" in changes:
        changes["targets"] = _targets(changes["targets"])
    if done := _changed(row, changes):
        row.updated_at = now
        ctx.audit("sla_policy.updated", "sla_policy", row.id, **done)
    return row


def delete_rule_or_policy(
    ctx: ActionContext, model: type[RoutingRule] | type[SlaPolicy], row_id: str
) -> None:
    if model is RoutingRule:
        what, field, subject = "routing rule", "rule_id", "routing_rule"
    else:
        what, field, subject = "SLA policy", "policy_id", "sla_policy"
    row = fetch(ctx, model, row_id, what, field)
    ctx.session.delete(row)
    ctx.audit(f"{subject}.deleted", subject, row.id, name=row.name)
