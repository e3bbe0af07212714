"""What ``amity.privacy.install(app)`` wires: holders, the ingest guard, jobs and sweeps."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event

from amity import jobs as jobs_module
from amity.core.actions import App
from amity.core.bus import DomainEvent
from amity.customers import service as customer_service
from amity.db import utcnow

log = logging.getLogger(__name__)


def register_holders() -> None:
    """The holders this capability writes for others (customers, conversations, channels, service)
    and its own; importing each module registers it (idempotent)."""
    import amity.channels.privacy
    import amity.conversations.privacy
    import amity.customers.privacy
    import amity.privacy.erasure
    import amity.service.privacy  # noqa: F401


class PrivacyJobs:
    def __init__(self, app: App) -> None:
        from amity.privacy import links, retention, runner

        self.app = app
        jobs = jobs_module.install(app)
        self._run = jobs.huey.task(name="privacy_request")(self.run)
        self._link = jobs.huey.task(name="privacy_link")(
            lambda kind, value: links.send_link(app, kind, value)
        )
        jobs.sweepers.append(self.sweep)
        self._runner, self._retention = runner, retention

    def run(self, request_id: str) -> str:
        return str(self._runner.run(self.app, request_id))

    def on_ready(self, event: DomainEvent) -> None:
        self.enqueue(str(event.data["request_id"]))

    def enqueue(self, request_id: str) -> None:
        try:
            self._run(request_id)
        except Exception:
            # The request is committed as verified: the sweep finds it. Losing the job loses nothing.
            log.exception("could not enqueue privacy request %s; the sweep will pick it up", request_id)

    def send_link(self, kind: str, value: str) -> None:
        try:
            self._link(kind, value)
        except Exception:
            log.exception("could not send a privacy link")

    def sweep(self) -> int:
        now = utcnow()
        n = 0
        for request_id in self._runner.due(self.app, now):
            n += self._runner.run(self.app, request_id, now) == "completed"
        if self._retention.due(self.app, now):
            self._retention.run(self.app, now)
        return n


def _secure_delete(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA secure_delete=ON")
    cur.close()


def zero_freed_space(app: App) -> None:
    """SQLite keeps a deleted or overwritten row's bytes in free space until reused; with
    ``secure_delete`` they are zeroed as they are freed, so an erased value is not left readable in
    the file. Set on every checkout: connections already pooled get it too."""
    if app.db.is_sqlite and not event.contains(app.db.engine.pool, "checkout", _secure_delete):
        event.listen(app.db.engine.pool, "checkout", _secure_delete)


def install(app: App) -> Any:
    register_holders()
    zero_freed_space(app)
    from amity.privacy import tombstones

    customer_service.INGEST_GUARDS["privacy.tombstones"] = tombstones.guard
    found: PrivacyJobs | None = app.cache.get("privacy.jobs")
    if found is None:
        found = app.cache["privacy.jobs"] = PrivacyJobs(app)
        app.bus.subscribe("privacy.request.ready", found.on_ready)
    return found


def jobs_of(app: App) -> PrivacyJobs:
    found: PrivacyJobs = app.cache["privacy.jobs"]
    return found
