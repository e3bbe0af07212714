"""HTTP API for configuring channels (admins), and the webhook routes the adapters declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from amity.accounts.roles import Perm
from amity.channels import actions, queries, registry
from amity.conversations.schemas import ChannelIn, ChannelPatch
from amity.core.actions import Actor, App, perform
from amity.web.auth import get_app, require
from amity.web.responses import Json

router = APIRouter(prefix="/api/v1", tags=["channels"])
AppDep = Annotated[App, Depends(get_app)]


@router.get("/channels", summary="Configured channels (secrets masked)")
def list_channels(
    app: AppDep,
    _: Annotated[Actor, Depends(require(Perm.CONVERSATIONS_READ))],
    type: Annotated[str | None, Query(max_length=20)] = None,
) -> Json:
    with app.db.read() as s:
        return Json({"items": queries.list_channels(s, app.settings.base_url, type)})


@router.post(
    "/channels", status_code=201, summary="Add a channel; webhook channels answer with their webhook_url"
)
def post_channel(
    body: ChannelIn, app: AppDep, actor: Annotated[Actor, Depends(require(Perm.CHANNELS_MANAGE))]
) -> Json:
    c = perform(app, actor, actions.create_channel, body.type, body.name, body.config, body.brand_id)
    return Json(queries.channel_out(c, app.settings.base_url), status_code=201)


@router.get("/channels/{channel_id}", summary="One channel")
def get_channel(
    channel_id: str, app: AppDep, _: Annotated[Actor, Depends(require(Perm.CONVERSATIONS_READ))]
) -> Json:
    with app.db.read() as s:
        return Json(queries.channel_out(queries.get_channel(s, channel_id), app.settings.base_url))


@router.patch("/channels/{channel_id}", summary="Rename, reconfigure, enable or disable a channel")
def patch_channel(
    channel_id: str,
    body: ChannelPatch,
    app: AppDep,
    actor: Annotated[Actor, Depends(require(Perm.CHANNELS_MANAGE))],
) -> Json:
    c = perform(app, actor, actions.update_channel, channel_id, **body.model_dump(exclude_unset=True))
    return Json(queries.channel_out(c, app.settings.base_url))


def webhook_routers() -> list[APIRouter]:
    """Each adapter module that receives posts from a provider declares a ``router`` under /hooks."""
    out = []
    for module in dict.fromkeys(registry.MODULES.values()):
        hooks = getattr(registry.adapter_module(module), "router", None)
        if isinstance(hooks, APIRouter):
            out.append(hooks)
    return out
