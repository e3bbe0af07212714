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
BatchHandler = Callable[[list[DomainEvent]], None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._batch: list[BatchHandler] = []

    def subscribe(self, name: str, handler: Handler) -> None:
        """``name`` is an event name or ``*`` for every event."""
        self._handlers[name].append(handler)

    def subscribe_batch(self, handler: BatchHandler) -> None:
        """``handler`` gets every event of one commit at once, after the per-event handlers: for work
        that several events of one change would each trigger (a new conversation's first message both
        opens it and steps its clocks: one SLA refresh, not two)."""
        self._batch.append(handler)

    def publish(self, events: list[DomainEvent]) -> None:
        # Watchers of everything (the live stream, outgoing webhooks) hear every event of the commit
        # first: they only pass events on, while a named handler may do real work (routing, SLA
        # clocks) in a transaction of its own, which must not delay what agents see -- not even the
        # second event of a commit (a new conversation's ``message.created`` after its
        # ``conversation.created``).
        watchers = self._handlers.get("*", ())
        for ev in events:
            for handler in watchers:
                self._call(handler, ev)
        for ev in events:
            for handler in self._handlers.get(ev.name, ()):
                self._call(handler, ev)
        for batch in self._batch:
            try:
                batch(events)
            except Exception:
                log.exception("event batch handler failed", extra={"event": events[0].name if events else ""})

    @staticmethod
    def _call(handler: Handler, ev: DomainEvent) -> None:
        try:
            handler(ev)
        except Exception:
            # The change is committed; one broken subscriber must not hide it from the others.
            log.exception("event handler failed", extra={"event": ev.name})
