"""The service set-up every inbound message consults, kept per process: enabled SLA policies and
routing rules in evaluation order, and the calendars (business hours) they name.

Reading them costs three queries per message and they change a few times a year, so each process
keeps a copy (``app.cache``) and renews it

- at once after a commit in this process that inserted, changed or deleted a policy, rule or calendar
  (ORM mapper events mark the session; the mark turns into a new generation only when that session
  commits, so a copy loaded before the commit can never be kept as current afterwards);
- within :data:`TTL_SECONDS` for a change another process made (the same bound outgoing webhooks use
  for "is anyone subscribed?"), so a second web process or the worker picks it up without asking the
  database on every message.

The copy holds plain values (no ORM rows), so it is safe to share between threads and sessions.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Mapper, Session, object_session

from amity.core.actions import App
from amity.service.calendars import BusinessHours
from amity.service.models import Calendar, RoutingRule, SlaPolicy

KEY = "service.setup"
TTL_SECONDS = 2.0
_CHANGED = "amity.service_setup_changed"  # Session.info mark: this transaction changed the set-up

_lock = threading.Lock()
_generation = 0  # bumped after every commit in this process that changed the set-up


@dataclass(frozen=True)
class PolicyView:
    """An enabled SLA policy, as :func:`amity.service.sla.refresh_service_levels` reads it."""

    id: str
    calendar_id: str | None
    conditions: dict[str, Any]
    targets: dict[str, dict[str, int]]
    pause_on_hold: bool
    warn_before_minutes: int


@dataclass(frozen=True)
class RuleView:
    """An enabled routing rule, as :func:`amity.service.routing.evaluate` reads it."""

    id: str
    conditions: dict[str, Any]
    actions: dict[str, Any]
    continue_after: bool = False


@dataclass(frozen=True)
class Setup:
    policies: tuple[PolicyView, ...] = ()
    rules: tuple[RuleView, ...] = ()
    calendars: dict[str, BusinessHours] = field(default_factory=dict)
    # Which facts (amity.service.facts READS_*) any policy's / any rule's conditions look at: the rest
    # is never queried on the message path.
    policy_reads: frozenset[str] = frozenset()
    rule_reads: frozenset[str] = frozenset()

    def hours(self, calendar_id: str | None) -> BusinessHours:
        # A calendar deleted under a rule is a race (deleting one in use is refused): count every hour,
        # as facts.business_hours does.
        if calendar_id is None:
            return BusinessHours.around_the_clock()
        return self.calendars.get(calendar_id) or BusinessHours.around_the_clock()


def load(session: Session) -> Setup:
    policies = tuple(
        PolicyView(p.id, p.calendar_id, p.conditions, p.targets, p.pause_on_hold, p.warn_before_minutes)
        for p in session.scalars(
            select(SlaPolicy)
            .where(SlaPolicy.enabled.is_(True))
            .order_by(SlaPolicy.position, SlaPolicy.created_at, SlaPolicy.id)
        )
    )
    rules = tuple(
        RuleView(r.id, r.conditions, r.actions, r.continue_after)
        for r in session.scalars(
            select(RoutingRule)
            .where(RoutingRule.enabled.is_(True))
            .order_by(RoutingRule.position, RoutingRule.created_at, RoutingRule.id)
        )
    )
    calendars: dict[str, BusinessHours] = {}
    if policies or rules:  # a desk without either never needs business hours on the message path
        for c in session.scalars(select(Calendar)):
            calendars[c.id] = BusinessHours.parse(c.timezone, c.hours, c.holidays)
    return Setup(
        policies,
        rules,
        calendars,
        policy_reads=frozenset(k for p in policies for k in p.conditions if p.conditions.get(k)),
        rule_reads=frozenset(k for r in rules for k in r.conditions if r.conditions.get(k)),
    )


def current(app: App) -> Setup:
    """The set-up as this process knows it (see the module docstring for how fresh)."""
    entry: tuple[int, float, Setup] | None = app.cache.get(KEY)
    now = time.monotonic()
    if entry is not None and entry[0] == _generation and now - entry[1] < TTL_SECONDS:
        return entry[2]
    generation = _generation  # read before loading: a commit during the load makes this copy stale
    with app.db.read() as s:
        setup = load(s)
    app.cache[KEY] = (generation, now, setup)
    return setup


def forget(app: App) -> None:
    """Drop this app's copy (the next message reloads it)."""
    app.cache.pop(KEY, None)


# ---- invalidation ---------------------------------------------------------------------------------
def _mark(_mapper: Mapper[Any], _connection: Any, target: Any) -> None:
    session = object_session(target)
    if session is not None:
        session.info[_CHANGED] = True


def _after_commit(session: Session) -> None:
    global _generation
    if session.info.pop(_CHANGED, False):
        with _lock:
            _generation += 1


for _model in (SlaPolicy, RoutingRule, Calendar):
    for _what in ("after_insert", "after_update", "after_delete"):
        event.listen(_model, _what, _mark)
# A mark left by a rolled-back transaction is harmless: at worst one extra reload after a later commit.
event.listen(Session, "after_commit", _after_commit)
