"""HTTP API of conversations and messages (docs/api.md, "Conversations")."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response, StreamingResponse

from amity.accounts.roles import Perm
from amity.conversations import actions, queries
from amity.conversations import changes as conversation_changes
from amity.conversations.files import SAFE_INLINE, StoredFile, read, store
from amity.conversations.models import Attachment
from amity.conversations.schemas import (
    ConversationIn,
    ConversationPatch,
    MergeConversationsIn,
    MessageIn,
    MoveIn,
)
from amity.core.actions import Actor, App, Invalid, NotFound, perform
from amity.web.auth import get_app, require
from amity.web.responses import Json
from amity.web.stream import install as broadcaster
from amity.web.stream import sse

router = APIRouter(prefix="/api/v1", tags=["conversations"])
AppDep = Annotated[App, Depends(get_app)]
Reader = Annotated[Actor, Depends(require(Perm.CONVERSATIONS_READ))]
Writer = Annotated[Actor, Depends(require(Perm.CONVERSATIONS_WRITE))]
Merger = Annotated[Actor, Depends(require(Perm.CONVERSATIONS_MERGE))]


def _files(app: App, body: MessageIn) -> list[StoredFile]:
    out = []
    for i, a in enumerate(body.attachments):
        try:
            data = base64.b64decode(a.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise Invalid("not valid base64", field=f"attachments[{i}].content_base64") from None
        if len(data) > app.settings.max_attachment_bytes:
            raise Invalid(
                f"{len(data)} bytes; at most {app.settings.max_attachment_bytes}", field=f"attachments[{i}]"
            )
        out.append(store(app.settings.home, a.filename, data, a.content_type))
    return out


@router.get("/conversations", summary="Conversations, filtered and cursor-paged")
def list_conversations(
    app: AppDep,
    actor: Reader,
    status: Annotated[
        str | None, Query(max_length=100, description="comma-separated, e.g. open,pending")
    ] = None,
    assignee_id: Annotated[str | None, Query(max_length=32, description="a user id, or 'me'")] = None,
    unassigned: bool = False,
    team_id: Annotated[str | None, Query(max_length=32)] = None,
    channel_type: Annotated[str | None, Query(max_length=20)] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    brand_id: Annotated[str | None, Query(max_length=32)] = None,
    customer_id: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str | None, Query(max_length=200, description="text in the subject or any message")] = None,
    sort: Annotated[
        str, Query(description="last_message (newest first), due (soonest first), created")
    ] = "last_message",
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Json:
    statuses = [s.strip() for s in status.split(",") if s.strip()] if status else None
    if assignee_id == "me":
        assignee_id = actor.id
    with app.db.read() as s:
        return Json(
            queries.list_conversations(
                s,
                status=statuses,
                assignee_id=assignee_id,
                unassigned=unassigned,
                team_id=team_id,
                channel_type=channel_type,
                tag=tag,
                brand_id=brand_id,
                customer_id=customer_id,
                q=q,
                sort=sort,
                limit=limit,
                cursor=cursor,
            )
        )


@router.post(
    "/conversations", status_code=201, summary="Open a conversation (optionally with a first message)"
)
def post_conversation(body: ConversationIn, app: AppDep, actor: Writer) -> Json:
    files = _files(app, body.message) if body.message else []

    first = body.message.model_dump(exclude={"attachments"}) if body.message else None
    conv_id = perform(
        app,
        actor,
        actions.start_conversation,
        body.customer_id,
        body.subject,
        first,
        files,
        channel_id=body.channel_id,
        priority=body.priority,
        tags=body.tags,
        custom_fields=body.custom_fields,
        assignee_id=body.assignee_id,
        team_id=body.team_id,
        brand_id=body.brand_id,
    )
    with app.db.read() as s:
        return Json(queries.get_conversation(s, conv_id), status_code=201)


@router.get("/conversations/{conversation_id}", summary="One conversation: every message on every channel")
def get_conversation(conversation_id: str, app: AppDep, _: Reader) -> Json:
    with app.db.read() as s:
        return Json(queries.get_conversation(s, conversation_id))


@router.patch("/conversations/{conversation_id}", summary="Status, priority, assignee, team, tags, fields")
def patch_conversation(conversation_id: str, body: ConversationPatch, app: AppDep, actor: Writer) -> Json:
    changes = body.model_dump(exclude_unset=True)
    perform(app, actor, conversation_changes.update_conversation, conversation_id, **changes)
    with app.db.read() as s:
        return Json(queries.get_conversation(s, conversation_id))


@router.post(
    "/conversations/{conversation_id}/messages", status_code=201, summary="Reply on a channel, or add a note"
)
def post_message(conversation_id: str, body: MessageIn, app: AppDep, actor: Writer) -> Json:
    files = _files(app, body)
    msg = perform(
        app,
        actor,
        actions.add_message,
        conversation_id,
        text=body.text,
        html=body.html,
        note=body.note,
        channel_id=body.channel_id,
        files=files,
        status=body.status,
    )
    with app.db.read() as s:
        found = [m for m in queries.messages(s, [msg.conversation_id]) if m["id"] == msg.id]
    return Json(found[0], status_code=201)


@router.post("/conversations/{conversation_id}/merge", summary="Fold another conversation into this one")
def post_merge(conversation_id: str, body: MergeConversationsIn, app: AppDep, actor: Merger) -> Json:
    perform(app, actor, conversation_changes.merge_conversations, conversation_id, body.other_id)
    with app.db.read() as s:
        return Json(queries.get_conversation(s, conversation_id))


@router.post(
    "/messages/{message_id}/move", summary="Move a message to another conversation of the same customer"
)
def post_move(message_id: str, body: MoveIn, app: AppDep, actor: Merger) -> Json:
    perform(app, actor, conversation_changes.move_message, message_id, body.conversation_id)
    with app.db.read() as s:
        return Json(queries.get_conversation(s, body.conversation_id))


@router.get("/attachments/{attachment_id}", summary="Download an attachment", response_class=Response)
def get_attachment(attachment_id: str, app: AppDep, _: Reader) -> Response:
    with app.db.read() as s:
        a = s.get(Attachment, attachment_id)
    if a is None:
        raise NotFound(f"no attachment {attachment_id}", field="attachment_id")
    disposition = "inline" if a.content_type in SAFE_INLINE else "attachment"
    safe_name = a.filename.replace('"', "").encode("ascii", "replace").decode()
    return Response(
        read(app.settings.home, a.storage_path),
        media_type=a.content_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{safe_name}"',
            "X-Content-Type-Options": "nosniff",  # never let a browser reinterpret a customer's file
            "Content-Security-Policy": "sandbox",
        },
    )


@router.get(
    "/stream",
    summary="Live updates (server-sent events): conversations, messages, calls",
    response_class=StreamingResponse,
)
async def stream(
    app: AppDep,
    actor: Reader,
    max_seconds: Annotated[
        float,
        Query(
            ge=0,
            le=3600,
            description="close after this long (the browser reconnects); 0: just the ready event",
        ),
    ] = 300,
) -> StreamingResponse:
    b = broadcaster(app)
    sub = b.subscribe(actor)
    return StreamingResponse(
        sse(b, sub, max_seconds),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
