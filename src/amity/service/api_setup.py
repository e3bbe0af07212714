"""HTTP API of brands, calendars, macros, routing rules and SLA policies (docs/service-levels.md, "API")."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from amity.core.actions import ActionContext
from amity.service import setup
from amity.service.api_common import (
    AppDep,
    Limit,
    Manager,
    Offset,
    Reader,
    Writer,
    created,
    deleted,
    listed,
    shown,
    updated,
)
from amity.service.macros import render_macro
from amity.service.models import Brand, Calendar, Macro, RoutingRule, SlaPolicy
from amity.service.schemas import (
    BrandIn,
    BrandPatch,
    CalendarIn,
    CalendarPatch,
    MacroIn,
    MacroPatch,
    RenderIn,
    RoutingRuleIn,
    RoutingRulePatch,
    SlaPolicyIn,
    SlaPolicyPatch,
)
from amity.web.responses import Json

router = APIRouter(prefix="/api/v1", tags=["service: setup"])


# ---- brands --------------------------------------------------------------------------------------
@router.get("/brands", summary="Brands")
def list_brands(app: AppDep, _: Reader, limit: Limit = 50, offset: Offset = 0) -> Json:
    return listed(app, Brand, limit, offset)


@router.post("/brands", status_code=201, summary="Add a brand: name, from address, signature, colours")
def post_brand(body: BrandIn, app: AppDep, actor: Manager) -> Json:
    return created(app, actor, setup.create_brand, body, Brand)


@router.get("/brands/{brand_id}", summary="One brand")
def get_brand(brand_id: str, app: AppDep, _: Reader) -> Json:
    return shown(app, Brand, brand_id)


@router.patch("/brands/{brand_id}", summary="Change a brand")
def patch_brand(brand_id: str, body: BrandPatch, app: AppDep, actor: Manager) -> Json:
    return updated(app, actor, setup.update_brand, brand_id, body, Brand)


@router.delete("/brands/{brand_id}", status_code=204, summary="Remove a brand nothing live uses")
def delete_brand(brand_id: str, app: AppDep, actor: Manager) -> Response:
    return deleted(app, actor, setup.delete_brand, brand_id)


# ---- calendars -----------------------------------------------------------------------------------
@router.get("/calendars", summary="Business-hours calendars")
def list_calendars(app: AppDep, _: Reader, limit: Limit = 50, offset: Offset = 0) -> Json:
    return listed(app, Calendar, limit, offset)


@router.post("/calendars", status_code=201, summary="Add a calendar: time zone, weekly hours, holidays")
def post_calendar(body: CalendarIn, app: AppDep, actor: Manager) -> Json:
    return created(app, actor, setup.create_calendar, body, Calendar)


@router.get("/calendars/{calendar_id}", summary="One calendar")
def get_calendar(calendar_id: str, app: AppDep, _: Reader) -> Json:
    return shown(app, Calendar, calendar_id)


@router.patch("/calendars/{calendar_id}", summary="Change hours, holidays or time zone")
def patch_calendar(calendar_id: str, body: CalendarPatch, app: AppDep, actor: Manager) -> Json:
    return updated(app, actor, setup.update_calendar, calendar_id, body, Calendar)


@router.delete(
    "/calendars/{calendar_id}", status_code=204, summary="Remove a calendar no policy or rule uses"
)
def delete_calendar(calendar_id: str, app: AppDep, actor: Manager) -> Response:
    return deleted(app, actor, setup.delete_calendar, calendar_id)


# ---- macros --------------------------------------------------------------------------------------
@router.get("/macros", summary="Saved replies")
def list_macros(app: AppDep, _: Reader, limit: Limit = 50, offset: Offset = 0) -> Json:
    return listed(app, Macro, limit, offset)


@router.post("/macros", status_code=201, summary="Add a saved reply (a sandboxed Jinja template)")
def post_macro(body: MacroIn, app: AppDep, actor: Manager) -> Json:
    return created(app, actor, setup.create_macro, body, Macro)


@router.get("/macros/{macro_id}", summary="One saved reply")
def get_macro(macro_id: str, app: AppDep, _: Reader) -> Json:
    return shown(app, Macro, macro_id)


@router.patch("/macros/{macro_id}", summary="Change a saved reply")
def patch_macro(macro_id: str, body: MacroPatch, app: AppDep, actor: Manager) -> Json:
    return updated(app, actor, setup.update_macro, macro_id, body, Macro)


@router.delete("/macros/{macro_id}", status_code=204, summary="Remove a saved reply no rule uses")
def delete_macro(macro_id: str, app: AppDep, actor: Manager) -> Response:
    return deleted(app, actor, setup.delete_macro, macro_id)


@router.post("/macros/{macro_id}/render", summary="Preview a saved reply for one conversation")
def post_render(macro_id: str, body: RenderIn, app: AppDep, actor: Writer) -> Json:
    with app.db.read() as s:
        return Json({"macro_id": macro_id, "conversation_id": body.conversation_id,
                     "text": render_macro(s, macro_id, body.conversation_id, actor)})  # fmt: skip


# ---- routing rules -------------------------------------------------------------------------------
@router.get("/routing-rules", summary="Routing rules in evaluation order")
def list_rules(app: AppDep, _: Reader, limit: Limit = 100, offset: Offset = 0) -> Json:
    return listed(app, RoutingRule, limit, offset)


@router.post("/routing-rules", status_code=201, summary="Add a routing rule")
def post_rule(body: RoutingRuleIn, app: AppDep, actor: Manager) -> Json:
    return created(app, actor, setup.create_rule, body, RoutingRule)


@router.get("/routing-rules/{rule_id}", summary="One routing rule")
def get_rule(rule_id: str, app: AppDep, _: Reader) -> Json:
    return shown(app, RoutingRule, rule_id)


@router.patch("/routing-rules/{rule_id}", summary="Change, reorder, enable or disable a routing rule")
def patch_rule(rule_id: str, body: RoutingRulePatch, app: AppDep, actor: Manager) -> Json:
    return updated(app, actor, setup.update_rule, rule_id, body, RoutingRule)


def _delete_rule(ctx: ActionContext, rule_id: str) -> None:
    setup.delete_rule_or_policy(ctx, RoutingRule, rule_id)


def _delete_policy(ctx: ActionContext, policy_id: str) -> None:
    setup.delete_rule_or_policy(ctx, SlaPolicy, policy_id)


@router.delete("/routing-rules/{rule_id}", status_code=204, summary="Remove a routing rule")
def delete_rule(rule_id: str, app: AppDep, actor: Manager) -> Response:
    return deleted(app, actor, _delete_rule, rule_id)


# ---- SLA policies --------------------------------------------------------------------------------
@router.get("/sla-policies", summary="SLA policies in evaluation order")
def list_policies(app: AppDep, _: Reader, limit: Limit = 100, offset: Offset = 0) -> Json:
    return listed(app, SlaPolicy, limit, offset)


@router.post("/sla-policies", status_code=201, summary="Add an SLA policy")
def post_policy(body: SlaPolicyIn, app: AppDep, actor: Manager) -> Json:
    return created(app, actor, setup.create_policy, body, SlaPolicy)


@router.get("/sla-policies/{policy_id}", summary="One SLA policy")
def get_policy(policy_id: str, app: AppDep, _: Reader) -> Json:
    return shown(app, SlaPolicy, policy_id)


@router.patch("/sla-policies/{policy_id}", summary="Change an SLA policy (applies from the next change)")
def patch_policy(policy_id: str, body: SlaPolicyPatch, app: AppDep, actor: Manager) -> Json:
    return updated(app, actor, setup.update_policy, policy_id, body, SlaPolicy)


@router.delete("/sla-policies/{policy_id}", status_code=204, summary="Remove an SLA policy")
def delete_policy(policy_id: str, app: AppDep, actor: Manager) -> Response:
    return deleted(app, actor, _delete_policy, policy_id)
