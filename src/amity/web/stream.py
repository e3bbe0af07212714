"""Live updates for the console: domain events fan out to every open server-sent-events stream.

Actions publish after commit on the in-process bus; :class:`Broadcaster` turns the events people
watch (conversations, messages, calls) into small JSON payloads and hands them to each connected
stream's asyncio queue. With ``AMITY_REDIS_URL`` set, events go through a Redis channel instead, so
an agent connected to one web process sees what another process committed.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from amity.core.actions import Actor, App
from amity.core.bus import DomainEvent

log = logging.getLogger(__name__)

STREAMED = ("conversation.", "message.", "call.", "approval.", "escalation.")
REDIS_CHANNEL = "amity:live"
HEARTBEAT_SECONDS = 15.0


@dataclass(eq=False)
class Subscriber:
    actor: Actor
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[bytes] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))

    def offer(self, payload: bytes) -> None:
        try:
            self.queue.put_nowait(payload)
        except asyncio.QueueFull:  # a stalled browser tab must not hold memory forever
            log.warning("live stream of %s is full; dropping an update", self.actor.label)


class Broadcaster:
    def __init__(self, app: App) -> None:
        self.app = app
        self._subs: set[Subscriber] = set()
        self._lock = threading.Lock()
        self._redis: Any = None
        if app.settings.redis_url:
            import redis

            self._redis = redis.Redis.from_url(app.settings.redis_url)
            threading.Thread(target=self._listen, name="amity-live-redis", daemon=True).start()

    # ---- from the bus (any thread) -----------------------------------------------------------------
    def on_event(self, event: DomainEvent) -> None:
        if not event.name.startswith(STREAMED):
            return
        payload = orjson.dumps({"event": event.name, "data": event.data, "at": time.time()})
        if self._redis is not None:
            self._redis.publish(REDIS_CHANNEL, payload)
        else:
            self.fan_out(payload)

    def _listen(self) -> None:
        while True:
            try:
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(REDIS_CHANNEL)
                for msg in pubsub.listen():
                    if msg and msg.get("type") == "message":
                        self.fan_out(bytes(msg["data"]))
            except Exception:
                log.exception("live updates lost Redis; reconnecting")
                time.sleep(1)

    def fan_out(self, payload: bytes) -> None:
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            sub.loop.call_soon_threadsafe(sub.offer, payload)

    # ---- to a stream (the event loop) --------------------------------------------------------------
    def subscribe(self, actor: Actor) -> Subscriber:
        sub = Subscriber(actor, asyncio.get_running_loop())
        with self._lock:
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock:
            self._subs.discard(sub)

    @property
    def listeners(self) -> int:
        return len(self._subs)


async def sse(broadcaster: Broadcaster, sub: Subscriber, max_seconds: float) -> AsyncIterator[bytes]:
    """The stream ends after ``max_seconds``; EventSource reconnects by itself (``retry``), which also
    re-checks the session, so a signed-out or disabled agent stops receiving within that time."""
    loop = asyncio.get_running_loop()
    ends = loop.time() + max_seconds
    try:
        yield b"retry: 1000\nevent: ready\ndata: {}\n\n"
        while (left := ends - loop.time()) > 0:
            try:
                payload = await asyncio.wait_for(sub.queue.get(), timeout=min(HEARTBEAT_SECONDS, left))
            except TimeoutError:
                yield b": keep-alive\n\n"  # proxies close idle connections
                continue
            name = orjson.loads(payload)["event"]
            yield b"event: " + name.encode() + b"\ndata: " + payload + b"\n\n"
    finally:
        broadcaster.unsubscribe(sub)


def install(app: App) -> Broadcaster:
    b: Broadcaster | None = app.cache.get("broadcaster")
    if b is None:
        b = app.cache["broadcaster"] = Broadcaster(app)
        app.bus.subscribe("*", b.on_event)
    return b
