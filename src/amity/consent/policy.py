"""The one policy decision every outbound send and every profiling use asks (docs/consent.md).

    decision = decide(s, customer_id, "marketing", "email", kind="campaign", urgent=False,
                      now=utcnow(), in_reply_to_customer_conversation=False)

The outbox (``conversations.delivery``) asks it for every message when a worker claims it, so every
path that queues a message is covered; campaign, survey and notification builders may ask first to
skip work, and personalisation features ask :func:`may_profile`.

Rules, in order:
1. The purpose must exist. The decisive record is the person's latest for the purpose on this channel
   type, else for every channel (see :mod:`amity.consent.state`); merged profiles' records count.
2. A withdrawal or denial blocks. Withdrawing *service* on a channel means "do not contact me there":
   proactive service messages stop, and so do replies, except a reply in a conversation where the
   customer wrote *after* withdrawing (they asked to be answered). A grant allows on its lawful basis
   (if the purpose still allows it). No record: the purpose's default basis (service: contract) or
   blocked for want of consent (marketing, personalisation, analytics, partner sharing).
3. Quiet hours (default 21:00-08:00 in the customer's ``timezone`` trait, else the business zone)
   hold Amity's proactive sends (kinds notification, survey, campaign) until they end, unless urgent
   or the customer is writing now (wrote within ``active_minutes``). A reply is never held: the
   customer asked and waits, and a person answering by hand chooses the moment. Profiling is not a
   send and is never held.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from amity.consent import purposes, queries, state
from amity.consent.config import ConsentSettings, get_config, zone
from amity.core.actions import NotFound
from amity.customers import queries as customers
from amity.db import utcnow

PROACTIVE_KINDS = ("notification", "survey", "campaign")
SEND_KINDS = ("reply", *PROACTIVE_KINDS)
USE_KINDS = ("profiling",)
KINDS = SEND_KINDS + USE_KINDS
VERB = {"withdrawn": "withdrew", "denied": "refused"}


@dataclass(frozen=True)
class Decision:
    allowed: bool  # may it go now?
    reason: str  # for the agent: why it may not, or on which basis it may
    hold_until: dt.datetime | None = None  # set when it is only held (quiet hours): send then
    code: str = "allowed"  # allowed | held | unknown_purpose | unknown_customer | no_consent | withdrawn | denied | basis
    lawful_basis: str | None = None

    @property
    def blocked(self) -> bool:
        return not self.allowed and self.hold_until is None

    @property
    def held(self) -> bool:
        return not self.allowed and self.hold_until is not None


def decide(
    s: Session,
    customer_id: str,
    purpose: str,
    channel_type: str | None,
    *,
    kind: str,
    urgent: bool,
    now: dt.datetime,
    in_reply_to_customer_conversation: bool,
    customer_last_wrote_at: dt.datetime | None = None,
    config: ConsentSettings | None = None,
) -> Decision:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    spec = purposes.get(s, purpose)
    if spec is None:
        return Decision(False, f"unknown purpose '{purpose}'", code="unknown_purpose")
    try:
        people = customers.profile_ids(s, customer_id)
    except NotFound:
        return Decision(False, f"no customer {customer_id}", code="unknown_customer")
    current = state.latest(queries.entries(s, people, purpose))
    rec = state.effective(current, purpose, channel_type)
    where = f" on {channel_type}" if channel_type else ""
    is_reply = kind == "reply" and in_reply_to_customer_conversation
    basis: str
    if rec is not None and rec.status in ("withdrawn", "denied"):
        wrote_since = customer_last_wrote_at is not None and customer_last_wrote_at > rec.at
        if not (is_reply and spec.default_basis is not None and wrote_since):
            return Decision(
                False,
                f"the customer {VERB[rec.status]} {purpose}{_scope(rec)} on {rec.at:%Y-%m-%d} ({rec.source})",
                code=rec.status,
            )
        basis = spec.default_basis or "contract"
        why = f"{purpose} on a {basis} basis: the customer wrote after withdrawing"
    elif rec is not None:
        if rec.lawful_basis not in spec.lawful_bases:
            return Decision(
                False, f"{purpose} no longer allows the basis {rec.lawful_basis} of its grant", code="basis"
            )
        basis = rec.lawful_basis
        why = f"{purpose} granted{_scope(rec)} on {rec.at:%Y-%m-%d} ({basis})"
    elif spec.default_basis is not None:
        basis = spec.default_basis
        why = f"{purpose} on a {basis} basis"
    else:
        return Decision(False, f"no {purpose} consent{where}", code="no_consent")

    if kind in PROACTIVE_KINDS and not urgent:
        cfg = config or get_config()
        writing_now = customer_last_wrote_at is not None and now - customer_last_wrote_at <= dt.timedelta(
            minutes=cfg.active_minutes
        )
        if not writing_now:
            tz = customer_zone(s, customer_id, cfg)
            until = quiet_until(now, tz, cfg)
            if until is not None:
                local = until.astimezone(tz)
                return Decision(
                    False,
                    f"held for quiet hours until {local:%H:%M} {tz.key}",
                    hold_until=until,
                    code="held",
                    lawful_basis=basis,
                )
    return Decision(True, why, code="allowed", lawful_basis=basis)


def _scope(rec: state.Entry) -> str:
    return f" on {rec.channel}" if rec.channel else " on every channel"


def customer_zone(s: Session, customer_id: str, cfg: ConsentSettings) -> ZoneInfo:
    """The customer's ``timezone`` trait when it names a real zone, else the business default."""
    name = customers.current_traits(s, customer_id).get("timezone")
    if isinstance(name, str) and name:
        try:
            return zone(name)
        except ValueError:
            pass  # a bad trait value must not stop the message: the business zone is a safe guess
    return zone(cfg.default_timezone)


def quiet_until(now: dt.datetime, tz: ZoneInfo, cfg: ConsentSettings) -> dt.datetime | None:
    """When quiet hours end (UTC) if ``now`` falls inside them in ``tz``, else None."""
    start, end = cfg.quiet_start, cfg.quiet_end
    if start == end:
        return None  # quiet hours switched off
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + dt.timedelta(days=1)
    wake = dt.datetime.combine(day, end, tzinfo=tz)
    # Across a DST change the wall-clock end may not exist or repeat: its UTC instant is still after now.
    return max(wake.astimezone(dt.UTC), now.astimezone(dt.UTC) + dt.timedelta(seconds=1))


def may_profile(s: Session, customer_id: str, *, now: dt.datetime | None = None) -> bool:
    """May personalisation (value scores, suggestions, next best action) use this customer's data?"""
    return decide(
        s,
        customer_id,
        "personalisation",
        None,
        kind="profiling",
        urgent=False,
        now=now or utcnow(),
        in_reply_to_customer_conversation=False,
    ).allowed


# ---- the outbox's question -----------------------------------------------------------------------
# What a queued message says about itself, in ``messages.meta`` (set by whoever queues it: campaigns,
# surveys, notifications). Absent keys mean an agent's or a system's service message.
META_PURPOSE, META_KIND, META_URGENT = "purpose", "kind", "urgent"


def for_message(
    s: Session,
    *,
    customer_id: str,
    channel_type: str,
    meta: dict[str, object],
    customer_last_wrote_at: dt.datetime | None,
    now: dt.datetime,
    config: ConsentSettings | None = None,
) -> Decision:
    """The decision for one queued message. What it is comes from its label (:func:`label`); an
    unlabelled message is someone answering or writing by hand: a service reply, on a contract basis
    where the customer wrote in the conversation, and never held for quiet hours."""
    purpose = meta.get(META_PURPOSE)
    kind = meta.get(META_KIND)
    if not isinstance(kind, str) or kind not in SEND_KINDS:
        kind = "reply"
    wrote = customer_last_wrote_at is not None
    return decide(
        s,
        customer_id,
        purpose if isinstance(purpose, str) and purpose else "service",
        channel_type,
        kind=kind,
        urgent=meta.get(META_URGENT) is True,
        now=now,
        in_reply_to_customer_conversation=wrote and kind == "reply",
        customer_last_wrote_at=customer_last_wrote_at,
        config=config,
    )


def label(purpose: str = "service", kind: str = "notification", *, urgent: bool = False) -> dict[str, object]:
    """What a sender puts in ``messages.meta`` of a message it queues, so the outbox asks the policy
    the right question: ``msg.meta = {**msg.meta, **label("marketing", "campaign")}``."""
    if kind not in SEND_KINDS:
        raise ValueError(f"kind must be one of {', '.join(SEND_KINDS)}")
    return {META_PURPOSE: purpose, META_KIND: kind, META_URGENT: urgent}


def is_marketing(meta: dict[str, object]) -> bool:
    """Messages that carry one-click unsubscribe (List-Unsubscribe, RFC 8058)."""
    return meta.get(META_PURPOSE) == "marketing"
