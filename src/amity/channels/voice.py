"""The voice channel: a telephony system (PBX, CPaaS) posts signed call events; Amity pops the caller
on every agent's console and files the finished call in the caller's conversation (docs/channels/voice.md).

Where the state of a call lives: each call event is a fact on the caller's timeline (``call.ringing``,
``call.answered``, ``call.ended``) whose id is derived from (channel, call id, event). The timeline is
idempotent by event id, so a repeated webhook is stored once without a table of our own, and the
three facts together are the call's state. The finished call is a message whose provider id is
``call:<call id>``, unique per channel, so it exists once however often or in whatever order the
events arrive.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from amity.accounts.roles import Perm
from amity.channels import signing
from amity.channels.base import Address, Inbound
from amity.channels.inbound import channel_actor
from amity.channels.models import Channel
from amity.channels.registry import ChannelKind
from amity.channels.voice_calls import (
    CALL_ID_PATTERN,
    CallEventIn,
    VoiceConfig,
    call_facts,
    call_message,
    call_state,
    duration_text,
    external_id,
    find_screen_pop,
    record,
    screen_pop,
)
from amity.conversations import receiving
from amity.core.actions import ActionContext, Actor, App, perform
from amity.db import utcnow
from amity.web.auth import get_app, require
from amity.web.responses import Json

KINDS = [
    ChannelKind(
        type="voice",
        reaches=("phone",),
        config_model=VoiceConfig,
        transport=None,  # a call cannot be "sent"; agents answer a caller on another channel
        webhook="voice",
        secret_fields=("secret",),
    )
]


# ---- actions --------------------------------------------------------------------------------------
def announce_ringing(
    ctx: ActionContext, channel_id: str, call_id: str, window: dt.timedelta
) -> dict[str, Any]:
    """The screen pop goes to every console (``call.ringing``) unless the call is already over
    (its ``ended`` event overtook this one): a pop for a finished call would send an agent hunting."""
    s = ctx.session
    facts = call_facts(s, [channel_id], call_id)[channel_id]
    payload = screen_pop(s, channel_id, call_id, facts, utcnow(), window)
    stale = payload["call"]["status"] == "ended"
    ctx.audit(
        "call.ringing",
        "call",
        call_id,
        channel_id=channel_id,
        customer_id=payload["customer_id"],
        conversation_id=payload["conversation_id"],
        announced=not stale,
    )
    if not stale:
        ctx.publish("call.ringing", **payload)
    return payload


def record_answered(ctx: ActionContext, channel_id: str, call_id: str, customer_id: str) -> dict[str, Any]:
    s = ctx.session
    facts = call_facts(s, [channel_id], call_id)[channel_id]
    call = call_state(s, channel_id, call_id, facts)
    ctx.audit("call.answered", "call", call_id, channel_id=channel_id, agent_id=call["agent_id"])
    msg = call_message(s, channel_id, call_id)
    if msg is not None and call["agent_id"] and not msg.meta.get("agent_id"):
        # ``answered`` arrived after ``ended``: the filed call learns who took it.
        msg.meta = {**msg.meta, "agent_id": call["agent_id"]}
        ctx.publish("message.updated", conversation_id=msg.conversation_id, message_id=msg.id)
    ctx.publish(
        "call.answered",
        call_id=call_id,
        channel_id=channel_id,
        customer_id=customer_id,
        agent_id=call["agent_id"],
    )
    return call


def file_call(
    ctx: ActionContext,
    channel: Channel,
    customer_id: str,
    call_id: str,
    caller: str,
    transcript: str | None,
    window: dt.timedelta,
) -> tuple[receiving.Received, dict[str, Any]]:
    """The finished call becomes one inbound message in the caller's conversation."""
    s = ctx.session
    facts = call_facts(s, [channel.id], call_id)[channel.id]
    call = call_state(s, channel.id, call_id, facts)
    ended = facts["ended"]
    meta = {
        "call_id": call_id,
        "duration_seconds": call["duration_seconds"],
        "recording_url": call["recording_url"],
        "agent_id": call["agent_id"],
        "to": call["to"],
        "has_transcript": bool(transcript),
    }
    inbound = Inbound(
        sender=Address("phone", call["from"] or caller),  # the normalised number, as stored
        text=transcript or duration_text(call["duration_seconds"]),
        external_id=external_id(call_id),
        received_at=ended.timestamp,
        meta=meta,
        event_type="call.ended",
    )
    got = receiving.receive_message(ctx, channel, customer_id, inbound, [], window, [])
    if not got.duplicate:
        call["message_id"] = got.message_id
        ctx.publish(
            "call.ended",
            call_id=call_id,
            channel_id=channel.id,
            customer_id=got.customer_id,
            conversation_id=got.conversation_id,
            message_id=got.message_id,
            duration_seconds=call["duration_seconds"],
            agent_id=call["agent_id"],
            recording_url=call["recording_url"],
        )
    return got, call


# ---- handling one webhook -------------------------------------------------------------------------
def handle(app: App, channel: Channel, ev: CallEventIn) -> tuple[dict[str, Any], bool]:
    """What the webhook answers, and whether this event was new."""
    window = dt.timedelta(hours=app.settings.conversation_window_hours)
    customer_id, fresh = record(app, channel, ev)
    actor = channel_actor(channel)
    if ev.event == "ringing":
        if fresh:
            payload = perform(app, actor, announce_ringing, channel.id, ev.call_id, window)
        else:  # a repeat: answer the same pop, but do not pop every console again
            with app.db.read() as s:
                facts = call_facts(s, [channel.id], ev.call_id)[channel.id]
                payload = screen_pop(s, channel.id, ev.call_id, facts, utcnow(), window)
        return payload, fresh
    if ev.event == "answered":
        if fresh:
            call = perform(app, actor, record_answered, channel.id, ev.call_id, customer_id)
        else:
            with app.db.read() as s:
                facts = call_facts(s, [channel.id], ev.call_id)[channel.id]
                call = call_state(s, channel.id, ev.call_id, facts)
        return {"call_id": ev.call_id, "customer_id": customer_id, "call": call}, fresh
    # ``ended`` is filed even when its timeline fact is a repeat: a crash between storing the fact and
    # filing the message must not lose the call; the message's unique provider id keeps it single.
    got, call = perform(
        app, actor, file_call, channel, customer_id, ev.call_id, ev.from_, ev.transcript, window
    )
    body = {
        "call_id": ev.call_id,
        "customer_id": got.customer_id,
        "conversation_id": got.conversation_id,
        "message_id": got.message_id,
        "call": {**call, "message_id": got.message_id},
    }
    return body, fresh and not got.duplicate


# ---- HTTP ---------------------------------------------------------------------------------------
router = APIRouter()


def _validation_errors(exc: ValidationError) -> Json:
    errs = [
        {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
        for e in exc.errors(include_url=False)
    ]
    return Json(
        {"error": "validation_error", "message": "the call event is not valid", "errors": errs},
        status_code=422,
    )


@router.post(
    "/hooks/{channel_id}/voice",
    tags=["webhooks"],
    summary="Voice channel: a telephony system posts a call event (X-Amity-Signature over the raw body)",
)
async def post_call_event(
    channel_id: str,
    request: Request,
    app: Annotated[App, Depends(get_app)],
    x_amity_signature: Annotated[str | None, Header()] = None,
) -> Json:
    body = await request.body()
    channel = signing.signed_channel(app, channel_id, ("voice",), body, x_amity_signature)
    try:
        ev = CallEventIn.model_validate_json(body)
    except ValidationError as exc:
        return _validation_errors(exc)
    out, fresh = await run_in_threadpool(handle, app, channel, ev)
    return Json({**out, "event": ev.event, "duplicate": not fresh}, status_code=201 if fresh else 200)


@router.get(
    "/api/v1/calls/{call_id}/screen-pop",
    tags=["calls"],
    summary="The screen pop of a call (caller's 360 summary and open conversation), for a console that missed it",
)
def get_screen_pop(
    call_id: Annotated[str, Path(min_length=1, max_length=200, pattern=CALL_ID_PATTERN)],
    app: Annotated[App, Depends(get_app)],
    _: Annotated[Actor, Depends(require(Perm.CONVERSATIONS_READ))],
    channel_id: Annotated[
        str | None, Query(max_length=32, description="The voice channel, when two lines share call ids")
    ] = None,
) -> Json:
    window = dt.timedelta(hours=app.settings.conversation_window_hours)
    with app.db.read() as s:
        return Json(find_screen_pop(s, call_id, channel_id, utcnow(), window))
