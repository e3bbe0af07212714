"""Demo conversations for Northwind Outfitters: the inbox a newcomer opens after ``./dev start``.

The service desk is set up through the service and channel actions (tiers, two teams, an SLA policy
around the clock, macros, the brand, and one channel of each kind: email, web chat, SMS, WhatsApp, a
phone line and the in-store tablets' API channel). Then demo customers write in through the channels'
own entry point (``channels.inbound.receive``, which calls ``conversations.receiving.receive_message``),
phone calls arrive as call events (``channels.voice.handle``), and the demo agent and supervisor
answer, note, assign, tag, escalate and ask for approvals through the same actions the console uses.

Deterministic and idempotent: who writes, what and when depend only on the seed, and every inbound
message carries a provider id derived from it, so a second load finds each story's first message
already stored and skips the story (nothing new is stored). Past replies are recorded as sent
(``delivery.record_sent``): they went out before the demo started, and a demo has no mail relay or SMS
account to send them through again.

Times: a story that started ``age`` minutes ago runs its SLA clocks from then (the service clock,
``service.sla.CLOCK``, is set back while it is written), so the inbox shows deadlines spread over the
next hours, and a few already breached.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from amity.accounts.queries import actor_for_user, user_by_email
from amity.channels import inbound
from amity.channels import voice as voice_channel
from amity.channels.actions import create_channel
from amity.channels.base import Address, Inbound, Sent
from amity.channels.models import Channel
from amity.channels.voice_calls import CallEventIn
from amity.conversations import actions as conv_actions
from amity.conversations import changes as conv_changes
from amity.conversations import delivery
from amity.conversations.models import Delivery, Message
from amity.core.actions import Actor, App, Conflict, perform
from amity.db import utcnow
from amity.demo_script import ANCHOR_NAME, CALLS, CHANNELS, MACROS, NEEDS, SUPPORT
from amity.service import people, setup
from amity.service.approvals import decide_approval, request_approval
from amity.service.escalation import escalate
from amity.service.models import Brand, Team, Tier
from amity.service.sla import CLOCK


@dataclass
class Desk:
    """What the stories need: channels by type, the people who answer, the teams."""

    channels: dict[str, Channel]
    agent: Actor
    supervisor: Actor
    front_line: str
    escalations: str
    stats: dict[str, int] = field(default_factory=lambda: {"conversations": 0, "skipped": 0})


@contextmanager
def _service_clock(app: App, at: dt.datetime) -> Iterator[None]:
    """SLA clocks started while this is open started at ``at`` (the story began then)."""
    before = app.cache.get(CLOCK)
    app.cache[CLOCK] = lambda: at
    try:
        yield
    finally:
        if before is None:
            app.cache.pop(CLOCK, None)
        else:
            app.cache[CLOCK] = before


def _named(app: App, model: type[Any], name: str) -> str:
    with app.db.read() as s:
        found = s.scalar(select(model.id).where(model.name == name))
    if found is None:
        raise LookupError(f"demo {model.__name__} {name!r} was not created")
    return str(found)


def _once(app: App, actor: Actor, fn: Callable[..., Any], *args: Any) -> None:
    with suppress(Conflict):  # made by an earlier load (names are unique): keep it
        perform(app, actor, fn, *args)


def set_up_desk(app: App, actor: Actor) -> Desk:
    now = utcnow()
    agent_user = _user(app, "agent@amity.example")
    supervisor_user = _user(app, "supervisor@amity.example")
    _once(
        app,
        actor,
        people.create_tier,
        {"name": "Front line", "level": 1, "limits": {"refund": {"GBP": 5000}}},
        now,
    )
    _once(
        app,
        actor,
        people.create_tier,
        {"name": "Senior", "level": 2, "limits": {"refund": {"GBP": 50000}}, "may_approve": True},
        now,
    )
    tiers = {name: _named(app, Tier, name) for name in ("Front line", "Senior")}
    teams = {}
    for name, tier, member in (
        ("Front line", "Front line", agent_user),
        ("Escalations", "Senior", supervisor_user),
    ):
        _once(
            app,
            actor,
            people.create_team,
            {"name": name, "tier_id": tiers[tier], "strategy": "least_loaded", "members": [member.id]},
            now,
        )
        teams[name] = _named(app, Team, name)
    _once(
        app,
        actor,
        setup.create_brand,
        {
            "name": ANCHOR_NAME,
            "from_address": SUPPORT,
            "signature": "Warmly,\nNorthwind Outfitters",
            "colours": {"primary": "#1f6f5c"},
        },
        now,
    )
    brand = _named(app, Brand, ANCHOR_NAME)
    for name, body in MACROS:
        _once(app, actor, setup.create_macro, {"name": name, "body": body}, now)
    policy = {
        "name": "Northwind around the clock",
        "enabled": True,
        "calendar_id": None,
        "conditions": {},
        "targets": {
            "*": {"first_response": 240, "resolution": 2880},
            "high": {"first_response": 90},
            "urgent": {"first_response": 30},
        },
        "pause_on_hold": True,
        "warn_before_minutes": 30,
    }
    _once(app, actor, setup.create_policy, policy, now)
    with app.db.read() as s:
        existing = {c.name: c for c in s.scalars(select(Channel))}
    channels: dict[str, Channel] = {}
    for type_, name, config in CHANNELS:
        if name not in existing:
            extra = {"brand_id": brand} if type_ in ("email", "chat") else {}
            if type_ == "chat":
                config = {**config, "brand_id": brand}
            existing[name] = perform(app, actor, create_channel, type_, name, config, **extra)
        channels[type_] = existing[name]
    return Desk(
        channels,
        actor_for_user(agent_user),
        actor_for_user(supervisor_user),
        teams["Front line"],
        teams["Escalations"],
    )


def _user(app: App, email: str) -> Any:
    with app.db.read() as s:
        user = user_by_email(s, email)
    if user is None:
        raise LookupError(f"demo sign-in {email} is missing: create the users first")
    return user


# ---- who writes ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Person:
    name: str
    email: str | None
    phone: str | None


def people_of(events: list[dict[str, Any]]) -> list[Person]:
    """The demo's people with a name, an email and (mostly) a phone, in their generated order."""
    found: dict[str, dict[str, str]] = {}
    for e in events:
        person = e["id"].rsplit("-", 1)[0]  # demo<seed>-<n>-<k>: one person's events share a prefix
        known = found.setdefault(person, {})
        for ident in e["identities"]:
            known.setdefault(ident["type"], ident["value"])
        if (name := (e.get("traits") or {}).get("name")) is not None:
            known.setdefault("name", str(name))
    return [
        Person(k["name"], k.get("email"), k.get("phone"))
        for _, k in sorted(found.items())
        if "name" in k and "email" in k
    ]


def _sender(channel_type: str, p: Person, visitor: str) -> Address | None:
    if channel_type == "email":
        return Address("email", p.email or "")
    if channel_type in ("sms", "whatsapp"):
        return Address("phone", p.phone) if p.phone else None
    if channel_type == "chat":
        return Address("device", f"chat-{visitor}")
    return Address("email", p.email or "")  # the tablets say which customer the clerk serves


# ---- the stories -----------------------------------------------------------------------------------
def _reply(app: App, actor: Actor, conversation_id: str, text: str, **kw: Any) -> None:
    perform(app, actor, conv_actions.add_message, conversation_id, text=text, **kw)
    _sent_already(app, actor, conversation_id)


def _sent_already(app: App, actor: Actor, conversation_id: str) -> None:
    """The story's replies (and what the desk sent by itself, an approval's answer) went out before
    the demo began: record them delivered, as the worker would have."""
    with app.db.read() as s:
        waiting = list(
            s.scalars(
                select(Delivery.id)
                .join(Message, Message.id == Delivery.message_id)
                .where(Message.conversation_id == conversation_id, Delivery.status == "pending")
                .order_by(Delivery.id)
            )
        )
    for d in waiting:
        perform(app, actor, delivery.record_sent, d, Sent(status="delivered"))


def _story(
    app: App,
    desk: Desk,
    rng: random.Random,
    seed: int,
    n: int,
    p: Person,
    need: tuple[str, str, str, str, str],
) -> None:
    topic, channel_type, opening, answer, follow_up = need
    channel = desk.channels[channel_type]
    visitor = "vis_" + "".join(rng.choice("0123456789abcdefghjkmnpqrstvwxyz") for _ in range(26))
    sender = _sender(channel_type, p, visitor)
    # Minutes since the customer wrote. Unanswered needs are the ones that can be overdue (a first
    # response is due within four hours), so some of them started long ago.
    late = not answer and n % 2 == 0
    age = rng.choice((300, 420, 600)) if late else rng.choice((20, 45, 80, 130, 170, 200, 215, 230))
    started = utcnow() - dt.timedelta(minutes=age)
    if sender is None:
        return
    meta = {"chat": {"visitor_id": visitor, "verified": False}} if channel_type == "chat" else {}
    first = Inbound(
        sender=sender,
        text=opening,
        subject=opening.split(".")[0][:80] if channel_type == "email" else None,
        sender_name=p.name,
        identities=[Address("email", p.email)] if channel_type == "chat" and p.email else [],
        external_id=f"demo{seed}-conv-{n:03d}-1",
        received_at=started,
        meta=meta,
    )
    with _service_clock(app, started):
        got = inbound.receive(app, channel.id, first)
    if got.duplicate:
        desk.stats["skipped"] += 1
        return  # loaded before: the rest of the story is stored too
    desk.stats["conversations"] += 1
    cid = got.conversation_id
    # One change for the triage (fewer transactions: the demo runs in ./dev start): tags, priority,
    # and for half of them the front line takes it.
    triage: dict[str, Any] = {"tags": [topic] + (["vip"] if n % 7 == 0 else [])}
    if n % 6 in (0, 1, 3):
        triage |= {"assignee_id": desk.agent.id, "team_id": desk.front_line}
    if topic == "defect" or n % 11 == 4:
        triage["priority"] = "high" if topic == "defect" else "urgent"
    perform(app, desk.supervisor, conv_changes.update_conversation, cid, **triage)
    if answer:
        _reply(app, desk.agent, cid, answer, status="pending" if not follow_up else None)
    if topic in ("stock", "sizing"):
        _reply(
            app,
            desk.agent,
            cid,
            "Bought sizes 6 and 6.5 before; prefers collection in store.",
            note=True,
        )
    if follow_up:
        later = Inbound(
            sender=sender,
            text=follow_up,
            sender_name=p.name,
            external_id=f"demo{seed}-conv-{n:03d}-2",
            conversation_hint=cid,
            meta=meta,
        )
        inbound.receive(app, channel.id, later)
    if topic == "defect" and answer:
        approval = perform(
            app,
            desk.agent,
            request_approval,
            cid,
            "refund",
            18900,
            "GBP",
            "Sole came off after two months; above my refund limit.",
            None,
            utcnow(),
        )
        if n < len(NEEDS):  # the first is decided; the next one waits for the supervisor
            perform(
                app,
                desk.supervisor,
                decide_approval,
                approval.id,
                "approved",
                "Refund in full, and apologise.",
                utcnow(),
            )
            _sent_already(app, desk.agent, cid)  # the approval's answer to the customer
            perform(app, desk.agent, conv_changes.update_conversation, cid, status="solved")
    if topic == "order_status" and not answer:
        perform(
            app,
            desk.agent,
            escalate,
            cid,
            "Charged twice and waiting six days: needs someone who can refund.",
            utcnow(),
            to_team=desk.escalations,
        )


def _call(app: App, desk: Desk, seed: int, n: int, p: Person, transcript: str, seconds: int) -> None:
    if not p.phone:
        return
    call_id = f"demo{seed}-call-{n:02d}"
    channel = desk.channels["voice"]
    started = utcnow() - dt.timedelta(minutes=15 + 40 * n)
    ev = CallEventIn.model_validate(
        {
            "event": "ended",
            "call_id": call_id,
            "from": p.phone,
            "timestamp": started.isoformat(),
            "duration_seconds": seconds,
            "transcript": transcript,
        }
    )
    with _service_clock(app, started):
        body, fresh = voice_channel.handle(app, channel, ev)
    if not fresh:
        desk.stats["skipped"] += 1
        return
    desk.stats["conversations"] += 1
    cid = body["conversation_id"]
    perform(
        app,
        desk.supervisor,
        conv_changes.update_conversation,
        cid,
        assignee_id=desk.supervisor.id,
        tags=["phone"],
    )
    _reply(
        app,
        desk.supervisor,
        cid,
        "Called back: " + transcript.lower().rstrip(".") + ". Sorted on the phone.",
        note=True,
    )


def load_conversations(
    app: App, events: list[dict[str, Any]], seed: int, actor: Actor, count: int = 24
) -> dict[str, int]:
    """Set up the desk and tell ``count`` stories plus a few phone calls; returns what was stored."""
    desk = set_up_desk(app, actor)
    rng = random.Random(f"conversations-{seed}")  # noqa: S311 -- demo data, seeded on purpose
    everyone = people_of(events)
    if not everyone:
        return desk.stats
    chosen = rng.sample(everyone, min(len(everyone), count + len(CALLS)))
    for n, p in enumerate(chosen[:count]):
        _story(app, desk, rng, seed, n, p, NEEDS[n % len(NEEDS)])
    for n, (p, (transcript, seconds)) in enumerate(zip(chosen[count:], CALLS, strict=False)):
        _call(app, desk, seed, n, p, transcript, seconds)
    return desk.stats
