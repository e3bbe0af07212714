"""In-process domain-event bus. Actions publish after commit; later capabilities subscribe."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DomainEvent:
    name: str  # e.g. "customer.merged"
    data: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[DomainEvent], None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    def subscribe(self, name: str, handler: Handler) -> None:
        """``name`` is an event name or ``*`` for every event."""
        self._handlers[name].append(handler)

    def publish(self, events: list[DomainEvent]) -> None:
        for ev in events:
            for handler in [*self._handlers.get(ev.name, ()), *self._handlers.get("*", ())]:
                try:
                    handler(ev)
                except Exception:
                    # The change is committed; one broken subscriber must not hide it from the others.
                    log.exception("event handler failed", extra={"event": ev.name})
