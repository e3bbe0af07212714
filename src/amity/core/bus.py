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
            # Watchers of everything (the live stream, outgoing webhooks) first: they only pass the
            # event on, while a named handler may do real work (routing, SLA clocks) in a transaction
            # of its own, which should not delay what agents see.
            for handler in [*self._handlers.get("*", ()), *self._handlers.get(ev.name, ())]:
                try:
                    handler(ev)
                except Exception:
                    # The change is committed; one broken subscriber must not hide it from the others.
                    log.exception("event handler failed", extra={"event": ev.name})
