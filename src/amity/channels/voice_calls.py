"""A call as Amity knows it: the signed call event a telephony system posts, the call's facts on the
caller's timeline (its state), and the screen pop agents see while it rings. The voice channel
(:mod:`amity.channels.voice`) files calls and serves the webhook on top of these."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from amity.channels.inbound import channel_actor
from amity.channels.models import Channel
from amity.conversations import continuity
from amity.conversations.models import Conversation, Message
from amity.conversations.queries import conversation_out
from amity.core.actions import App, Invalid, NotFound
from amity.core.inputs import Input
from amity.customers import queries as customers
from amity.customers import service as customer_service
from amity.customers.models import Event

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


# ---- the call's facts on the caller's timeline ----------------------------------------------------
def event_id(channel_id: str, call_id: str, event: str) -> str:
    key = hashlib.sha256(f"{channel_id}\x1f{call_id}\x1f{event}".encode()).hexdigest()[:40]
    return f"call_{key}"


def external_id(call_id: str) -> str:
    return f"call:{call_id}"


def record(app: App, channel: Channel, ev: CallEventIn) -> tuple[str, bool]:
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


def call_facts(session: Session, channel_ids: list[str], call_id: str) -> dict[str, dict[str, Event]]:
    """channel id -> event name -> the stored fact, for every channel that has seen this call."""
    wanted = {event_id(c, call_id, e): (c, e) for c in channel_ids for e in EVENTS}
    out: dict[str, dict[str, Event]] = {}
    # Primary-key lookups: the ids are derived, so no scan of the (large) events table is needed.
    for row in session.scalars(select(Event).where(Event.id.in_(list(wanted)))):
        channel_id, name = wanted[row.id]
        out.setdefault(channel_id, {})[name] = row
    return out


def call_message(session: Session, channel_id: str, call_id: str) -> Message | None:
    return session.scalar(
        select(Message).where(Message.channel_id == channel_id, Message.external_id == external_id(call_id))
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
    msg = call_message(session, channel_id, call_id) if ended else None
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
    found = call_facts(session, list(session.scalars(q)), call_id)
    if not found:
        raise NotFound(f"no call {call_id}", field="call_id")
    # Two lines could reuse a call id (a PBX counting from 1): the most recently active one wins;
    # ``channel_id`` picks another.
    chosen = max(found, key=lambda c: max(f.timestamp for f in found[c].values()))
    return screen_pop(session, chosen, call_id, found[chosen], now, window)
