"""Service levels: due times in business hours and time zones, pauses while pending, breaches flagged once."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from amity.core.actions import App
from amity.service.breaches import check_breaches
from amity.service.calendars import BusinessHours
from amity.service.sla import Clock, Wanted, step, wanted
from tests.conftest import auth
from tests.test_service_kit import (
    FixedClock,
    api_channel,
    audit_actions,
    conversation,
    declare,
    inbound,
    ok,
    person,
    record_events,
    session_headers,
    set_traits,
)

UTC = dt.UTC
ALWAYS = BusinessHours.around_the_clock()
RUNNING = Wanted(active=True, met=False, running=True)
PAUSED = Wanted(active=True, met=False, running=False)
MONDAY = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 08:00 in London (winter): an hour before opening


def at(hour: int, minute: int = 0, day: int = 2) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


# ---- the clock arithmetic, with a fixed clock ------------------------------------------------------
def test_a_pending_pause_pushes_the_due_time_back_by_the_pause() -> None:
    c = step(None, RUNNING, 60, ALWAYS, at(9))
    assert c is not None and c.due_at == at(10)
    c = step(c, PAUSED, 60, ALWAYS, at(9, 20))  # pending at 09:20: 20 minutes used, no due time
    assert c is not None and c.due_at is None and c.elapsed_us == 20 * 60 * 10**6
    c = step(c, RUNNING, 60, ALWAYS, at(11))  # open again at 11:00: 40 minutes left
    assert c is not None and c.due_at == at(11, 40)


def test_a_pause_counts_business_time_only() -> None:
    office = BusinessHours.parse("Europe/London", {"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]]})
    c = step(None, RUNNING, 120, office, at(16))  # 1 h today, 1 h tomorrow
    assert c is not None and c.due_at == at(10, day=3)
    c = step(c, PAUSED, 120, office, at(20))  # paused at 20:00: only the hour to 17:00 was used
    assert c is not None and c.elapsed_us == 3600 * 10**6
    c = step(c, RUNNING, 120, office, at(9, 30, day=3))
    assert c is not None and c.due_at == at(10, 30, day=3)


def test_an_overdue_clock_stays_overdue_while_paused() -> None:
    c = step(None, RUNNING, 30, ALWAYS, at(9))
    c = step(c, PAUSED, 30, ALWAYS, at(10))  # paused an hour after start: 30 minutes late
    assert c is not None and c.due_at == at(9, 30)


def test_a_met_target_has_no_due_time_and_a_new_wait_starts_a_new_cycle() -> None:
    c = step(None, Wanted(True, False, True, cycle="a"), 60, ALWAYS, at(9))
    c = step(c, Wanted(True, False, True, cycle="a"), 60, ALWAYS, at(9, 50))
    assert c is not None and c.due_at == at(10)
    c = step(c, Wanted(False, False, True, cycle=""), 60, ALWAYS, at(9, 55))  # answered
    assert c is not None and c.due_at is None and c.met_at == at(9, 55)
    c = step(c, Wanted(True, False, True, cycle="b"), 60, ALWAYS, at(13))  # the customer writes again
    assert c is not None and c.due_at == at(14) and c.elapsed_us == 0 and c.met_at is None


def test_a_due_time_moved_later_can_be_warned_about_again() -> None:
    c = Clock(target="resolution", elapsed_us=0, running_since=at(9), due_at=at(10), warned_at=at(9, 50))
    later = step(c, RUNNING, 240, ALWAYS, at(9, 55), dt.timedelta(minutes=15))
    assert later is not None and later.due_at == at(13) and later.warned_at is None


def test_on_hold_pauses_only_when_the_policy_says_so() -> None:
    from amity.service.facts import Facts

    facts = Facts("cnv_1", "cus_1", "on_hold", "normal", "api", "", "")
    assert wanted(facts, pause_on_hold=False)["resolution"].running
    assert not wanted(facts, pause_on_hold=True)["resolution"].running
    assert not wanted(Facts("cnv_1", "cus_1", "pending", "normal", "api", "", ""), False)[
        "resolution"
    ].running


# ---- through the product ---------------------------------------------------------------------------
@pytest.fixture
def office(client: TestClient, tokens: dict[str, str]) -> dict[str, str]:
    admin = auth(tokens["admin"])
    cal = ok(
        client.post(
            "/api/v1/calendars",
            json={
                "name": "London office",
                "timezone": "Europe/London",
                "hours": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
                "holidays": ["2026-12-25"],
            },
            headers=admin,
        ),
        201,
    )
    standard = ok(
        client.post(
            "/api/v1/sla-policies",
            json={
                "name": "Standard",
                "calendar_id": cal["id"],
                "targets": {"*": {"first_response": 60, "next_response": 120, "resolution": 480}},
                "warn_before_minutes": 15,
            },
            headers=admin,
        ),
        201,
    )
    declare(client, tokens["admin"], "vip", "boolean")
    vip = ok(
        client.post(
            "/api/v1/sla-policies",
            json={
                "name": "VIP, around the clock",
                "position": 0,
                "conditions": {"customer_traits": {"vip": True}},
                "targets": {"*": {"first_response": 15}, "urgent": {"first_response": 5}},
            },
            headers=admin,
        ),
        201,
    )
    return {"calendar": cal["id"], "standard": standard["id"], "vip": vip["id"]}


def test_due_times_follow_business_hours_pauses_and_replies(
    client: TestClient, app: App, tokens: dict[str, str], office: dict[str, str]
) -> None:
    clock = FixedClock(app, MONDAY)
    channel = api_channel(client, tokens["admin"])
    cid = inbound(client, channel, "My order never arrived")["conversation_id"]
    sla = conversation(client, tokens["agent"], cid)["sla"]
    # Written at 08:00, before opening: the hour starts at 09:00; resolution is one working day.
    assert sla["policy_id"] == office["standard"]
    assert sla["first_response_due_at"] == at(10).isoformat()
    assert sla["resolution_due_at"] == at(17).isoformat()
    assert sla["next_due_at"] == at(10).isoformat()

    clock.set(at(9, 30))
    ok(
        client.patch(
            f"/api/v1/conversations/{cid}", json={"status": "pending"}, headers=auth(tokens["agent"])
        )
    )
    sla = conversation(client, tokens["agent"], cid)["sla"]
    assert sla["first_response_due_at"] is None and sla["resolution_due_at"] is None  # paused

    clock.set(at(11, 30))  # the customer answers: open again, 30 of 60 minutes were used
    inbound(client, channel, "Any news?")
    sla = conversation(client, tokens["agent"], cid)["sla"]
    assert sla["first_response_due_at"] == at(12).isoformat()
    # 7.5 h of resolution left from 11:30: 5.5 h today, 2 h on Tuesday.
    assert sla["resolution_due_at"] == at(11, day=3).isoformat()

    person(app, "kim@example.com", "agent", "Kim")
    kim = session_headers(client, "kim@example.com")
    clock.set(at(11, 45))
    ok(client.post(f"/api/v1/conversations/{cid}/messages", json={"text": "Looking now"}, headers=kim), 201)
    sla = conversation(client, tokens["agent"], cid)["sla"]
    assert sla["first_response_due_at"] is None and sla["next_response_due_at"] is None

    clock.set(at(13))
    inbound(client, channel, "Thanks, still waiting")
    sla = conversation(client, tokens["agent"], cid)["sla"]
    assert sla["next_response_due_at"] == at(15).isoformat()
    assert sla["next_due_at"] == at(15).isoformat()
    clocks = ok(client.get(f"/api/v1/conversations/{cid}/service-levels", headers=auth(tokens["agent"])))
    assert {c["target"]: c["running"] for c in clocks["clocks"]} == {
        "first_response": False,
        "next_response": True,
        "resolution": True,
    }


def test_a_vip_gets_the_vip_policy_around_the_clock(
    client: TestClient, app: App, tokens: dict[str, str], office: dict[str, str]
) -> None:
    FixedClock(app, at(22))  # Monday night: the office is closed, the VIP policy is not
    set_traits(client, tokens["admin"], "bob@example.com", vip=True)
    channel = api_channel(client, tokens["admin"])
    cid = inbound(client, channel, "Help", sender="bob@example.com")["conversation_id"]
    sla = conversation(client, tokens["agent"], cid)["sla"]
    assert sla["policy_id"] == office["vip"]
    assert sla["first_response_due_at"] == at(22, 15).isoformat()
    assert sla["resolution_due_at"] is None  # the VIP policy sets no resolution target
    ok(
        client.patch(
            f"/api/v1/conversations/{cid}", json={"priority": "urgent"}, headers=auth(tokens["agent"])
        )
    )
    assert conversation(client, tokens["agent"], cid)["sla"]["first_response_due_at"] == at(22, 5).isoformat()


def test_warnings_and_breaches_fire_once_each_and_are_audited(
    client: TestClient, app: App, tokens: dict[str, str], office: dict[str, str]
) -> None:
    FixedClock(app, at(9))
    seen = record_events(app)
    channel = api_channel(client, tokens["admin"])
    cid = inbound(client, channel, "Hello?")["conversation_id"]  # first response due 10:00

    assert check_breaches(app, at(9, 30)) == {"warning": 0, "breached": 0}
    assert check_breaches(app, at(9, 46)) == {"warning": 1, "breached": 0}
    assert check_breaches(app, at(9, 50)) == {"warning": 0, "breached": 0}
    assert check_breaches(app, at(10, 1)) == {"warning": 0, "breached": 1}
    assert check_breaches(app, at(10, 5)) == {"warning": 0, "breached": 0}

    names = [e for e in seen if e.name.startswith("conversation.sla_")]
    assert [(e.name, e.data["target"]) for e in names] == [
        ("conversation.sla_warning", "first_response"),
        ("conversation.sla_breached", "first_response"),
    ]
    assert names[1].data == {
        "conversation_id": cid,
        "target": "first_response",
        "policy_id": office["standard"],
        "due_at": at(10).isoformat(),
    }
    actions = audit_actions(app, cid)
    assert actions.count("conversation.sla_warning") == 1 and actions.count("conversation.sla_breached") == 1


def test_a_breach_seen_late_is_not_warned_about_afterwards(
    client: TestClient, app: App, tokens: dict[str, str], office: dict[str, str]
) -> None:
    FixedClock(app, at(9))
    seen = record_events(app)
    inbound(client, api_channel(client, tokens["admin"]), "Hello?")
    assert check_breaches(app, at(12)) == {"warning": 0, "breached": 1}
    assert check_breaches(app, at(12, 1)) == {"warning": 0, "breached": 0}
    assert [e.name for e in seen if e.name.startswith("conversation.sla_")] == ["conversation.sla_breached"]


def test_a_paused_conversation_does_not_breach(
    client: TestClient, app: App, tokens: dict[str, str], office: dict[str, str]
) -> None:
    clock = FixedClock(app, at(9))
    cid = inbound(client, api_channel(client, tokens["admin"]), "Hello?")["conversation_id"]
    clock.set(at(9, 10))
    ok(
        client.patch(
            f"/api/v1/conversations/{cid}", json={"status": "pending"}, headers=auth(tokens["agent"])
        )
    )
    assert check_breaches(app, at(16)) == {"warning": 0, "breached": 0}


def test_the_check_runs_every_minute_as_a_periodic_job(app: App) -> None:
    huey = app.cache["jobs"].huey
    assert "service.sla_check" in {t.name for t in huey._registry.periodic_tasks}


def test_with_no_matching_policy_nothing_is_due(client: TestClient, app: App, tokens: dict[str, str]) -> None:
    cid = inbound(client, api_channel(client, tokens["admin"]), "Hello?")["conversation_id"]
    sla = conversation(client, tokens["agent"], cid)["sla"]
    assert sla == {
        "policy_id": None,
        "first_response_due_at": None,
        "next_response_due_at": None,
        "resolution_due_at": None,
        "next_due_at": None,
    }
