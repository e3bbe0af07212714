"""What the service API modules share: who may call, paging parameters, and create/update/delete glue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from amity.accounts.roles import Perm, allowed
from amity.core.actions import ActionContext, Actor, App, perform
from amity.service import queries
from amity.service.models import AgentProfile, Tier
from amity.service.sla import now_of
from amity.web.auth import current_actor, get_app, may, require
from amity.web.errors import ApiError
from amity.web.responses import Json

AppDep = Annotated[App, Depends(get_app)]
Reader = Annotated[Actor, Depends(require(Perm.CONVERSATIONS_READ))]
Writer = Annotated[Actor, Depends(require(Perm.CONVERSATIONS_WRITE))]
Manager = Annotated[Actor, Depends(require(Perm.SERVICE_MANAGE))]
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


def approver(request: Request, actor: Annotated[Actor, Depends(current_actor)], app: AppDep) -> Actor:
    """Supervisors and admins decide approvals; so does a person whose tier may approve. A scoped
    token decides only if its scopes name approvals:decide."""
    if allowed(actor.role, Perm.APPROVALS_DECIDE):
        if not may(request, actor, Perm.APPROVALS_DECIDE):
            raise ApiError(
                403, "forbidden", f"this token's scopes do not include {Perm.APPROVALS_DECIDE.value}"
            )
        return actor
    if actor.kind == "user":
        with app.db.read() as s:
            profile = s.get(AgentProfile, actor.id)
            tier = s.get(Tier, profile.tier_id) if profile and profile.tier_id else None
        if tier is not None and tier.may_approve:
            return actor
    raise ApiError(403, "forbidden", f"role '{actor.role}' may not {Perm.APPROVALS_DECIDE.value}")


Approver = Annotated[Actor, Depends(approver)]


def created(app: App, actor: Actor, fn: Callable[..., Any], body: BaseModel, model: type[Any]) -> Json:
    row = perform(app, actor, fn, body.model_dump(), now_of(app))
    key = getattr(row, "id", None) or row.user_id
    with app.db.read() as s:
        return Json(queries.one(s, model, key), status_code=201)


def updated(
    app: App, actor: Actor, fn: Callable[..., Any], key: str, body: BaseModel, model: type[Any]
) -> Json:
    perform(app, actor, fn, key, body.model_dump(exclude_unset=True), now_of(app))
    with app.db.read() as s:
        return Json(queries.one(s, model, key))


def deleted(app: App, actor: Actor, fn: Callable[[ActionContext, str], None], key: str) -> Response:
    perform(app, actor, fn, key)
    return Response(status_code=204)


def listed(app: App, model: type[Any], limit: int, offset: int) -> Json:
    with app.db.read() as s:
        return Json(queries.list_of(s, model, limit, offset))


def shown(app: App, model: type[Any], key: str) -> Json:
    with app.db.read() as s:
        return Json(queries.one(s, model, key))
