"""Outgoing webhooks: domain events from the catalogue are POSTed, signed, to subscribed URLs
(docs/webhooks.md). Loaded as a plug-in: ``install(app)`` subscribes to the bus and registers the huey
jobs, and ``router`` is the admin API (:mod:`amity.channels.outgoing_api`).

Guarantees, as for outbound messages (conversations/delivery.py):
- once a delivery row is committed it is not lost: the job only carries its id, and a periodic sweep
  runs every row that is due but has no job (lost on a crash) or whose worker died (lease expired);
- a row is posted by one worker at a time: it is claimed with a conditional UPDATE, so a job that
  runs twice, or a job racing the sweep, posts it once;
- every attempt carries the same ``X-Amity-Delivery`` key and byte-identical body, so a receiver can
  drop a repeat after we crashed between its 2xx and our recording it;
- anything but a 2xx is retried with exponential backoff up to ``AMITY_DELIVERY_MAX_ATTEMPTS``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

import httpx2
import orjson
from sqlalchemy import CursorResult, or_, select, update

from amity import __version__
from amity.channels import signing
from amity.channels.models import WebhookDelivery, WebhookSubscription
from amity.channels.outgoing_api import CATALOGUE, SUBSCRIPTIONS_CHANGED, router
from amity.core.actions import SYSTEM, ActionContext, App, perform
from amity.core.bus import DomainEvent
from amity.db import utcnow
from amity.ids import new_id

__all__ = ["CATALOGUE", "Outcome", "Webhooks", "backoff", "deliver", "due", "install", "router"]

log = logging.getLogger(__name__)

# Longer than any one attempt can take (the client's timeout), so a live worker never loses its claim.
LEASE = dt.timedelta(minutes=2)
TIMEOUT_SECONDS = 10.0
KEPT_RESPONSE_BYTES = 500
LISTENING_TTL = 2.0  # seconds a process trusts its "anyone subscribed?" answer
HTTP_CLIENT_KEY = "webhook_http_client"  # tests put an httpx2.Client over a MockTransport here


_posting: ContextVar[bool] = ContextVar("amity_webhook_posting", default=False)


class _OriginOnly(logging.Filter):
    """httpx2 logs every request's full URL at INFO, and a receiver's URL can hold a credential in its
    path (``/services/T0/B0/<token>``). While we post a webhook, its records show the origin only;
    every other use of httpx2 logs as before."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _posting.get() and isinstance(record.args, tuple):
            record.args = tuple(
                _origin(str(a)) + "/…" if isinstance(a, httpx2.URL) else a for a in record.args
            )
        return True


_ORIGIN_ONLY = _OriginOnly()


@dataclass(frozen=True)
class Outcome:
    status: str  # delivered | retry | failed | cancelled | skipped
    retry_in: float | None = None


def backoff(attempts: int) -> float:
    """Seconds before the next try: 30 s, 1 min, 2 min, 4 min … capped at 6 h."""
    return float(min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


def _json_safe(data: dict[str, Any]) -> dict[str, Any]:
    # Event data is stored as JSON and must read back as exactly what was signed on the first try.
    out: dict[str, Any] = orjson.loads(orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS))
    return out


def _wants(sub_events: list[str], event: str) -> bool:
    return not sub_events or event in sub_events


# ---- producing: one row per (event, subscription) -------------------------------------------------
def queue_deliveries(ctx: ActionContext, event: str, data: dict[str, Any]) -> list[int]:
    """Rows for every enabled subscription that wants ``event``; one audit row for the lot."""
    s = ctx.session
    subs = [
        sid
        for sid, events in s.execute(
            select(WebhookSubscription.id, WebhookSubscription.events).where(
                WebhookSubscription.enabled.is_(True)
            )
        )
        if _wants(events, event)
    ]
    if not subs:
        return []
    now = utcnow()
    event_id = new_id("whe")
    payload = {"id": event_id, "event": event, "created_at": now.isoformat(), "data": data}
    rows = [
        WebhookDelivery(
            subscription_id=sid,
            event=event,
            payload=payload,
            idempotency_key=uuid.uuid4().hex,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for sid in subs
    ]
    s.add_all(rows)
    s.flush()
    ids = [r.id for r in rows]
    ctx.audit("webhook.queued", "event", event_id, event=event, subscriptions=subs, deliveries=ids)
    return ids


# ---- consuming: claim, post outside any transaction, record ---------------------------------------
def claim(app: App, delivery_id: int, now: dt.datetime) -> bool:
    with app.db.write_session() as s, s.begin():
        result = s.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.next_attempt_at <= now,
                or_(
                    WebhookDelivery.status == "pending",
                    (WebhookDelivery.status == "sending") & (WebhookDelivery.claimed_until < now),
                ),
            )
            .values(status="sending", claimed_until=now + LEASE, attempts=WebhookDelivery.attempts + 1)
        )
        won = cast(CursorResult[Any], result).rowcount
    return won == 1


def http_client(app: App) -> httpx2.Client:
    client = app.cache.get(HTTP_CLIENT_KEY)
    if client is None:
        # Redirects are not followed: a receiver that moved must be re-subscribed by an admin, so
        # signed events never travel to a URL nobody configured.
        client = app.cache[HTTP_CLIENT_KEY] = httpx2.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
    assert isinstance(client, httpx2.Client)
    return client


@dataclass(frozen=True)
class _Attempt:
    status: int | None
    error: str | None


def _post(app: App, url: str, secret: str, d: WebhookDelivery) -> _Attempt:
    body = orjson.dumps(d.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"Amity-Webhooks/{__version__}",
        signing.HEADER: signing.sign(secret, body),
        "X-Amity-Event": d.event,
        "X-Amity-Delivery": d.idempotency_key,
    }
    origin = _origin(url)
    token = _posting.set(True)
    try:
        with http_client(app).stream("POST", url, content=body, headers=headers) as r:
            kept = b""
            for chunk in r.iter_bytes():  # a receiver's answer is kept short, however long it is
                kept += chunk
                if len(kept) >= KEPT_RESPONSE_BYTES:
                    break
        if 200 <= r.status_code < 300:
            return _Attempt(r.status_code, None)
        text = kept[:KEPT_RESPONSE_BYTES].decode("utf-8", "replace")
        return _Attempt(r.status_code, f"{origin} answered {r.status_code}: {text}".strip())
    except (httpx2.HTTPError, httpx2.InvalidURL, httpx2.StreamError) as exc:
        # The URL can carry a credential in its path: errors name the origin only.
        return _Attempt(None, f"could not reach {origin}: {type(exc).__name__}")
    except Exception as exc:  # a bug or an odd network failure: keep the row, try again later
        log.exception("webhook delivery %s crashed", d.id)
        return _Attempt(None, f"{type(exc).__name__} while posting to {origin}")
    finally:
        _posting.reset(token)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}"


def deliver(app: App, delivery_id: int, now: dt.datetime | None = None) -> Outcome:
    now = now or utcnow()
    if not claim(app, delivery_id, now):
        return Outcome("skipped")  # someone else has it, it is done, or it is not due yet
    with app.db.read() as s:
        d = s.get(WebhookDelivery, delivery_id)
        sub = s.get(WebhookSubscription, d.subscription_id) if d else None
    if d is None or sub is None:
        return Outcome("skipped")  # the subscription was deleted under us
    if not sub.enabled:
        perform(app, SYSTEM, record_outcome, delivery_id, "cancelled", None, "the subscription is disabled")
        return Outcome("cancelled")
    attempt = _post(app, sub.url, sub.secret, d)
    if attempt.error is None:
        perform(app, SYSTEM, record_outcome, delivery_id, "delivered", attempt.status, None)
        return Outcome("delivered")
    if d.attempts >= app.settings.delivery_max_attempts:
        perform(app, SYSTEM, record_outcome, delivery_id, "failed", attempt.status, attempt.error)
        return Outcome("failed")
    wait = backoff(d.attempts)
    retry_at = now + dt.timedelta(seconds=wait)
    perform(app, SYSTEM, record_retry, delivery_id, attempt.status, attempt.error, retry_at)
    log.info("webhook delivery %s will retry in %.0f s (attempt %s)", delivery_id, wait, d.attempts)
    return Outcome("retry", wait)


def _claimed(ctx: ActionContext, delivery_id: int) -> WebhookDelivery | None:
    d = ctx.session.get(WebhookDelivery, delivery_id)
    # Only the claim holder records: a row deleted or re-claimed meanwhile is left as it is.
    return d if d is not None and d.status == "sending" else None


def record_outcome(
    ctx: ActionContext, delivery_id: int, status: str, response_status: int | None, error: str | None
) -> None:
    d = _claimed(ctx, delivery_id)
    if d is None:
        return
    d.status, d.response_status, d.last_error = status, response_status, error
    d.claimed_until, d.done_at = None, utcnow()
    ctx.audit(
        f"webhook.{status}",
        "webhook",
        d.subscription_id,
        delivery_id=d.id,
        event=d.event,
        attempts=d.attempts,
        response_status=response_status,
    )


def record_retry(
    ctx: ActionContext,
    delivery_id: int,
    response_status: int | None,
    error: str | None,
    retry_at: dt.datetime,
) -> None:
    # No audit row per retry: the row itself keeps attempts, last answer and next time, and a busy
    # receiver being down for an hour would otherwise bury the audit trail. The final outcome is audited.
    d = _claimed(ctx, delivery_id)
    if d is None:
        return
    d.status, d.response_status, d.last_error = "pending", response_status, error
    d.claimed_until = None
    d.next_attempt_at = retry_at


def due(app: App, now: dt.datetime, limit: int = 500) -> list[int]:
    """Rows that should be running now and are not: lost jobs, expired leases, due retries."""
    with app.db.read() as s:
        return list(
            s.scalars(
                select(WebhookDelivery.id)
                .where(
                    WebhookDelivery.next_attempt_at <= now,
                    or_(
                        WebhookDelivery.status == "pending",
                        (WebhookDelivery.status == "sending") & (WebhookDelivery.claimed_until < now),
                    ),
                )
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(limit)
            )
        )


# ---- wiring: bus -> rows -> huey ------------------------------------------------------------------
class Webhooks:
    def __init__(self, app: App) -> None:
        self.app = app
        jobs = app.cache.get("jobs")
        if jobs is None:
            from amity import jobs as jobs_module

            jobs = jobs_module.install(app)
        huey = jobs.huey
        self._task = huey.task(name="webhook_deliver")(self.run)
        self._listening: tuple[float, bool] | None = None  # (monotonic time asked, anyone listening)
        jobs.sweepers.append(self.sweep)  # the worker's fast sweep loop, beside message deliveries

    def on_event(self, event: DomainEvent) -> None:
        if event.name == SUBSCRIPTIONS_CHANGED:
            self._listening = None
            return
        if event.name not in CATALOGUE or not self._anyone_listening():
            return
        ids = perform(self.app, SYSTEM, queue_deliveries, event.name, _json_safe(event.data))
        for delivery_id in ids:
            self.enqueue(delivery_id)

    def _anyone_listening(self) -> bool:
        # A read first, so an install without subscriptions never opens a write transaction per event;
        # and the answer is kept briefly, so a busy install does not ask on every event either. A change
        # in this process clears it at once (SUBSCRIPTIONS_CHANGED); one made by another process is seen
        # within LISTENING_TTL seconds.
        now = time.monotonic()
        if self._listening is not None and now - self._listening[0] < LISTENING_TTL:
            return self._listening[1]
        with self.app.db.read() as s:
            found = (
                s.scalar(select(WebhookSubscription.id).where(WebhookSubscription.enabled.is_(True)).limit(1))
                is not None
            )
        self._listening = (now, found)
        return found

    def enqueue(self, delivery_id: int, delay: float | None = None) -> None:
        try:
            if delay:
                self._task.schedule((delivery_id,), delay=delay)
            else:
                self._task(delivery_id)
        except Exception:
            # The row is committed; the sweep finds it. Losing the queue entry must not lose the event.
            log.exception("could not enqueue webhook delivery %s; the sweep will pick it up", delivery_id)

    def run(self, delivery_id: int) -> str:
        outcome = deliver(self.app, delivery_id)
        if outcome.status == "retry" and outcome.retry_in is not None:
            self.enqueue(delivery_id, delay=outcome.retry_in)
        return outcome.status

    def sweep(self) -> int:
        """Run every due row that has no job (lost on a crash) or whose worker died."""
        n = 0
        for delivery_id in due(self.app, utcnow()):
            outcome = deliver(self.app, delivery_id)
            n += outcome.status != "skipped"
            if outcome.status == "retry" and outcome.retry_in is not None:
                self.enqueue(delivery_id, delay=outcome.retry_in)
        return n


def install(app: App) -> Webhooks:
    hooks: Webhooks | None = app.cache.get("webhooks")
    if hooks is None:
        hooks = app.cache["webhooks"] = Webhooks(app)
        app.bus.subscribe("*", hooks.on_event)
        httpx_log = logging.getLogger("httpx2")
        if _ORIGIN_ONLY not in httpx_log.filters:
            httpx_log.addFilter(_ORIGIN_ONLY)
    return hooks
