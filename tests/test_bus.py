"""The in-process event bus: who hears an event of a commit, in which order, and what a failure costs."""

from __future__ import annotations

import logging

import pytest

from amity.core.bus import DomainEvent, EventBus
from amity.service.handlers import work_of


def test_watchers_hear_every_event_of_a_commit_before_any_named_handler_works() -> None:
    # A new conversation commits conversation.created then message.created; routing (named, slow)
    # must not hold the live stream's message.created back.
    bus = EventBus()
    heard: list[str] = []
    bus.subscribe("*", lambda ev: heard.append(f"stream:{ev.name}"))
    bus.subscribe("conversation.created", lambda ev: heard.append("route"))
    bus.subscribe_batch(lambda evs: heard.append("batch:" + ",".join(e.name for e in evs)))
    bus.publish([DomainEvent("conversation.created"), DomainEvent("message.created")])
    assert heard == [
        "stream:conversation.created",
        "stream:message.created",
        "route",
        "batch:conversation.created,message.created",
    ]


def test_a_failing_handler_is_logged_and_the_others_still_run(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    heard: list[str] = []

    def broken(ev: DomainEvent) -> None:
        raise RuntimeError("boom")

    def broken_batch(evs: list[DomainEvent]) -> None:
        raise RuntimeError("boom")

    bus.subscribe("*", broken)
    bus.subscribe("*", lambda ev: heard.append(ev.name))
    bus.subscribe("a", broken)
    bus.subscribe("a", lambda ev: heard.append("named"))
    bus.subscribe_batch(broken_batch)
    bus.subscribe_batch(lambda evs: heard.append("batch"))
    with caplog.at_level(logging.ERROR):
        bus.publish([DomainEvent("a")])
    assert heard == ["a", "named", "batch"]
    assert [r.message for r in caplog.records].count("event handler failed") == 2
    assert "event batch handler failed" in [r.message for r in caplog.records]


def test_one_commit_refreshes_each_conversations_clocks_once() -> None:
    events = [
        DomainEvent("conversation.created", {"conversation_id": "cnv_a"}),
        DomainEvent("message.created", {"conversation_id": "cnv_a", "is_note": False}),
        DomainEvent("message.created", {"conversation_id": "cnv_b", "is_note": True}),  # notes: no
        DomainEvent("conversation.updated", {"conversation_id": "cnv_c", "changes": {"tags": ["x"]}}),
        DomainEvent("conversation.updated", {"conversation_id": "cnv_d", "changes": {"status": "pending"}}),
        DomainEvent("message.created", {"conversation_id": "cnv_d", "is_note": False}),
        DomainEvent("conversation.merged", {"conversation_id": "cnv_a", "merged_id": "cnv_e"}),
    ]
    route, clocks = work_of(events)
    assert route == ["cnv_a"]
    assert clocks == ["cnv_a", "cnv_d", "cnv_e"]
