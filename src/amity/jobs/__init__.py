"""Background work (huey): outbound delivery with retries, and the sweep that makes it never lost.

Storage is SQLite in ``AMITY_HOME/jobs.db`` by default and Redis when ``AMITY_REDIS_URL`` is set.
``amity serve`` runs the consumer in-process (threads) beside the web app; ``amity worker`` runs it
alone when scaling out. Jobs only carry ids: the database is the truth, the queue just says "look".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from amity.core.actions import App
from amity.core.bus import DomainEvent
from amity.db import utcnow

log = logging.getLogger(__name__)


class _EmbeddedConsumer(Consumer):  # type: ignore[misc]
    # Signals belong to the process's owner (uvicorn, or ``amity worker``), not to the embedded consumer.
    def _set_signal_handlers(self) -> None:
        pass


class Jobs:
    def __init__(self, app: App) -> None:
        self.app = app
        s = app.settings
        huey: Huey
        if s.redis_url:
            huey = RedisHuey("amity", url=s.redis_url, immediate=s.jobs_immediate, utc=True)
        else:
            s.home.mkdir(parents=True, exist_ok=True)
            huey = SqliteHuey("amity", filename=str(s.home / "jobs.db"), immediate=s.jobs_immediate, utc=True)
        self.huey = huey
        self._deliver = huey.task(name="deliver")(self._run_delivery)
        self._consumer: Consumer | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        # Other capabilities' sweeps (outgoing webhooks…) run on the same fast loop as deliveries.
        self.sweepers: list[Callable[[], object]] = []

    # ---- producing ---------------------------------------------------------------------------------
    def on_event(self, event: DomainEvent) -> None:
        if event.name == "delivery.queued":
            self.enqueue_delivery(int(event.data["delivery_id"]))

    def enqueue_delivery(self, delivery_id: int, delay: float | None = None) -> None:
        try:
            if delay:
                self._deliver.schedule((delivery_id,), delay=delay)
            else:
                self._deliver(delivery_id)
        except Exception:
            # The row is committed; the sweep will find it. Losing the queue entry must not lose the send.
            log.exception("could not enqueue delivery %s; the sweep will pick it up", delivery_id)

    # ---- consuming ---------------------------------------------------------------------------------
    def _run_delivery(self, delivery_id: int) -> str:
        from amity.conversations.delivery import deliver

        outcome = deliver(self.app, delivery_id)
        if outcome.status == "retry" and outcome.retry_in is not None:
            self.enqueue_delivery(delivery_id, delay=outcome.retry_in)
        return outcome.status

    def sweep(self) -> int:
        """Run every due delivery that has no job (lost on a crash, or its worker died)."""
        from amity.conversations.delivery import deliver, due

        n = 0
        for delivery_id in due(self.app, utcnow()):
            outcome = deliver(self.app, delivery_id)
            n += outcome.status != "skipped"
            if outcome.status == "retry" and outcome.retry_in is not None:
                self.enqueue_delivery(delivery_id, delay=outcome.retry_in)
        return n

    def start(self, workers: int = 2) -> None:
        with self._lock:
            if self._consumer is not None or self.huey.immediate:
                return
            # Poll often: an idle SQLite queue is cheap to ask, and a reply should leave within a second.
            self._consumer = _EmbeddedConsumer(
                self.huey,
                workers=workers,
                worker_type="thread",
                periodic=True,
                initial_delay=0.05,
                backoff=1.5,
                max_delay=0.5,
            )
            self._consumer.start()
            self._stopping.clear()
        # huey's periodic tasks tick once a minute; expired leases and lost jobs deserve faster.
        threading.Thread(target=self._sweep_loop, name="amity-sweep", daemon=True).start()

    def _sweep_loop(self) -> None:
        while True:
            for sweep in (self.sweep, *self.sweepers):
                try:
                    sweep()
                except Exception:
                    log.exception("sweep %s failed; trying again", getattr(sweep, "__name__", sweep))
            if self._stopping.wait(self.app.settings.sweep_seconds):
                return

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            if self._consumer is not None:
                self._consumer.stop(graceful=True)
                self._consumer = None


def install(app: App) -> Jobs:
    jobs: Jobs | None = app.cache.get("jobs")
    if jobs is None:
        jobs = app.cache["jobs"] = Jobs(app)
        app.bus.subscribe("delivery.queued", jobs.on_event)
    return jobs


def jobs_of(app: App) -> Any:
    return app.cache["jobs"]
