"""The chat channel's HTTP doors for the widget: open a visitor session, read the transcript.

Both are public (the visitor token is the credential) and answer cross-origin requests from the
channel's ``allowed_origins`` (CORS, no cookies). Errors carry the CORS headers too, so the widget can
read what was wrong; that is why these routes parse their own input instead of leaving it to FastAPI,
whose validation errors would go out through the app-wide handler without them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from amity.channels.chat import store, tokens, visitors
from amity.channels.chat.config import origin_allowed
from amity.channels.models import Channel
from amity.core.actions import ActionError, App
from amity.core.inputs import Input
from amity.web.errors import error_body
from amity.web.responses import Json

router = APIRouter(tags=["chat"])
PUBLIC: dict[str, Any] = {"security": []}  # the visitor token authenticates, not the API's bearer scheme
REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"description": "The visitor token (or the identity token) is invalid, forged or expired"},
    403: {"description": "A browser on a site that is not in the channel's allowed_origins"},
    404: {"description": "No chat channel has this id"},
    409: {"description": "The channel is disabled"},
}


class SessionIn(Input):
    visitor_token: str | None = Field(
        default=None, max_length=1000, description="The token this browser kept; omit on a first visit"
    )
    identity_token: str | None = Field(
        default=None, max_length=4000, description="Signed by the website with the channel's identity_secret"
    )


class SessionOut(BaseModel):
    visitor_id: str
    visitor_token: str = Field(description="Keep it (localStorage); it opens the WebSocket")
    expires_in: int = Field(description="Seconds the token is valid; every session call renews it")
    verified: bool = Field(description="The website vouched for who the visitor is")
    resumed: bool = Field(description="The visitor token sent in was continued (same visitor_id)")
    greeting: str | None = None
    brand_id: str | None = None


class ChatMessageOut(BaseModel):
    id: str
    conversation_id: str
    direction: str = Field(description="in: from the visitor; out: to the visitor")
    author_type: str = Field(description="customer, agent or system")
    text: str
    html: str | None
    created_at: str
    client_id: str | None = Field(default=None, description="The widget's id of a message it sent")


class HistoryOut(BaseModel):
    visitor_id: str
    conversation_id: str | None
    messages: list[ChatMessageOut]
    truncated: bool = Field(description="Older messages exist beyond the most recent ones shown")


def _cors(origin: str | None) -> dict[str, str]:
    # Echo the origin (never "*"): the answer is for this site only, and caches keep sites apart.
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if origin else {"Vary": "Origin"}


def _error(status: int, code: str, message: str, field: str, headers: dict[str, str]) -> Json:
    return Json(
        error_body(code, message, [{"field": field, "message": message}]), status_code=status, headers=headers
    )


async def _door(request: Request, channel_id: str) -> tuple[App, Channel] | Json:
    """The channel, or the refusal: unknown channel, a browser on a site not allowed, disabled."""
    app: App = request.app.state.amity
    origin = request.headers.get("origin")
    channel = await run_in_threadpool(store.chat_channel, app, channel_id)
    if channel is None:
        return _error(404, "not_found", f"no chat channel {channel_id}", "channel_id", _cors(origin))
    if not origin_allowed(channel.config, origin):
        message = f"the origin '{origin}' may not use this chat channel (not in its allowed_origins)"
        return _error(403, "forbidden", message, "origin", {"Vary": "Origin"})
    if not channel.enabled:
        return _error(409, "conflict", f"channel '{channel.name}' is disabled", "channel_id", _cors(origin))
    return app, channel


@router.post(
    "/hooks/{channel_id}/chat/session",
    summary="Chat: open or renew a visitor session (public; CORS for the channel's allowed origins)",
    response_model=SessionOut,
    responses=REFUSALS,
    openapi_extra={
        **PUBLIC,
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": SessionIn.model_json_schema()}},
        },
    },
)
async def post_session(channel_id: str, request: Request) -> Response:
    door = await _door(request, channel_id)
    if isinstance(door, Json):
        return door
    app, channel = door
    cors = _cors(request.headers.get("origin"))
    raw = await request.body()
    try:
        body = SessionIn.model_validate_json(raw) if raw.strip() else SessionIn()
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
            for e in exc.errors(include_url=False)
        ]
        return Json(error_body("validation_error", "the request is not valid", errors), 422, headers=cors)
    try:
        out = await run_in_threadpool(
            visitors.open_session, app, channel, body.visitor_token, body.identity_token
        )
    except ActionError as exc:
        return _error(exc.status, exc.code, exc.message, exc.field or "body", cors)
    return Json(out, headers=cors)


@router.get(
    "/hooks/{channel_id}/chat/messages",
    summary="Chat: the visitor's transcript, for a widget that cannot keep a WebSocket open (public; CORS)",
    response_model=HistoryOut,
    responses=REFUSALS,
    openapi_extra=PUBLIC,
)
async def get_messages(
    channel_id: str,
    request: Request,
    token: Annotated[str | None, Query(description="The visitor token from the session")] = None,
) -> Response:
    door = await _door(request, channel_id)
    if isinstance(door, Json):
        return door
    app, channel = door
    cors = _cors(request.headers.get("origin"))
    visitor = tokens.read_visitor(app, token, channel.id)
    if visitor is None:
        message = "the visitor token is missing, invalid, expired or for another channel"
        return _error(401, "unauthorized", message, "token", cors)
    ready, history = await run_in_threadpool(store.snapshot, app, channel, visitor)
    out: dict[str, Any] = {
        "visitor_id": visitor.visitor_id,
        "conversation_id": ready["conversation_id"],
        "messages": history["messages"],
        "truncated": history["truncated"],
    }
    return Json(out, headers=cors)


async def preflight(channel_id: str, request: Request) -> Response:
    door = await _door(request, channel_id)
    if isinstance(door, Json):
        return door
    headers = {
        **_cors(request.headers.get("origin")),
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "600",
    }
    return Response(status_code=204, headers=headers)


# CORS preflights are part of the browser's protocol, not API operations: kept out of the OpenAPI document.
for _path in ("/hooks/{channel_id}/chat/session", "/hooks/{channel_id}/chat/messages"):
    router.add_api_route(_path, preflight, methods=["OPTIONS"], include_in_schema=False)
