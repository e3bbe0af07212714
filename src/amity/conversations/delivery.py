"""Sending queued outbound messages: claim, send outside any transaction, record the outcome.

Guarantees (docs/conversations.md, "Delivery"):
- never lost: the delivery row is written in the same transaction as the message; a sweep picks up
  anything due whose job was lost (process died between commit and enqueue) or whose worker died;
- never sent twice by us: a worker claims a row with a conditional UPDATE and a lease, so two workers
  (or a job that runs twice) cannot both send it; a row is only re-sent after its lease ran out;
- the provider gets the row's idempotency key (SMTP Message-ID, ``Idempotency-Key`` header), so a
  re-send after a worker died *during* the provider call is recognised by the receiver;
- failures are shown on the message (``delivery_status = failed`` and the reason), retried with
  exponential backoff up to ``AMITY_DELIVERY_MAX_ATTEMPTS`` unless the provider's refusal is permanent;
- nothing leaves without the consent policy's yes (docs/consent.md): it is asked when a worker has
  claimed the row, so every path that queues a message is covered and a withdrawal made while the
  message waited still counts. A refusal is final (``blocked``, the reason on the message, audited); a
  hold for quiet hours puts the row back as pending, due when they end (``held`` on the message).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update

from amity.channels import registry
from amity.channels.base import Address, DeliveryError, Outbound, OutboundAttachment, Sent
from amity.channels.models import Channel
from amity.consent import links, policy
from amity.conversations.files import read
from amity.conversations.models import Attachment, Conversation, Delivery, Message
from amity.core.actions import SYSTEM, ActionContext, App, perform
from amity.db import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    status: str  # sent | failed | retry | skipped | blocked
    retry_in: float | None = None


def backoff(attempts: int) -> float:
    """Seconds before the next try: 5 s, 10 s, 20 s … capped at an hour."""
    return float(min(5 * 2 ** max(attempts - 1, 0), 3600))


def claim(app: App, delivery_id: int, now: dt.datetime) -> bool:
    with app.db.write_session() as s, s.begin():
        result = s.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.next_attempt_at <= now,
                or_(
                    Delivery.status == "pending",
                    (Delivery.status == "sending") & (Delivery.claimed_until < now),
                ),
            )
            .values(
                status="sending",
                claimed_until=now + dt.timedelta(seconds=app.settings.delivery_lease_seconds),
                attempts=Delivery.attempts + 1,
            )
        )
        won = cast(CursorResult[Any], result).rowcount
    return won == 1


def _outbound(app: App, delivery_id: int) -> tuple[Outbound, int]:
    with app.db.read() as s:
        d = s.get(Delivery, delivery_id)
        msg = s.get(Message, d.message_id) if d else None
        channel = s.get(Channel, d.channel_id) if d else None
        if d is None or msg is None or channel is None or not msg.address:
            raise LookupError(f"delivery {delivery_id} has no message, channel or address")  # FKs forbid it
        conv = s.get(Conversation, msg.conversation_id)
        files = s.scalars(select(Attachment).where(Attachment.message_id == msg.id).order_by(Attachment.id))
        attachments = [
            OutboundAttachment(a.filename, a.content_type, read(app.settings.home, a.storage_path))
            for a in files
        ]
        out = Outbound(
            message_id=msg.id,
            conversation_id=msg.conversation_id,
            channel_id=channel.id,
            channel_type=channel.type,
            config=dict(channel.config),
            to=Address(msg.address["type"], msg.address["value"]),
            text=msg.text,
            html=msg.html,
            subject=msg.subject,
            idempotency_key=d.idempotency_key,
            in_reply_to=msg.in_reply_to,
            references=list(msg.thread_refs or []),
            external_id=msg.external_id,
            reply_token=conv.reply_token if conv else None,
            attachments=attachments,
            list_unsubscribe=(
                links.url_for(app, msg.customer_id) if policy.is_marketing(msg.meta or {}) else None
            ),
        )
        return out, d.attempts


def deliver(app: App, delivery_id: int) -> Outcome:
    now = utcnow()
    if not claim(app, delivery_id, now):
        return Outcome("skipped")  # someone else has it, it is done, or it is not due yet
    decision = _consent(app, delivery_id, now)
    if decision.held and decision.hold_until is not None:
        perform(app, SYSTEM, record_held, delivery_id, decision.reason, decision.hold_until)
        return Outcome("retry", max((decision.hold_until - now).total_seconds(), 1.0))
    if not decision.allowed:
        perform(app, SYSTEM, record_blocked, delivery_id, decision.reason, decision.code)
        return Outcome("blocked")
    out, attempts = _outbound(app, delivery_id)
    try:
        transport = registry.transport_for(app, out.channel_type, out.channel_id, out.config)
        sent = transport.send(out)
    except DeliveryError as exc:
        final = exc.permanent or attempts >= app.settings.delivery_max_attempts
        wait = max(backoff(attempts), exc.retry_after or 0.0)  # never sooner than the provider asked
        perform(app, SYSTEM, record_failure, delivery_id, str(exc)[:2000], final, wait)
        return Outcome("failed") if final else Outcome("retry", wait)
    except Exception as exc:  # a bug or an unexpected network error: keep the message, try again later
        log.exception("delivery %s crashed", delivery_id)
        final = attempts >= app.settings.delivery_max_attempts
        wait = backoff(attempts)
        perform(app, SYSTEM, record_failure, delivery_id, f"{type(exc).__name__}: {exc}"[:2000], final, wait)
        return Outcome("failed") if final else Outcome("retry", wait)
    perform(app, SYSTEM, record_sent, delivery_id, sent)
    return Outcome("sent")


def _consent(app: App, delivery_id: int, now: dt.datetime) -> policy.Decision:
    with app.db.read() as s:
        d = s.get(Delivery, delivery_id)
        msg = s.get(Message, d.message_id) if d else None
        if d is None or msg is None:
            raise LookupError(f"delivery {delivery_id} has no message")  # FKs forbid it
        conv = s.get(Conversation, msg.conversation_id)
        return policy.for_message(
            s,
            customer_id=msg.customer_id,
            channel_type=msg.channel_type,
            meta=dict(msg.meta or {}),
            customer_last_wrote_at=conv.last_inbound_at if conv else None,
            now=now,
            config=app.cache.get("consent.config"),
        )


def record_blocked(ctx: ActionContext, delivery_id: int, reason: str, code: str) -> None:
    """The consent policy said no: never sent, and the agent sees why on the message."""
    d, msg = _rows(ctx, delivery_id)
    d.status, d.done_at, d.claimed_until, d.last_error = "blocked", utcnow(), None, reason
    d.attempts = max(d.attempts - 1, 0)  # nothing was tried
    msg.delivery_status, msg.delivery_error = "blocked", reason
    ctx.audit("message.blocked", "message", msg.id, reason=reason, code=code, customer_id=msg.customer_id)
    ctx.publish(
        "message.updated", conversation_id=msg.conversation_id, message_id=msg.id, delivery_status="blocked"
    )


def record_held(ctx: ActionContext, delivery_id: int, reason: str, until: dt.datetime) -> None:
    """Quiet hours: back to pending, due when they end (the sweep or the scheduled job sends it)."""
    d, msg = _rows(ctx, delivery_id)
    d.status, d.claimed_until, d.next_attempt_at, d.last_error = "pending", None, until, reason
    d.attempts = max(d.attempts - 1, 0)
    msg.delivery_status, msg.delivery_error = "held", reason
    ctx.audit("message.held", "message", msg.id, reason=reason, until=until.isoformat())
    ctx.publish(
        "message.updated", conversation_id=msg.conversation_id, message_id=msg.id, delivery_status="held"
    )


def _rows(ctx: ActionContext, delivery_id: int) -> tuple[Delivery, Message]:
    d = ctx.session.get(Delivery, delivery_id)
    msg = ctx.session.get(Message, d.message_id) if d else None
    if d is None or msg is None:
        raise LookupError(f"delivery {delivery_id} is gone")
    return d, msg


def record_sent(ctx: ActionContext, delivery_id: int, sent: Sent) -> None:
    d, msg = _rows(ctx, delivery_id)
    now = utcnow()
    d.status, d.done_at, d.claimed_until, d.last_error = "sent", now, None, None
    msg.delivery_status = sent.status
    msg.delivery_error = None
    msg.sent_at = now
    if sent.status == "delivered":
        msg.delivered_at = now
    if sent.external_id:
        msg.external_id = sent.external_id
    ctx.audit(
        "message.delivered" if sent.status == "delivered" else "message.dispatched",
        "message",
        msg.id,
        attempts=d.attempts,
        external_id=sent.external_id,
    )
    ctx.publish(
        "message.updated",
        conversation_id=msg.conversation_id,
        message_id=msg.id,
        delivery_status=msg.delivery_status,
    )


def record_failure(ctx: ActionContext, delivery_id: int, reason: str, final: bool, retry_in: float) -> None:
    d, msg = _rows(ctx, delivery_id)
    now = utcnow()
    d.last_error = reason
    d.claimed_until = None
    if final:
        d.status, d.done_at = "failed", now
        msg.delivery_status = "failed"
    else:
        d.status = "pending"
        d.next_attempt_at = now + dt.timedelta(seconds=retry_in)
    msg.delivery_error = reason  # shown on the message while retrying, too
    ctx.audit("message.delivery_failed", "message", msg.id, attempts=d.attempts, final=final, reason=reason)
    ctx.publish(
        "message.updated",
        conversation_id=msg.conversation_id,
        message_id=msg.id,
        delivery_status=msg.delivery_status,
    )


def record_status(
    ctx: ActionContext, channel_id: str, external_id: str, status: str, reason: str | None = None
) -> str | None:
    """A provider's status callback (Twilio ``MessageStatus``, a bounce): delivered or failed later."""
    s = ctx.session
    msg = s.scalar(
        select(Message).where(Message.channel_id == channel_id, Message.external_id == external_id)
    )
    if msg is None or msg.direction != "out":
        return None
    if msg.delivery_status == status or (msg.delivery_status == "failed" and status != "delivered"):
        return msg.id  # a provider repeating itself changes nothing and writes no second audit row
    now = utcnow()
    if status == "delivered":
        msg.delivery_status, msg.delivered_at = "delivered", now
    elif status == "failed":
        msg.delivery_status, msg.delivery_error = "failed", reason or "the provider reported a failure"
    elif status == "sent" and msg.delivery_status == "queued":
        msg.delivery_status, msg.sent_at = "sent", now
    else:
        return msg.id
    ctx.audit("message.status", "message", msg.id, status=status, reason=reason)
    ctx.publish(
        "message.updated",
        conversation_id=msg.conversation_id,
        message_id=msg.id,
        delivery_status=msg.delivery_status,
    )
    return msg.id


def due(app: App, now: dt.datetime, limit: int = 500) -> list[int]:
    """Deliveries that should be running now and are not: lost jobs, expired leases, due retries."""
    with app.db.read() as s:
        return list(
            s.scalars(
                select(Delivery.id)
                .where(
                    Delivery.next_attempt_at <= now,
                    or_(
                        Delivery.status == "pending",
                        (Delivery.status == "sending") & (Delivery.claimed_until < now),
                    ),
                )
                .order_by(Delivery.next_attempt_at)
                .limit(limit)
            )
        )
