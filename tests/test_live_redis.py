"""Across processes: live updates and the job queue through the real Redis server, when there is one.

CI sets AMITY_TEST_REDIS_URL (and AMITY_REQUIRE_REDIS=1, so an unreachable server fails instead of
skipping); on a laptop without Redis these tests are skipped with a message.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from amity.config import Settings
from amity.core.actions import SYSTEM, App
from amity.core.bus import DomainEvent
from amity.db import Database
from amity.web.app import build_app

REDIS_URL = os.environ.get("AMITY_TEST_REDIS_URL")


@pytest.fixture
def redis_url() -> str:
    if not REDIS_URL:
        if os.environ.get("AMITY_REQUIRE_REDIS") == "1":
            pytest.fail("AMITY_REQUIRE_REDIS=1 but AMITY_TEST_REDIS_URL is not set")
        pytest.skip("Redis tests skipped: set AMITY_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15)")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        if os.environ.get("AMITY_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis at {REDIS_URL} is unreachable: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {exc}")
    return REDIS_URL


def _process(database: Database, settings: Settings, redis_url: str) -> App:
    """One more "web process": its own App, bus and broadcaster, sharing the database and Redis."""
    return build_app(settings.model_copy(update={"redis_url": redis_url}), database)


def test_an_event_committed_in_one_process_reaches_a_stream_in_another(
    app: App, database: Database, settings: Settings, redis_url: str
) -> None:
    writer = _process(database, settings, redis_url)
    reader = _process(database, settings, redis_url)
    marker = uuid.uuid4().hex

    async def listen() -> bytes:
        sub = reader.cache["broadcaster"].subscribe(SYSTEM)
        await asyncio.sleep(0.3)  # the Redis subscription is live
        await asyncio.to_thread(
            writer.bus.publish,
            [DomainEvent("message.created", {"conversation_id": marker, "message_id": "m"})],
        )
        while True:
            payload = await asyncio.wait_for(sub.queue.get(), timeout=5)
            if marker.encode() in payload:
                return payload

    # In a thread of its own: a browser test earlier in this process may keep a loop running here.
    with ThreadPoolExecutor(1) as pool:
        payload = pool.submit(asyncio.run, listen()).result(timeout=30)
    assert b'"event":"message.created"' in payload


def test_the_job_queue_lives_in_redis_when_configured(
    app: App, database: Database, settings: Settings, redis_url: str
) -> None:
    from huey import RedisHuey

    proc = _process(database, settings, redis_url)
    huey = proc.cache["jobs"].huey
    assert isinstance(huey, RedisHuey)
    marker = uuid.uuid4().int % 10**9  # test runs in parallel share the queue: look for our own task
    proc.cache["jobs"].enqueue_delivery(marker)
    mine = [t for t in huey.pending() if t.args == (marker,)]
    assert [t.name for t in mine] == ["deliver"]  # another process's worker would take it from here
    for t in mine:
        huey.revoke(t)
