"""Telling people an SLA is about to be missed, or was: each warning and each breach exactly once.

``check_breaches`` runs every minute (a huey periodic task) and may run twice at once on two workers:
each flag is claimed with a conditional UPDATE (``... WHERE breached_at IS NULL``) and only the run
that changed the row audits it and publishes the event.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update

from amity.core.actions import SYSTEM, ActionContext, App, perform
from amity.service.models import SlaClock, SlaPolicy

log = logging.getLogger(__name__)
DEFAULT_WARN = 15  # minutes, for a clock whose policy was deleted since it started


def _flag(ctx: ActionContext, clock_id: int, kind: str, now: dt.datetime, warn_minutes: int) -> bool:
    """``kind`` is "warning" or "breached"; True if this call was the one that flagged the clock."""
    col = SlaClock.breached_at if kind == "breached" else SlaClock.warned_at
    limit = now if kind == "breached" else now + dt.timedelta(minutes=warn_minutes)
    values: dict[str, Any] = {col.key: now}
    if kind == "breached":
        # A breach seen first (the check was late) needs no warning after it.
        values["warned_at"] = func.coalesce(SlaClock.warned_at, now)
    result = ctx.session.execute(
        update(SlaClock)
        .where(
            SlaClock.id == clock_id,
            col.is_(None),
            SlaClock.met_at.is_(None),
            SlaClock.due_at.is_not(None),
            SlaClock.due_at <= limit,
        )
        .values(**values)
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        return False
    clock = ctx.session.get(SlaClock, clock_id)
    # The UPDATE just matched it, so it exists and has a due time.
    assert clock is not None
    assert clock.due_at is not None
    details = {
        "target": clock.target,
        "policy_id": clock.policy_id,
        "due_at": clock.due_at.isoformat(),
    }
    ctx.audit(f"conversation.sla_{kind}", "conversation", clock.conversation_id, **details)
    ctx.publish(f"conversation.sla_{kind}", conversation_id=clock.conversation_id, **details)
    return True


def check_breaches(app: App, now: dt.datetime) -> dict[str, int]:
    """Warn about targets due within their policy's warning time, and flag those past due."""
    with app.db.read() as s:
        widest = s.scalar(select(func.max(SlaPolicy.warn_before_minutes))) or 0
        horizon = now + dt.timedelta(minutes=max(widest, DEFAULT_WARN))
        rows = s.execute(
            select(
                SlaClock.id,
                SlaClock.due_at,
                SlaClock.warned_at,
                SlaClock.breached_at,
                SlaPolicy.warn_before_minutes,
            )
            .outerjoin(SlaPolicy, SlaPolicy.id == SlaClock.policy_id)
            .where(
                SlaClock.due_at.is_not(None),
                SlaClock.due_at <= horizon,
                SlaClock.met_at.is_(None),
                SlaClock.breached_at.is_(None),
            )
            .order_by(SlaClock.due_at)
        ).all()
    counts = {"warning": 0, "breached": 0}
    for clock_id, due_at, warned_at, _breached, warn_minutes in rows:
        if due_at is None:  # the query asked for due times; this keeps the type checker sure of it
            continue
        warn = DEFAULT_WARN if warn_minutes is None else int(warn_minutes)
        try:
            if due_at <= now:
                counts["breached"] += perform(app, SYSTEM, _flag, clock_id, "breached", now, warn)
            elif warned_at is None and due_at - dt.timedelta(minutes=warn) <= now:
                counts["warning"] += perform(app, SYSTEM, _flag, clock_id, "warning", now, warn)
        except Exception:
            # One bad row must not stop the others from being flagged; the next run tries it again.
            log.exception("could not flag SLA clock %s", clock_id)
    return counts


def install(app: App) -> None:
    jobs = app.cache.get("jobs")
    if jobs is None:
        return
    from huey import crontab

    from amity.service.sla import now_of

    def sla_check() -> dict[str, int]:
        return check_breaches(app, now_of(app))

    jobs.huey.periodic_task(crontab(minute="*"), name="service.sla_check")(sla_check)
