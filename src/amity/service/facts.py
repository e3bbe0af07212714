"""What routing rules and SLA policies look at, gathered once, and the conditions they match on.

Both rules and policies share one condition language, so an admin learns it once:

    {"channel_types": ["email"], "priorities": ["high", "urgent"], "customer_traits": {"vip": true},
     "keywords": ["refund", "broken"], "business_hours": {"calendar_id": "cal_…", "open": false}}

Every key present must hold (AND); a list means any one of its values (OR); an empty condition set
matches everything.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, select
from sqlalchemy.orm import Session

from amity.accounts.models import User
from amity.channels.models import Channel
from amity.conversations.models import Conversation, Message
from amity.core.actions import Actor, NotFound
from amity.customers import queries as customers
from amity.service.calendars import BusinessHours
from amity.service.models import Calendar

TEXT_MESSAGES = 20


@dataclass(frozen=True)
class Facts:
    conversation_id: str
    customer_id: str
    status: str
    priority: str
    channel_type: str | None
    subject: str
    text: str  # the customer's own words so far (inbound, not notes)
    has_inbound: bool = False  # the customer wrote (an agent-opened conversation may have no word yet)
    traits: dict[str, Any] = field(default_factory=dict)
    team_id: str | None = None
    assignee_id: str | None = None
    brand_id: str | None = None
    tags: tuple[str, ...] = ()
    first_response_at: dt.datetime | None = None
    awaiting_reply_since: dt.datetime | None = None


# What a condition reads beyond the conversation row itself; ``reads`` names the ones to gather (the
# channel's type comes with the conversation's own read, so READS_CHANNEL costs nothing).
READS_CHANNEL, READS_TRAITS, READS_WORDS = "channel_types", "customer_traits", "keywords"
READS_INBOUND = "has_inbound"  # whether the customer wrote at all (known for free when words are read)
EVERYTHING = frozenset({READS_CHANNEL, READS_TRAITS, READS_WORDS, READS_INBOUND})


_CONV = cast(Table, Conversation.__table__)
_CHANNELS = cast(Table, Channel.__table__)
# One read for everything rules and policies look at on the conversation itself, its channel's type
# and its service levels (the SLA refresh compares them before writing).
_CONVERSATION = (
    select(
        _CONV.c.id,
        _CONV.c.customer_id,
        _CONV.c.status,
        _CONV.c.priority,
        _CONV.c.subject,
        _CONV.c.team_id,
        _CONV.c.assignee_id,
        _CONV.c.brand_id,
        _CONV.c.tags,
        _CONV.c.first_response_at,
        _CONV.c.awaiting_reply_since,
        _CONV.c.merged_into_id,
        _CONV.c.sla_policy_id,
        _CONV.c.first_response_due_at,
        _CONV.c.next_response_due_at,
        _CONV.c.resolution_due_at,
        _CHANNELS.c.type.label("channel_type"),
    )
    .select_from(_CONV.outerjoin(_CHANNELS, _CHANNELS.c.id == _CONV.c.last_channel_id))
    .where(_CONV.c.id == bindparam("cid"))
)


_MESSAGES = cast(Table, Message.__table__)
_CUSTOMER_WROTE = (
    (_MESSAGES.c.conversation_id == bindparam("cid"))
    & (_MESSAGES.c.direction == "in")
    & _MESSAGES.c.is_note.is_(False)
)
_WORDS = (
    select(_MESSAGES.c.text)
    .where(_CUSTOMER_WROTE)
    .order_by(_MESSAGES.c.created_at, _MESSAGES.c.id)
    .limit(TEXT_MESSAGES)
)
_INBOUND = select(_MESSAGES.c.id).where(_CUSTOMER_WROTE).limit(1)


def conversation_row(session: Session, conversation_id: str) -> Row[Any]:
    """The conversation's columns that rules and policies read, with its last channel's type."""
    row = session.execute(_CONVERSATION, {"cid": conversation_id}).first()
    if row is None:
        raise NotFound(f"no conversation {conversation_id}", field="conversation_id")
    return cast("Row[Any]", row)


def gather(session: Session, conversation_id: str, reads: Collection[str] = EVERYTHING) -> Facts:
    """The facts about one conversation. ``reads``: which of the customer's traits, the customer's
    words and whether they wrote at all to load (each is a query); what is not asked for is left
    empty (``has_inbound`` False), so pass only what the conditions at hand look at
    (``Setup.policy_reads`` / ``rule_reads``). The conversation and its channel's type are one read."""
    return facts_of(session, conversation_row(session, conversation_id), reads)


def facts_of(session: Session, conv: Row[Any], reads: Collection[str] = EVERYTHING) -> Facts:
    """``gather`` for a row of :func:`conversation_row` already in hand (the SLA refresh has it)."""
    channel_type = conv.channel_type
    words: list[str] = []
    if READS_WORDS in reads:
        # The customer's first messages are what rules read; a long conversation need not be loaded whole.
        words = list(session.scalars(_WORDS, {"cid": conv.id}))
    return Facts(
        conversation_id=conv.id,
        customer_id=conv.customer_id,
        status=conv.status,
        priority=conv.priority,
        channel_type=channel_type,
        subject=conv.subject,
        text="\n".join(words),
        has_inbound=bool(words)
        if READS_WORDS in reads
        else READS_INBOUND in reads and has_inbound(session, conv.id),
        traits=customer_traits(session, conv.customer_id) if READS_TRAITS in reads else {},
        team_id=conv.team_id,
        assignee_id=conv.assignee_id,
        brand_id=conv.brand_id,
        tags=tuple(conv.tags),
        first_response_at=conv.first_response_at,
        awaiting_reply_since=conv.awaiting_reply_since,
    )


def has_inbound(session: Session, conversation_id: str) -> bool:
    """Whether the customer wrote in this conversation (an agent may have opened it with no word yet)."""
    return session.scalar(_INBOUND, {"cid": conversation_id}) is not None


def display_name(session: Session, actor: Actor) -> str:
    """How notes name the person who acted: their name, else their email, else the actor's label."""
    if actor.kind == "user" and (user := session.get(User, actor.id)) is not None:
        return user.name or user.email
    return actor.name or actor.label


def customer_traits(session: Session, customer_id: str) -> dict[str, Any]:
    return customers.current_traits(session, customer_id)  # follows merges to the live profile


def business_hours(session: Session, calendar_id: str | None) -> BusinessHours:
    if calendar_id is None:
        return BusinessHours.around_the_clock()
    cal = session.get(Calendar, calendar_id)
    if cal is None:  # deleting a calendar in use is refused, so this is a race: count every hour
        return BusinessHours.around_the_clock()
    return BusinessHours.parse(cal.timezone, cal.hours, cal.holidays)


def _same(want: Any, have: Any) -> bool:
    if isinstance(want, str) and isinstance(have, str):
        return want.casefold() == have.casefold()
    if isinstance(want, bool) or isinstance(have, bool):
        return want is have
    return bool(want == have)


def trait_matches(want: Any, have: Any) -> bool:
    """``want`` is one value or a list of accepted ones; a list-valued trait matches on any overlap."""
    wanted = want if isinstance(want, list) else [want]
    values = have if isinstance(have, list) else [have]
    return any(_same(w, v) for w in wanted for v in values if v is not None)


def keyword_in(keyword: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(keyword.casefold())}(?!\w)", text.casefold()) is not None


def matches(
    conditions: dict[str, Any],
    facts: Facts,
    now: dt.datetime,
    hours_of: Callable[[str], BusinessHours],
) -> bool:
    if (kinds := conditions.get("channel_types")) and facts.channel_type not in kinds:
        return False
    if (prios := conditions.get("priorities")) and facts.priority not in prios:
        return False
    for name, want in (conditions.get("customer_traits") or {}).items():
        if not trait_matches(want, facts.traits.get(name)):
            return False
    if (words := conditions.get("keywords")) and not any(
        keyword_in(w, f"{facts.subject}\n{facts.text}") for w in words
    ):
        return False
    bh = conditions.get("business_hours")
    return bh is None or hours_of(bh["calendar_id"]).is_open(now) == bool(bh.get("open", True))
