"""Routing: rules in order set team, priority, tags and auto-replies; team strategies assign people."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from amity.core.actions import App
from amity.service.assignment import Candidate, pick
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
    set_traits,
)


# ---- the strategies, without a database ------------------------------------------------------------
def test_round_robin_takes_turns_and_skips_whoever_is_full() -> None:
    people = [Candidate("usr_a", 0, None), Candidate("usr_b", 3, 3), Candidate("usr_c", 1, None)]
    assert pick("round_robin", people).user_id == "usr_a"
    assert pick("round_robin", people, last_user_id="usr_a").user_id == "usr_c"  # b is at capacity
    assert pick("round_robin", people, last_user_id="usr_c").user_id == "usr_a"  # wraps around


def test_least_loaded_prefers_the_lightest_load_then_who_waited_longest() -> None:
    early = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    people = [
        Candidate("usr_a", 2, None),
        Candidate("usr_b", 1, None, last_assigned_at=early + dt.timedelta(minutes=5)),
        Candidate("usr_c", 1, None, last_assigned_at=early),
        Candidate("usr_d", 0, 0),  # capacity 0: takes nothing
    ]
    assert pick("least_loaded", people).user_id == "usr_c"


def test_skill_matching_needs_every_skill_and_falls_back_to_anyone_with_room() -> None:
    people = [
        Candidate("usr_a", 0, None, {"language": ["en"]}),
        Candidate("usr_b", 2, None, {"language": ["pt"], "product": ["router"]}),
        Candidate("usr_c", 1, None, {"language": ["pt-BR"]}),
    ]
    assert pick("skill", people, required={"language": "pt-BR"}).user_id == "usr_c"
    got = pick("skill", people, required={"language": "pt", "product": "Router"})
    assert (got.user_id, got.skill_match) == ("usr_b", True)
    got = pick("skill", people, required={"language": "ja"})
    assert (got.user_id, got.skill_match) == ("usr_a", False)
    assert pick("manual", people).user_id is None


# ---- through the product ---------------------------------------------------------------------------
def _agents(client: TestClient, app: App, admin: str, specs: dict[str, dict[str, Any]]) -> dict[str, str]:
    ids = {}
    for name, profile in specs.items():
        ids[name] = person(app, f"{name}@example.com", "agent", name.title())
        ok(client.patch(f"/api/v1/agents/{ids[name]}", json=profile, headers=auth(admin)))
    return ids


def _team(client: TestClient, admin: str, name: str, strategy: str, members: list[str]) -> str:
    body = {"name": name, "strategy": strategy, "members": members}
    return str(ok(client.post("/api/v1/teams", json=body, headers=auth(admin)), 201)["id"])


def _rule(client: TestClient, admin: str, **body: Any) -> dict[str, Any]:
    out: dict[str, Any] = ok(client.post("/api/v1/routing-rules", json=body, headers=auth(admin)), 201)
    return out


def _new(client: TestClient, channel: str, n: int, text: str = "Hello") -> list[str]:
    return [inbound(client, channel, text, sender=f"c{i}@example.com")["conversation_id"] for i in range(n)]


def test_round_robin_among_online_members(client: TestClient, app: App, tokens: dict[str, str]) -> None:
    admin = tokens["admin"]
    ids = _agents(
        client,
        app,
        admin,
        {
            "ada": {"availability": "online"},
            "ben": {"availability": "away"},
            "cy": {"availability": "online"},
            "dee": {"availability": "online"},
        },
    )
    team = _team(client, admin, "Support", "round_robin", list(ids.values()))
    _rule(client, admin, name="Everything to support", actions={"team_id": team})
    convs = _new(client, api_channel(client, admin), 4)
    got = [conversation(client, admin, c)["assignee_id"] for c in convs]
    assert got == [ids["ada"], ids["cy"], ids["dee"], ids["ada"]]  # ben is away
    assert all(conversation(client, admin, c)["team_id"] == team for c in convs)
    assert "conversation.routed" in audit_actions(app, convs[0])


def test_least_loaded_within_capacity(client: TestClient, app: App, tokens: dict[str, str]) -> None:
    admin = tokens["admin"]
    ids = _agents(
        client,
        app,
        admin,
        {"ada": {"availability": "online", "capacity": 1}, "ben": {"availability": "online", "capacity": 5}},
    )
    team = _team(client, admin, "Billing", "least_loaded", list(ids.values()))
    _rule(client, admin, name="Billing", actions={"team_id": team})
    channel = api_channel(client, admin)
    first = _new(client, channel, 3)
    assert [conversation(client, admin, c)["assignee_id"] for c in first] == [
        ids["ada"],
        ids["ben"],
        ids["ben"],
    ]
    # Ada solves hers: she has room again and the lighter load.
    ok(client.patch(f"/api/v1/conversations/{first[0]}", json={"status": "solved"}, headers=auth(admin)))
    later = inbound(client, channel, "Invoice?", sender="late@example.com")["conversation_id"]
    assert conversation(client, admin, later)["assignee_id"] == ids["ada"]


def test_skill_match_uses_the_customers_language_and_the_rules_skills(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    admin = tokens["admin"]
    ids = _agents(
        client,
        app,
        admin,
        {
            "ada": {"availability": "online", "skills": {"language": ["en"]}},
            "ben": {"availability": "online", "skills": {"language": ["pt"]}},
            "cy": {"availability": "online", "skills": {"language": ["pt"], "product": ["router"]}},
        },
    )
    team = _team(client, admin, "Connected home", "skill", list(ids.values()))
    _rule(
        client,
        admin,
        name="Routers",
        conditions={"keywords": ["router"]},
        actions={"skills": {"product": "router"}},
        **{"continue": True},
    )
    _rule(client, admin, name="All", actions={"team_id": team})
    set_traits(client, admin, "joao@example.com", language="pt-BR")
    channel = api_channel(client, admin)
    plain = inbound(client, channel, "Olá, a minha encomenda?", sender="joao@example.com")["conversation_id"]
    assert conversation(client, admin, plain)["assignee_id"] == ids["ben"]
    set_traits(client, admin, "rita@example.com", language="pt")
    router = inbound(client, channel, "O meu router não liga", sender="rita@example.com")["conversation_id"]
    assert conversation(client, admin, router)["assignee_id"] == ids["cy"]


def test_rules_in_order_first_match_of_each_kind_wins_and_continue_goes_on(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    admin = tokens["admin"]
    tier1 = _team(client, admin, "Tier 1", "manual", [])
    other = _team(client, admin, "Other", "manual", [])
    _rule(
        client,
        admin,
        name="Angry",
        position=10,
        conditions={"keywords": ["furious"]},
        actions={"priority": "urgent", "tags": ["hot"]},
        **{"continue": True},
    )
    _rule(client, admin, name="Disabled", position=15, enabled=False, actions={"team_id": other})
    _rule(
        client,
        admin,
        name="Default",
        position=20,
        actions={"priority": "low", "team_id": tier1, "tags": ["triage"]},
    )
    _rule(client, admin, name="Never reached", position=30, actions={"team_id": other})
    channel = api_channel(client, admin)
    angry = conversation(
        client, admin, inbound(client, channel, "I am FURIOUS!", sender="a@example.com")["conversation_id"]
    )
    assert (angry["priority"], angry["team_id"], angry["tags"]) == ("urgent", tier1, ["hot", "triage"])
    calm = conversation(
        client, admin, inbound(client, channel, "Just asking", sender="b@example.com")["conversation_id"]
    )
    assert (calm["priority"], calm["team_id"], calm["tags"]) == ("low", tier1, ["triage"])
    rules = ok(client.get("/api/v1/routing-rules", headers=auth(tokens["agent"])))["items"]
    assert [r["name"] for r in rules] == ["Angry", "Disabled", "Default", "Never reached"]


def test_conditions_on_traits_channel_and_business_hours(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    admin = tokens["admin"]
    clock = FixedClock(app, dt.datetime(2026, 3, 2, 21, tzinfo=dt.UTC))  # Monday 21:00 in London
    declare(client, admin, "vip", "boolean")
    cal = ok(
        client.post(
            "/api/v1/calendars",
            json={"name": "Office", "timezone": "Europe/London", "hours": {"mon": [["09:00", "17:00"]]}},
            headers=auth(admin),
        ),
        201,
    )
    night = _team(client, admin, "Night desk", "manual", [])
    vips = _team(client, admin, "VIP desk", "manual", [])
    _rule(client, admin, name="VIPs", conditions={"customer_traits": {"vip": True}, "channel_types": ["api"]},
          actions={"team_id": vips, "priority": "high"})  # fmt: skip
    _rule(client, admin, name="After hours", conditions={"business_hours": {"calendar_id": cal["id"], "open": False}},
          actions={"team_id": night})  # fmt: skip
    set_traits(client, admin, "vip@example.com", vip=True)
    channel = api_channel(client, admin)
    vip = conversation(
        client, admin, inbound(client, channel, "Hi", sender="vip@example.com")["conversation_id"]
    )
    assert (vip["team_id"], vip["priority"]) == (vips, "high")
    late = conversation(
        client, admin, inbound(client, channel, "Hi", sender="late@example.com")["conversation_id"]
    )
    assert late["team_id"] == night
    clock.set(dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC))
    day = conversation(
        client, admin, inbound(client, channel, "Hi", sender="day@example.com")["conversation_id"]
    )
    assert day["team_id"] is None


def test_an_auto_reply_macro_answers_on_the_customers_channel(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    admin = tokens["admin"]
    brand = ok(client.post("/api/v1/brands", json={"name": "Shoebox", "signature": "— The Shoebox team"},
                           headers=auth(admin)), 201)  # fmt: skip
    macro = ok(
        client.post(
            "/api/v1/macros",
            json={
                "name": "We got it",
                "body": "Hi {{ customer.first_name }}, we received '{{ conversation.subject }}'.\n{{ brand.signature }}",
            },
            headers=auth(admin),
        ),
        201,
    )
    _rule(client, admin, name="Acknowledge", actions={"macro_id": macro["id"]})
    set_traits(client, admin, "ana@example.com", name="Ana Silva")
    channel = api_channel(client, admin, brand_id=brand["id"])
    cid = inbound(client, channel, "Where are my shoes?")["conversation_id"]
    conv = conversation(client, admin, cid)
    out = [m for m in conv["messages"] if m["direction"] == "out"]
    assert len(out) == 1
    assert out[0]["text"] == "Hi Ana, we received 'Where are my shoes?'.\n— The Shoebox team"
    assert (out[0]["channel_id"], out[0]["delivery_status"], out[0]["author_type"]) == (
        channel,
        "queued",
        "system",
    )
    assert conv["first_response_at"] is None  # an automatic acknowledgement is not a first response
    assert "macro.sent" in audit_actions(app, cid)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "actions": {}}, "actions"),
        ({"name": "x", "actions": {"team_id": "tea_nope"}}, "actions.team_id"),
        ({"name": "x", "actions": {"macro_id": "mac_nope"}}, "actions.macro_id"),
        ({"name": "x", "actions": {"priority": "asap"}}, "actions.priority"),
        ({"name": "x", "actions": {"tags": ["two words"]}}, "actions.tags[0]"),
        ({"name": "x", "conditions": {"channel_types": ["pigeon"]}, "actions": {"priority": "low"}}, "conditions.channel_types"),
        ({"name": "x", "conditions": {"business_hours": {"calendar_id": "cal_x"}}, "actions": {"priority": "low"}},
         "conditions.business_hours.calendar_id"),
        ({"name": "x", "actions": {"priority": "low"}, "colour": "red"}, "colour"),
    ],
)  # fmt: skip
def test_a_wrong_rule_is_refused_naming_the_field(
    client: TestClient, tokens: dict[str, str], body: dict[str, Any], field: str
) -> None:
    r = client.post("/api/v1/routing-rules", json=body, headers=auth(tokens["admin"]))
    assert r.status_code in (404, 422), r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]


def test_an_auto_reply_that_cannot_be_sent_is_audited_and_routing_still_applies(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    admin = tokens["admin"]
    team = _team(client, admin, "Support", "manual", [])
    macro = ok(client.post("/api/v1/macros", json={"name": "Huge", "body": "{{ 'x' * 1000000 }}"},
                           headers=auth(admin)), 201)  # fmt: skip
    _rule(client, admin, name="Ack", actions={"macro_id": macro["id"], "team_id": team})
    cid = inbound(client, api_channel(client, admin), "Hello")["conversation_id"]
    conv = conversation(client, admin, cid)
    assert conv["team_id"] == team
    assert [m for m in conv["messages"] if m["direction"] == "out"] == []
    assert "macro.auto_reply_failed" in audit_actions(app, cid)


def test_a_conversation_an_agent_opens_keeps_its_team_and_gets_no_auto_reply(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    admin = tokens["admin"]
    ids = _agents(client, app, admin, {"ada": {"availability": "online"}})
    chosen = _team(client, admin, "Chosen", "round_robin", [ids["ada"]])
    other = _team(client, admin, "Other", "manual", [])
    macro = ok(
        client.post("/api/v1/macros", json={"name": "Ack", "body": "Got it"}, headers=auth(admin)), 201
    )
    _rule(client, admin, name="Ack", actions={"macro_id": macro["id"], "team_id": other})
    customer = set_traits(client, admin, "walkin@example.com", name="Walk In")
    opened = ok(client.post("/api/v1/conversations", json={"customer_id": customer, "team_id": chosen},
                            headers=auth(tokens["agent"])), 201)  # fmt: skip
    conv = conversation(client, admin, opened["id"])
    assert (conv["team_id"], conv["assignee_id"]) == (chosen, ids["ada"])  # the team's strategy assigned it
    assert conv["messages"] == []
