"""Retention: what has been kept longer than its rule allows is deleted or emptied, by a scheduled
sweep (docs/privacy.md, "Retention").

- traits: each trait definition's ``retention_days`` (the trait schema), counted from when the value
  was observed; the value leaves the profile and the history;
- events: rules per event type (``*`` for every type without its own rule), deleted;
- messages: rules per channel type (``*`` likewise), emptied as by an erasure (the rows stay for the
  KPIs; text, addresses and attachments go);
- access exports: deleted once their download period is over.

Every run is one action with an audit row, and a ``privacy_retention_runs`` row with its counts. The
clock is a parameter, so tests freeze it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from amity.conversations import privacy as conversation_data
from amity.conversations.privacy import HASH_INFO, HOME_KEY
from amity.core.actions import ActionContext, App, perform
from amity.customers import privacy as customer_data
from amity.db import utcnow
from amity.privacy import export
from amity.privacy.request_models import PrivacyRequest, RetentionRule, RetentionRun
from amity.privacy.runner import ACTOR

EVERY_SECONDS = 3600  # the sweep loop asks often; retention itself runs at most hourly


def rules(ctx_session: Any) -> list[dict[str, Any]]:
    rows = ctx_session.scalars(select(RetentionRule).order_by(RetentionRule.kind, RetentionRule.target))
    return [
        {
            "kind": r.kind,
            "target": r.target,
            "days": r.days,
            "updated_by": r.updated_by,
            "updated_at": r.updated_at.isoformat(),
        }
        for r in rows
    ]


def replace_rules(ctx: ActionContext, new: list[dict[str, Any]], now: dt.datetime) -> list[dict[str, Any]]:
    s = ctx.session
    seen: set[tuple[str, str]] = set()
    for i, r in enumerate(new):
        key = (r["kind"], r["target"])
        if key in seen:
            from amity.core.actions import Invalid

            raise Invalid(f"{r['kind']} '{r['target']}' appears twice", field=f"rules[{i}].target")
        seen.add(key)
    s.execute(delete(RetentionRule))
    for r in new:
        s.add(
            RetentionRule(
                kind=r["kind"], target=r["target"], days=r["days"], updated_by=ctx.actor.label, updated_at=now
            )
        )
    s.flush()
    ctx.audit("privacy.retention.updated", "retention", "rules", rules=new)
    return rules(s)


def sweep(ctx: ActionContext, home: str, secret: str, now: dt.datetime) -> dict[str, int]:
    s = ctx.session
    s.info[HOME_KEY], s.info[HASH_INFO] = home, secret
    counts: dict[str, int] = {"traits": customer_data.expire_traits(s, now), "events": 0, "messages": 0}
    all_rules = list(s.scalars(select(RetentionRule)))
    for kind in ("event", "message"):
        mine = [r for r in all_rules if r.kind == kind]
        specific = [r.target for r in mine if r.target != "*"]
        for r in mine:
            cutoff = now - dt.timedelta(days=r.days)
            target = None if r.target == "*" else r.target
            if kind == "event":
                counts["events"] += customer_data.expire_events(s, target, cutoff, specific)
            else:
                counts["messages"] += conversation_data.expire_messages(s, target, cutoff, specific)
    stale = s.execute(
        select(PrivacyRequest.id, PrivacyRequest.export_path).where(
            PrivacyRequest.export_path.is_not(None), PrivacyRequest.export_expires_at < now
        )
    ).all()
    for rid, _ in stale:
        req = s.get(PrivacyRequest, rid)
        if req is not None:
            req.export_path = None
    counts["exports"] = len(stale)
    s.add(RetentionRun(ran_at=now, counts=counts))
    ctx.audit("privacy.retention.swept", "retention", now.isoformat(), **counts)
    paths = [p for _, p in stale if p]
    if paths:
        from sqlalchemy import event

        @event.listens_for(s, "after_commit", once=True)
        def _remove(_session: Any) -> None:
            for p in paths:
                export.remove(Path(home), p)

    return counts


def run(app: App, now: dt.datetime | None = None) -> dict[str, int]:
    return perform(app, ACTOR, sweep, str(app.settings.home), str(app.cache["secret_key"]), now or utcnow())


def due(app: App, now: dt.datetime) -> bool:
    with app.db.read() as s:
        last = s.scalar(select(RetentionRun.ran_at).order_by(RetentionRun.ran_at.desc()).limit(1))
    return last is None or (now - last).total_seconds() >= EVERY_SECONDS
