"""Every state change in Amity is an action: one transaction, an audit row, events after commit.

    result = perform(db, actor, ingest_events, items)

The action function receives an :class:`ActionContext` first. It writes through ``ctx.session``,
records what it did with ``ctx.audit(...)`` and announces it with ``ctx.publish(...)``; the events
reach subscribers only once the transaction has committed, so nobody reacts to a change that rolled back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from amity.config import Settings
from amity.core.bus import DomainEvent, EventBus
from amity.db import Database, utcnow
from amity.privacy.models import AuditEntry

log = logging.getLogger(__name__)

_AUDIT = cast(Table, AuditEntry.__table__)
P = ParamSpec("P")
R = TypeVar("R")

request_id_var: ContextVar[str | None] = ContextVar("amity_request_id", default=None)


@dataclass(frozen=True)
class Actor:
    kind: str  # "user" | "token" | "system"
    id: str
    role: str
    name: str = ""

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.id}"


SYSTEM = Actor(kind="system", id="amity", role="admin", name="Amity")


class ActionError(Exception):
    """A refusal the caller can act on: becomes a 4xx naming the field and the problem."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


class NotFound(ActionError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(404, "not_found", message, field)


class Invalid(ActionError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(422, "invalid", message, field)


class Conflict(ActionError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(409, "conflict", message, field)


@dataclass
class ActionContext:
    session: Session
    actor: Actor
    events: list[DomainEvent] = field(default_factory=list)
    _audit_rows: list[dict[str, Any]] = field(default_factory=list)

    def audit(self, action: str, subject_type: str, subject_id: str, /, **details: Any) -> None:
        self._audit_rows.append(
            {
                "at": utcnow(),
                "actor": self.actor.label,
                "action": action,
                "subject_type": subject_type,
                "subject_id": subject_id,
                "details": details,
                "request_id": request_id_var.get(),
            }
        )

    def publish(self, event_name: str, /, **data: Any) -> None:
        self.events.append(DomainEvent(event_name, data))

    def flush_audit(self) -> None:
        if self._audit_rows:
            # The table, not the mapped class: nothing reads these rows back in the transaction, and
            # the ORM's bulk-insert layer cost more than the insert itself on every action.
            self.session.execute(insert(_AUDIT), self._audit_rows)
            self._audit_rows.clear()


class App:
    """The composition root: what actions and routes need from the running process."""

    def __init__(self, db: Database, settings: Settings, bus: EventBus | None = None) -> None:
        self.db = db
        self.settings = settings
        self.bus = bus or EventBus()
        # Per-process caches owned by capabilities (e.g. the identity policy), keyed by their module.
        self.cache: dict[str, Any] = {}


# Retrying is safe because an action only touches the database through its own transaction: a
# uniqueness race (two requests creating the same identity) or a lock timeout rolls everything back.
_RETRYABLE = (IntegrityError, OperationalError)


def perform(
    app: App,
    actor: Actor,
    fn: Callable[Concatenate[ActionContext, P], R],
    *args: P.args,
    **kwargs: P.kwargs,
) -> R:
    attempts = 3
    for attempt in range(1, attempts + 1):
        session = app.db.write_session()
        ctx = ActionContext(session=session, actor=actor)
        try:
            with session.begin():
                result = fn(ctx, *args, **kwargs)
                ctx.flush_audit()
        except _RETRYABLE as exc:
            session.close()
            if attempt == attempts:
                raise
            log.warning("action %s retried after %s", fn.__name__, type(exc).__name__)
            time.sleep(0.01 * attempt)
            continue
        finally:
            session.close()
        app.bus.publish(ctx.events)
        return result
    raise AssertionError("unreachable")
