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
import hashlib
from typing import Annotated, Any, Literal

import phonenumbers
from fastapi import APIRouter, Depends, Header, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from amity.accounts.roles import Perm
from amity.channels import signing
from amity.channels.base import Address, Inbound
from amity.channels.inbound import channel_actor
from amity.channels.models import Channel
from amity.channels.registry import ChannelKind
from amity.conversations import continuity, receiving
from amity.conversations.models import Conversation, Message
from amity.conversations.queries import conversation_out
from amity.core.actions import ActionContext, Actor, App, Invalid, NotFound, perform
from amity.core.inputs import Input
from amity.customers import queries as customers
from amity.customers import service as customer_service
from amity.customers.models import Event
from amity.db import utcnow
from amity.web.auth import get_app, require
from amity.web.responses import Json

EVENTS = ("ringing", "answered", "ended")
CALL_ID_PATTERN = r"^[A-Za-z0-9._:@+=-]+$"  # provider ids are ASCII; this keeps them safe in a URL path
LAST_MESSAGES = 5
SUMMARY_EVENTS = 5
TEXT_PREVIEW = 500


class VoiceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: str = Field(min_length=16, max_length=200, description="Signs call events (HMAC-SHA256)")
    number: str | None = Field(default=None, max_length=40, description="The line's own number (E.164)")

    @field_validator("number")
    @classmethod
    def _e164(cls, v: str | None) -> str | None:
        if v is None:
            return None
        try:
            parsed = phonenumbers.parse(v, None)
        except phonenumbers.NumberParseException:
            raise ValueError("not a phone number in international form (+country…)") from None
        if not phonenumbers.is_possible_number(parsed):
            raise ValueError("not a possible phone number")
        return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


class CallEventIn(Input):
    event: Literal["ringing", "answered", "ended"]
    call_id: str = Field(min_length=1, max_length=200, pattern=CALL_ID_PATTERN)
    from_: str = Field(alias="from", min_length=1, max_length=40, description="The caller's number")
    to: str | None = Field(default=None, max_length=40, description="The number called")
    timestamp: dt.datetime | None = Field(default=None, description="When it happened; default now")
    agent_id: str | None = Field(default=None, min_length=1, max_length=200)
    duration_seconds: int | None = Field(default=None, ge=0, le=7 * 24 * 3600)
    recording_url: HttpUrl | None = Field(default=None)
    transcript: str | None = Field(default=None, max_length=100_000)

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, v: dt.datetime | None) -> dt.datetime | None:
        # Documented: a timestamp without an offset is UTC (as for events).
        return v.replace(tzinfo=dt.UTC) if v is not None and v.tzinfo is None else v


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


# ---- the call's facts on the caller's timeline ----------------------------------------------------
def event_id(channel_id: str, call_id: str, event: str) -> str:
    key = hashlib.sha256(f"{channel_id}\x1f{call_id}\x1f{event}".encode()).hexdigest()[:40]
    return f"call_{key}"


def _external_id(call_id: str) -> str:
    return f"call:{call_id}"


def _record(app: App, channel: Channel, ev: CallEventIn) -> tuple[str, bool]:
    """Store the event on the caller's timeline (identity resolution finds or creates the caller).
    Answers the caller's customer id and whether this event is new."""
    props: dict[str, Any] = {
        "channel_id": channel.id,
        "channel_type": channel.type,
        "call_id": ev.call_id,
        "to": ev.to or channel.config.get("number"),
        "agent_id": ev.agent_id,
        "duration_seconds": ev.duration_seconds,
        "recording_url": str(ev.recording_url) if ev.recording_url else None,
        # The transcript goes into the message, not the timeline: it can be far larger than a fact.
        "transcript": True if ev.transcript else None,
    }
    item: dict[str, Any] = {
        "id": event_id(channel.id, ev.call_id, ev.event),
        "type": f"call.{ev.event}",
        "source": f"channel:{channel.type}",
        "identities": [{"type": "phone", "value": ev.from_}],
        "properties": {k: v for k, v in props.items() if v is not None},
    }
    if ev.timestamp is not None:
        item["timestamp"] = ev.timestamp.isoformat()
    result = customer_service.ingest(app, channel_actor(channel), [item])["results"][0]
    if result["status"] == "rejected":
        err = result["errors"][0]
        where = "from" if err["field"].startswith("identities") else err["field"]
        raise Invalid(f"the call event cannot be stored: {err['message']}", field=where)
    return str(result["customer_id"]), result["status"] == "accepted"


def _facts(session: Session, channel_ids: list[str], call_id: str) -> dict[str, dict[str, Event]]:
    """channel id -> event name -> the stored fact, for every channel that has seen this call."""
    wanted = {event_id(c, call_id, e): (c, e) for c in channel_ids for e in EVENTS}
    out: dict[str, dict[str, Event]] = {}
    # Primary-key lookups: the ids are derived, so no scan of the (large) events table is needed.
    for row in session.scalars(select(Event).where(Event.id.in_(list(wanted)))):
        channel_id, name = wanted[row.id]
        out.setdefault(channel_id, {})[name] = row
    return out


def _call_message(session: Session, channel_id: str, call_id: str) -> Message | None:
    return session.scalar(
        select(Message).where(Message.channel_id == channel_id, Message.external_id == _external_id(call_id))
    )


def _iso(t: dt.datetime | None) -> str | None:
    return t.isoformat() if t else None


def call_state(session: Session, channel_id: str, call_id: str, facts: dict[str, Event]) -> dict[str, Any]:
    ringing, answered, ended = (facts.get(e) for e in EVENTS)
    props: dict[str, Any] = {}
    for fact in (ringing, answered, ended):  # later facts fill in what earlier ones did not know
        if fact is not None:
            props.update({k: v for k, v in fact.properties.items() if v is not None})
    first = next(f for f in (ringing, answered, ended) if f is not None)
    caller = next((i["value"] for i in first.identities if i.get("type") == "phone"), None)
    agent = (answered.properties.get("agent_id") if answered else None) or props.get("agent_id")
    msg = _call_message(session, channel_id, call_id) if ended else None
    return {
        "id": call_id,
        "channel_id": channel_id,
        "status": "ended" if ended else "answered" if answered else "ringing",
        "from": caller,
        "to": props.get("to"),
        "agent_id": agent,
        "ringing_at": _iso(ringing.timestamp if ringing else None),
        "answered_at": _iso(answered.timestamp if answered else None),
        "ended_at": _iso(ended.timestamp if ended else None),
        "duration_seconds": _duration(ended, answered),
        "recording_url": props.get("recording_url"),
        "message_id": msg.id if msg else None,
    }


def _duration(ended: Event | None, answered: Event | None) -> int | None:
    if ended is None:
        return None
    given = ended.properties.get("duration_seconds")
    if given is not None:
        return int(given)
    if answered is not None and ended.timestamp >= answered.timestamp:
        return int((ended.timestamp - answered.timestamp).total_seconds())
    return None


def duration_text(seconds: int | None) -> str:
    """``Call, 3 min 12 s`` — how a call reads in the conversation when there is no transcript."""
    if seconds is None:
        return "Call (duration unknown)"
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    parts = [f"{h} h"] if h else []
    parts += [f"{m} min"] if m else []
    parts += [f"{s} s"] if s or not parts else []
    return "Call, " + " ".join(parts)


# ---- the screen pop -------------------------------------------------------------------------------
def _customer_summary(session: Session, customer_id: str) -> dict[str, Any]:
    c = customers.customer_360(session, customer_id, limit=SUMMARY_EVENTS)
    return {
        "id": c["id"],
        "name": c["traits"].get("name"),
        "identities": [{"type": i["type"], "value": i["value"]} for i in c["identities"]],
        "traits": c["traits"],
        "counts": c["counts"],
        "last_seen_at": c["last_seen_at"],
        "recent_events": c["events"]["items"],
    }


def _last_messages(session: Session, conversation_id: str) -> list[dict[str, Any]]:
    # Internal notes stay out: this payload also leaves Amity (call.ringing webhooks).
    rows = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.is_note.is_(False))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(LAST_MESSAGES)
    )
    return [
        {
            "id": m.id,
            "direction": m.direction,
            "channel_type": m.channel_type,
            "author_type": m.author_type,
            "subject": m.subject,
            "text": m.text[:TEXT_PREVIEW],
            "created_at": _iso(m.created_at),
        }
        for m in reversed(list(rows))
    ]


def _conversation_of_call(
    session: Session, customer_id: str, message: Message | None, now: dt.datetime, window: dt.timedelta
) -> Conversation | None:
    if message is not None:  # the call is filed: it belongs where its message is (merges followed)
        return continuity.follow_merges(session, session.get(Conversation, message.conversation_id))
    # Not filed yet: the conversation the call will join, by the same rule every channel uses.
    return continuity.recent(session, customers.profile_ids(session, customer_id), now, window)


def screen_pop(
    session: Session,
    channel_id: str,
    call_id: str,
    facts: dict[str, Event],
    now: dt.datetime,
    window: dt.timedelta,
) -> dict[str, Any]:
    call = call_state(session, channel_id, call_id, facts)
    any_fact = next(iter(facts.values()))
    customer_id = customers.resolve_customer(session, any_fact.customer_id)
    message = session.get(Message, call["message_id"]) if call["message_id"] else None
    conv = _conversation_of_call(session, customer_id, message, now, window)
    conversation = None
    if conv is not None:
        conversation = {k: v for k, v in conversation_out(conv).items() if k != "customer"}
        conversation["last_messages"] = _last_messages(session, conv.id)
    return {
        "call_id": call_id,
        "channel_id": channel_id,
        "customer_id": customer_id,
        "conversation_id": conv.id if conv else None,
        "call": call,
        "customer": _customer_summary(session, customer_id),
        "conversation": conversation,
    }


def find_screen_pop(
    session: Session, call_id: str, channel_id: str | None, now: dt.datetime, window: dt.timedelta
) -> dict[str, Any]:
    """The screen pop of a call by its provider id, for a console that missed the live event."""
    q = select(Channel.id).where(Channel.type == "voice")
    if channel_id:
        q = q.where(Channel.id == channel_id)
    found = _facts(session, list(session.scalars(q)), call_id)
    if not found:
        raise NotFound(f"no call {call_id}", field="call_id")
    # Two lines could reuse a call id (a PBX counting from 1): the most recently active one wins;
    # ``channel_id`` picks another.
    chosen = max(found, key=lambda c: max(f.timestamp for f in found[c].values()))
    return screen_pop(session, chosen, call_id, found[chosen], now, window)


# ---- actions --------------------------------------------------------------------------------------
def announce_ringing(
    ctx: ActionContext, channel_id: str, call_id: str, window: dt.timedelta
) -> dict[str, Any]:
    """The screen pop goes to every console (``call.ringing``) unless the call is already over
    (its ``ended`` event overtook this one): a pop for a finished call would send an agent hunting."""
    s = ctx.session
    facts = _facts(s, [channel_id], call_id)[channel_id]
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
    facts = _facts(s, [channel_id], call_id)[channel_id]
    call = call_state(s, channel_id, call_id, facts)
    ctx.audit("call.answered", "call", call_id, channel_id=channel_id, agent_id=call["agent_id"])
    msg = _call_message(s, channel_id, call_id)
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
    facts = _facts(s, [channel.id], call_id)[channel.id]
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
        external_id=_external_id(call_id),
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
    customer_id, fresh = _record(app, channel, ev)
    actor = channel_actor(channel)
    if ev.event == "ringing":
        if fresh:
            payload = perform(app, actor, announce_ringing, channel.id, ev.call_id, window)
        else:  # a repeat: answer the same pop, but do not pop every console again
            with app.db.read() as s:
                facts = _facts(s, [channel.id], ev.call_id)[channel.id]
                payload = screen_pop(s, channel.id, ev.call_id, facts, utcnow(), window)
        return payload, fresh
    if ev.event == "answered":
        if fresh:
            call = perform(app, actor, record_answered, channel.id, ev.call_id, customer_id)
        else:
            with app.db.read() as s:
                facts = _facts(s, [channel.id], ev.call_id)[channel.id]
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
