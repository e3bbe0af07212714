"""Service levels: which policy applies, and the due time of each target, pauses and business hours included.

Three targets, each a clock that runs in business time (the policy's calendar; no calendar: all hours):

- ``first_response``: from the moment the conversation is seen until an agent first replies;
- ``next_response``: after that first reply, from each customer message still waiting for an answer
  until an agent answers it (every wait is a new cycle with its own due time);
- ``resolution``: from the start until the conversation is solved (re-opening resumes it).

A clock runs only while the conversation is ``open`` (and ``on_hold`` unless the policy pauses it
there); ``pending`` means we wait for the customer, so it pauses. The clocks advance by observation:
each event that changes the conversation steps them at the service clock's ``now`` (injected in
tests through ``app.cache[CLOCK]``), which after commit is the event's time to within milliseconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, exists, insert, select, update
from sqlalchemy.orm import Session

from amity.conversations.changes import set_service_levels
from amity.conversations.models import Conversation
from amity.core.actions import ActionContext, App
from amity.db import utcnow
from amity.service import cache
from amity.service.cache import PolicyView, Setup
from amity.service.calendars import BusinessHours
from amity.service.facts import Facts, conversation_row, facts_of, matches
from amity.service.models import SLA_TARGETS, SlaClock, SlaPolicy

CLOCK = "service.clock"
US = dt.timedelta(microseconds=1)


def now_of(app: App) -> dt.datetime:
    clock: Callable[[], dt.datetime] | None = app.cache.get(CLOCK)
    return clock() if clock is not None else utcnow()


@dataclass(frozen=True)
class Clock:
    """The state of one target, as stored in ``service_sla_clocks`` (pure, for the arithmetic)."""

    target: str
    cycle: str = ""
    elapsed_us: int = 0
    running_since: dt.datetime | None = None
    met_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    warned_at: dt.datetime | None = None
    breached_at: dt.datetime | None = None


@dataclass(frozen=True)
class Wanted:
    """What the conversation says about one target right now."""

    active: bool  # the target applies (next response: only while the customer waits after a reply)
    met: bool  # reached: first reply sent, conversation solved
    running: bool  # the status lets the clock run
    cycle: str = ""


def step(
    clock: Clock | None,
    want: Wanted,
    minutes: int | None,
    hours: BusinessHours,
    now: dt.datetime,
    warn: dt.timedelta = dt.timedelta(),
) -> Clock | None:
    """The clock after observing ``want`` at ``now``. ``minutes`` is the policy's target (None: none)."""
    if minutes is None or (clock is None and not want.active):
        return None
    if clock is None or clock.cycle != want.cycle:
        clock = Clock(target=clock.target if clock else "", cycle=want.cycle)
    if clock.running_since is not None:  # account the business time run since the last observation
        used = hours.between(clock.running_since, now) // US
        clock = replace(clock, elapsed_us=clock.elapsed_us + used, running_since=None)
    if want.met or not want.active:
        return replace(clock, met_at=clock.met_at or now, due_at=None)
    clock = replace(clock, met_at=None, running_since=now if want.running else None)
    remaining = minutes * 60_000_000 - clock.elapsed_us
    due: dt.datetime | None = clock.due_at or now  # overdue stays overdue, at the top of the queue
    if remaining > 0:
        due = hours.add(now, remaining * US) if want.running else None
    clock = replace(clock, due_at=due)
    # A due time that moved later (priority lowered, a longer target) earns its warning again.
    if clock.breached_at and due and due > clock.breached_at:
        clock = replace(clock, breached_at=None)
    if clock.warned_at and due and due - warn > clock.warned_at:
        clock = replace(clock, warned_at=None)
    return clock


def targets_for(policy: SlaPolicy | PolicyView, priority: str) -> dict[str, int]:
    return dict(policy.targets.get(priority) or policy.targets.get("*") or {})


def wanted(facts: Facts, pause_on_hold: bool) -> dict[str, Wanted]:
    runs = facts.status == "open" or (facts.status == "on_hold" and not pause_on_hold)
    waiting = facts.awaiting_reply_since
    return {
        "first_response": Wanted(active=True, met=facts.first_response_at is not None, running=runs),
        "next_response": Wanted(
            active=facts.first_response_at is not None and waiting is not None,
            met=False,
            running=runs,
            cycle=waiting.isoformat() if waiting else "",
        ),
        "resolution": Wanted(active=True, met=facts.status in ("solved", "closed"), running=runs),
    }


def choose_policy(setup: Setup, facts: Facts, now: dt.datetime) -> PolicyView | None:
    """The first enabled policy, in position order, whose conditions match."""
    for p in setup.policies:
        if matches(p.conditions, facts, now, setup.hours):
            return p
    return None


_CLOCKS = cast(Table, SlaClock.__table__)
_CLOCK_FIELDS = ("cycle", "elapsed_us", "running_since", "met_at", "due_at", "warned_at", "breached_at")
_SELECT_CLOCKS = select(_CLOCKS).where(_CLOCKS.c.conversation_id == bindparam("cid"))
_UPDATE_CLOCK = (
    update(_CLOCKS)
    .where(_CLOCKS.c.id == bindparam("_id"))
    .values({c: bindparam(c) for c in ("policy_id", *_CLOCK_FIELDS, "updated_at")})
)
_DELETE_CLOCKS = delete(_CLOCKS).where(_CLOCKS.c.id.in_(bindparam("ids", expanding=True)))
# What a refresh with no policy would have to clear: the conversation's policy and due times, its clocks.
_CONVERSATIONS = cast(Table, Conversation.__table__)
_SLA_STATE = select(
    _CONVERSATIONS.c.sla_policy_id,
    _CONVERSATIONS.c.first_response_due_at,
    _CONVERSATIONS.c.next_response_due_at,
    _CONVERSATIONS.c.resolution_due_at,
    exists().where(_CLOCKS.c.conversation_id == _CONVERSATIONS.c.id),
).where(_CONVERSATIONS.c.id == bindparam("cid"))


def has_service_levels(session: Session, conversation_id: str) -> bool:
    """Whether the conversation carries a policy, a due time or a clock (one indexed read)."""
    row = session.execute(_SLA_STATE, {"cid": conversation_id}).first()
    if row is None:
        return False
    *recorded, has_clock = row
    return bool(has_clock) or any(v is not None for v in recorded)


def _pure(row: Any) -> Clock:
    return Clock(
        target=row.target,
        cycle=row.cycle,
        elapsed_us=row.elapsed_us,
        running_since=row.running_since,
        met_at=row.met_at,
        due_at=row.due_at,
        warned_at=row.warned_at,
        breached_at=row.breached_at,
    )


def refresh_service_levels(
    ctx: ActionContext, conversation_id: str, now: dt.datetime, setup: Setup | None = None
) -> dict[str, object]:
    """Step every clock of one conversation and, if anything due changed, record it on the conversation.

    ``setup``: the policies as this process knows them (``amity.service.cache.current``); without it
    they are read in this transaction. This runs after every customer message, so the clock rows are
    read and written with plain statements (one read; at most one delete, one update, one insert) and
    only the facts some policy's conditions look at are gathered."""
    s = ctx.session
    if setup is None:
        setup = cache.load(s)
    conv = conversation_row(s, conversation_id)  # the ORM row only if something is to be recorded
    rows = {r.target: r for r in s.execute(_SELECT_CLOCKS, {"cid": conversation_id})}
    policy = None
    facts = None
    if setup.policies and not conv.merged_into_id:
        facts = facts_of(s, conv, setup.policy_reads)
        policy = choose_policy(setup, facts, now)
    due: dict[str, dt.datetime | None] = dict.fromkeys(SLA_TARGETS)
    gone: list[int] = [r.id for r in rows.values()]
    changed: list[dict[str, Any]] = []
    added: list[dict[str, Any]] = []
    if policy is not None and facts is not None:
        gone = []
        hours = setup.hours(policy.calendar_id)
        minutes = targets_for(policy, facts.priority)
        warn = dt.timedelta(minutes=policy.warn_before_minutes)
        for target, want in wanted(facts, policy.pause_on_hold).items():
            row = rows.get(target)
            before = _pure(row) if row is not None else None
            after = step(before, want, minutes.get(target), hours, now, warn)
            if after is None:
                if row is not None:
                    gone.append(row.id)
                continue
            values: dict[str, Any] = {f: getattr(after, f) for f in _CLOCK_FIELDS}
            values.update(policy_id=policy.id, updated_at=now)
            if row is None:
                added.append({"conversation_id": conversation_id, "target": target, **values})
            else:
                changed.append({"_id": row.id, **values})
            due[target] = after.due_at
    if gone:
        s.execute(_DELETE_CLOCKS, {"ids": gone})
    if changed:
        s.execute(_UPDATE_CLOCK, changed)
    if added:
        s.execute(insert(_CLOCKS), added)
    policy_id = policy.id if policy else None
    current = (
        conv.sla_policy_id,
        conv.first_response_due_at,
        conv.next_response_due_at,
        conv.resolution_due_at,
    )
    wanted_now = (policy_id, due["first_response"], due["next_response"], due["resolution"])
    if current != wanted_now:
        set_service_levels(
            ctx,
            conversation_id,
            policy_id=policy_id,
            first_response_due_at=due["first_response"],
            next_response_due_at=due["next_response"],
            resolution_due_at=due["resolution"],
        )
    return {"policy_id": policy_id, **due}
