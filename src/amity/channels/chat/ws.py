"""The chat WebSocket: ``/hooks/{channel_id}/chat/ws?token=<visitor_token>`` (docs/channels/chat.md).

A refused socket (unknown or disabled channel, a browser on a site not allowed, a bad token) is
accepted and closed at once with 1008 and a reason: closing before the handshake would reach the
browser as a bare 1006, which a widget cannot tell from a network failure. Nothing is stored first.

An accepted socket is registered with the hub *before* its history is read, so a reply sent between
the two reaches it live (and possibly in the history too: the widget keeps one copy per message id).
Frames from the visitor are handled one at a time, in order; everything sent to the visitor goes
through the connection's queue, so frames from the hub and answers to the visitor never interleave.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any, Literal

import anyio
import orjson
from fastapi import APIRouter, WebSocket
from pydantic import Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect

from amity.channels.chat import store, tokens, visitors
from amity.channels.chat.config import origin_allowed
from amity.channels.chat.hub import Connection, hub_of
from amity.channels.models import Channel
from amity.core.actions import ActionError, App
from amity.core.inputs import Input

log = logging.getLogger(__name__)
router = APIRouter()

POLICY_VIOLATION = 1008
SERVER_ERROR = 1011
MAX_FRAME_CHARS = 32 * 1024
TYPING_EVERY_SECONDS = 2.0


class MessageFrame(Input):
    type: Literal["message"]
    text: str = Field(min_length=1, max_length=10_000)
    client_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._:-]{1,100}$")


class IdentifyFrame(Input):
    type: Literal["identify"]
    email: str = Field(min_length=1, max_length=320)
    name: str | None = Field(default=None, max_length=200)


class TypingFrame(Input):
    type: Literal["typing"]


class HistoryFrame(Input):
    type: Literal["history"]


FRAMES: dict[str, type[Input]] = {
    "message": MessageFrame,
    "identify": IdentifyFrame,
    "typing": TypingFrame,
    "history": HistoryFrame,
}


def error_frame(field: str | None, message: str, client_id: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "field": field, "message": message}
    if client_id:
        frame["client_id"] = client_id
    return frame


@router.websocket("/hooks/{channel_id}/chat/ws")
async def chat_socket(websocket: WebSocket, channel_id: str) -> None:
    app: App = websocket.app.state.amity
    channel = await run_in_threadpool(store.chat_channel, app, channel_id)
    visitor = tokens.read_visitor(app, websocket.query_params.get("token"), channel_id)
    await websocket.accept()
    if channel is None:
        reason = "unknown channel"
    elif not channel.enabled:
        reason = "channel disabled"
    elif not origin_allowed(channel.config, websocket.headers.get("origin")):
        reason = "origin not allowed"
    elif visitor is None:
        reason = "invalid visitor token"
    else:
        await ChatSession(app, channel, visitor, websocket).run()
        return
    await websocket.close(code=POLICY_VIOLATION, reason=reason)


class ChatSession:
    def __init__(self, app: App, channel: Channel, visitor: tokens.Visitor, websocket: WebSocket) -> None:
        self.app, self.channel, self.visitor, self.ws = app, channel, visitor, websocket
        self.hub = hub_of(app)
        self.conn: Connection | None = None
        self.last_typing = 0.0

    def send(self, frame: dict[str, Any]) -> None:
        if self.conn is not None:
            self.conn.offer(orjson.dumps(frame))

    async def run(self) -> None:
        self.conn = conn = await self.hub.connect(self.visitor.visitor_id)
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self._write, conn)
                try:
                    ready, history = await run_in_threadpool(
                        store.snapshot, self.app, self.channel, self.visitor
                    )
                    self.send(ready)
                    self.send(history)
                    while True:
                        msg = await self.ws.receive()
                        if msg["type"] == "websocket.disconnect":
                            break
                        await self.handle(msg.get("text"))
                except WebSocketDisconnect:
                    pass
                except Exception:  # the database is down, say: tell the widget to come back later
                    log.exception("chat socket of %s failed", self.visitor.visitor_id)
                    with contextlib.suppress(Exception):
                        await self.ws.close(code=SERVER_ERROR, reason="server error; reconnect later")
                finally:
                    tasks.cancel_scope.cancel()  # the writer has nobody left to write to
        finally:
            await self.hub.disconnect(conn)

    async def _write(self, conn: Connection) -> None:
        while True:
            payload = await conn.queue.get()
            try:
                await self.ws.send_text(payload.decode())
            except (WebSocketDisconnect, RuntimeError, OSError):
                return  # the visitor left; the reader sees the disconnect and cleans up

    async def handle(self, text: str | None) -> None:
        if text is None:
            self.send(error_frame("frame", "frames are JSON text, not binary"))
            return
        if len(text) > MAX_FRAME_CHARS:
            self.send(error_frame("frame", f"a frame is at most {MAX_FRAME_CHARS} characters"))
            return
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            self.send(error_frame("frame", "not valid JSON"))
            return
        kind = data.get("type") if isinstance(data, dict) else None
        model = FRAMES.get(kind) if isinstance(kind, str) else None
        if model is None:
            self.send(
                error_frame("type", f"a frame is a JSON object whose type is one of {', '.join(FRAMES)}")
            )
            return
        client_id = data.get("client_id") if isinstance(data.get("client_id"), str) else None
        try:
            frame = model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            field = ".".join(str(p) for p in first["loc"]) or "frame"
            self.send(error_frame(field, first["msg"], client_id))
            return
        try:
            await self.dispatch(frame)
        except ActionError as exc:
            self.send(error_frame(exc.field or "frame", exc.message, client_id))
        except Exception:  # a bug must cost one frame, not the visitor's connection
            log.exception("chat frame from %s failed", self.visitor.visitor_id)
            self.send(
                error_frame(None, "something went wrong on our side; it is logged, send it again", client_id)
            )

    async def dispatch(self, frame: Input) -> None:
        app, channel, visitor = self.app, self.channel, self.visitor
        if isinstance(frame, MessageFrame):
            if not frame.text.strip():
                raise ActionError(422, "invalid", "a message needs some text", "text")
            out, duplicate = await run_in_threadpool(
                store.post_message, app, channel, visitor, frame.text, frame.client_id
            )
            payload = orjson.dumps(out)
            if duplicate:
                self.send(out)  # a resend: only the socket that resent needs the answer again
            else:
                # Every tab of this visitor shows it, this one included (its answer, with client_id).
                if not await run_in_threadpool(self.hub.push, visitor.visitor_id, payload):
                    self.send(out)  # the relay reached no socket, not even this one: answer directly
        elif isinstance(frame, IdentifyFrame):
            email = await run_in_threadpool(visitors.identify, app, channel, visitor, frame.email, frame.name)
            self.send({"type": "identified", "email": email})
        elif isinstance(frame, HistoryFrame):
            self.send(await run_in_threadpool(store.history, app, channel, visitor))
        elif isinstance(frame, TypingFrame):
            now = time.monotonic()
            if now - self.last_typing >= TYPING_EVERY_SECONDS and await run_in_threadpool(
                store.typing, app, channel, visitor
            ):
                self.last_typing = now
