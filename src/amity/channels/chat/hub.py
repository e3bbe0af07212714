"""Open chat sockets by visitor, and handing a frame to every socket of a visitor, in any process.

Each socket has an asyncio queue on its own event loop; a frame pushed from any thread (a delivery
worker, a request's threadpool) is put there with ``call_soon_threadsafe``, as web/stream.py does for
the console. With ``AMITY_REDIS_URL`` set, a push is a PUBLISH on the visitor's own Redis channel, and
each process subscribes to the channels of the visitors it holds sockets for: PUBLISH then answers how
many processes hold one, which is what tells a delivery "delivered" from "sent".
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio

from amity.core.actions import App

log = logging.getLogger(__name__)

QUEUE_SIZE = 500
REDIS_PREFIX = "amity:chat:"
POLL_SECONDS = 0.05  # how long a new subscription may wait for the relay thread to notice it
SUBSCRIBE_WAIT_SECONDS = 2.0


@dataclass(eq=False)
class Connection:
    visitor_id: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[bytes] = field(default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE))

    def offer(self, payload: bytes) -> None:
        try:
            self.queue.put_nowait(payload)
        except asyncio.QueueFull:  # a stalled tab must not hold memory; it reloads history on reconnect
            log.warning("chat socket of %s is full; dropping a frame", self.visitor_id)


class Hub:
    def __init__(self, redis_url: str | None = None, prefix: str = REDIS_PREFIX) -> None:
        self._conns: dict[str, set[Connection]] = {}
        self._lock = threading.Lock()
        self._relay = RedisRelay(redis_url, prefix, self.fan_out) if redis_url else None

    async def connect(self, visitor_id: str) -> Connection:
        conn = Connection(visitor_id, asyncio.get_running_loop())
        with self._lock:
            self._conns.setdefault(visitor_id, set()).add(conn)
        if self._relay is not None:
            ready = self._relay.want(visitor_id)
            # Until Redis confirms the subscription, a reply sent by another process would miss this
            # socket; the caller reads history only after this, so nothing falls between the two.
            try:
                if not await anyio.to_thread.run_sync(ready.wait, SUBSCRIBE_WAIT_SECONDS):
                    log.warning("Redis did not confirm the chat subscription of %s in time", visitor_id)
            except BaseException:  # cancelled while waiting: the caller never gets conn to let go of
                await self.disconnect(conn)
                raise
        return conn

    async def disconnect(self, conn: Connection) -> None:
        with self._lock:
            conns = self._conns.get(conn.visitor_id)
            if conns is not None:
                conns.discard(conn)
                if not conns:
                    del self._conns[conn.visitor_id]
        if self._relay is not None:
            gone = self._relay.drop(conn.visitor_id)
            # Until Redis confirms, a PUBLISH would still count this process as holding a socket and
            # a reply would be recorded as delivered; the wait is short and bounded, so it is shielded
            # from the cancellation that ends a connection's task.
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(gone.wait, SUBSCRIBE_WAIT_SECONDS)

    def push(self, visitor_id: str, payload: bytes) -> int:
        """Hand ``payload`` to every open socket of the visitor; how many processes (or, without Redis,
        sockets) took it. 0: nobody is connected, and the widget reads it from history later."""
        if self._relay is not None:
            try:
                return self._relay.publish(visitor_id, payload)
            except Exception:  # any Redis failure: this process's own sockets still get it
                log.exception("chat relay could not publish to Redis; delivering to local sockets only")
        return self.fan_out(visitor_id, payload)

    def fan_out(self, visitor_id: str, payload: bytes) -> int:
        with self._lock:
            conns = list(self._conns.get(visitor_id, ()))
        n = 0
        for conn in conns:
            try:
                conn.loop.call_soon_threadsafe(conn.offer, payload)
                n += 1
            except RuntimeError:  # its event loop has closed: the socket is gone
                continue
        return n

    def sockets(self, visitor_id: str) -> int:
        with self._lock:
            return len(self._conns.get(visitor_id, ()))

    def close(self) -> None:
        if self._relay is not None:
            self._relay.close()


class RedisRelay:
    """One thread per process owns the Redis subscription (redis-py's PubSub is not thread-safe):
    others say which visitors they want and the thread subscribes or unsubscribes to match."""

    def __init__(self, url: str, prefix: str, deliver: Callable[[str, bytes], int]) -> None:
        import redis

        self._client: Any = redis.Redis.from_url(url)
        self._url, self._prefix, self._deliver = url, prefix, deliver
        self._lock = threading.Lock()
        self._wanted: dict[str, int] = {}  # visitor id -> open sockets here
        self._confirmed: set[str] = set()
        self._waiters: dict[str, list[threading.Event]] = {}  # for a subscription to be confirmed
        self._leaving: dict[str, list[threading.Event]] = {}  # for an unsubscription to be confirmed
        self._changed: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="amity-chat-redis", daemon=True)
        self._thread.start()

    def want(self, visitor_id: str) -> threading.Event:
        ready = threading.Event()
        with self._lock:
            self._wanted[visitor_id] = self._wanted.get(visitor_id, 0) + 1
            if visitor_id in self._confirmed:
                ready.set()
            else:
                self._waiters.setdefault(visitor_id, []).append(ready)
        self._changed.put(visitor_id)
        return ready

    def drop(self, visitor_id: str) -> threading.Event:
        """One socket fewer; the event is set once this process no longer counts as a listener."""
        gone = threading.Event()
        with self._lock:
            left = self._wanted.get(visitor_id, 0) - 1
            if left > 0:
                self._wanted[visitor_id] = left
                gone.set()  # other sockets here still listen: nothing changes in Redis
                return gone
            self._wanted.pop(visitor_id, None)
            self._waiters.pop(visitor_id, None)  # nobody waits for a socket that has gone
            self._leaving.setdefault(visitor_id, []).append(gone)
        self._changed.put(visitor_id)
        return gone

    def publish(self, visitor_id: str, payload: bytes) -> int:
        return int(self._client.publish(self._prefix + visitor_id, payload))

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            for vid in list(self._leaving):
                self._release(vid)
        self._thread.join(timeout=2)
        self._client.close()

    # ---- the relay thread ----------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            pubsub = self._client.pubsub()
            subscribed: set[str] = set()
            with self._lock:
                self._confirmed.clear()
                again = list(self._wanted)  # after a reconnect, every visitor still here
            for vid in again:
                self._changed.put(vid)
            try:
                while not self._stop.is_set():
                    self._reconcile(pubsub, subscribed)
                    msg = pubsub.get_message(timeout=POLL_SECONDS)
                    if msg:
                        self._on_message(msg)
            except Exception:
                log.exception("chat relay lost Redis; reconnecting")
                self._stop.wait(1.0)
            finally:
                pubsub.close()

    def _reconcile(self, pubsub: Any, subscribed: set[str]) -> None:
        # The queue only says "look at this visitor": what counts is how many sockets want it now, so a
        # socket that closes and another that opens before the thread looks leave one subscription.
        while True:
            try:
                vid = self._changed.get_nowait()
            except queue.Empty:
                return
            with self._lock:
                wanted = vid in self._wanted
                if not wanted:
                    self._confirmed.discard(vid)
                if wanted or vid not in subscribed:
                    self._release(vid)  # no unsubscription will come to confirm it
            if wanted and vid not in subscribed:
                pubsub.subscribe(self._prefix + vid)
                subscribed.add(vid)
            elif not wanted and vid in subscribed:
                pubsub.unsubscribe(self._prefix + vid)
                subscribed.discard(vid)

    def _release(self, vid: str) -> None:
        for gone in self._leaving.pop(vid, []):
            gone.set()

    def _on_message(self, msg: dict[str, Any]) -> None:
        channel = msg.get("channel")
        name = channel.decode() if isinstance(channel, bytes) else str(channel)
        if not name.startswith(self._prefix):
            return
        vid = name[len(self._prefix) :]
        if msg.get("type") == "subscribe":
            with self._lock:
                if vid in self._wanted:
                    self._confirmed.add(vid)
                for ready in self._waiters.pop(vid, []):
                    ready.set()
        elif msg.get("type") == "unsubscribe":
            with self._lock:
                self._release(vid)
        elif msg.get("type") == "message":
            self._deliver(vid, bytes(msg["data"]))


_hub_lock = threading.Lock()


def hub_of(app: App) -> Hub:
    with _hub_lock:
        hub: Hub | None = app.cache.get("chat_hub")
        if hub is None:
            hub = app.cache["chat_hub"] = Hub(app.settings.redis_url)
        return hub
