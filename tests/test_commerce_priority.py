"""The ``priority_routing`` loyalty benefit: a member's new conversation is high priority before routing
runs, so a rule on priorities takes it to the VIP team; the agent sees why in a note; others are not
touched and nothing is ever lowered."""

from __future__ import annotations

from fastapi.testclient import TestClient

from amity.core.actions import App
from tests.conftest import auth
from tests.test_service_kit import api_channel, audit_actions, conversation, inbound, ok


def _programme(client: TestClient, system: dict[str, str]) -> str:
    body = {
        "name": "Trail Club",
        "tiers": [
            {"name": "Silver", "rank": 1, "benefits": []},
            {"name": "Gold", "rank": 2, "benefits": ["free_expedited_shipping", "priority_routing"]},
        ],
    }
    return str(ok(client.post("/api/v1/loyalty/programmes", json=body, headers=system), 201)["id"])


def _member(client: TestClient, system: dict[str, str], programme: str, email: str, tier: str) -> None:
    body = {
        "programme_id": programme,
        "identities": [{"type": "email", "value": email}],
        "tier": tier,
        "points": 100,
    }
    ok(client.post("/api/v1/loyalty/memberships", json=body, headers=system), 201)


def _messages(client: TestClient, token: str, conversation_id: str) -> list[tuple[bool, str]]:
    return [(m["is_note"], m["text"]) for m in conversation(client, token, conversation_id)["messages"]]


def test_a_gold_members_conversation_is_high_priority_and_routed_by_it(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    admin, system = tokens["admin"], auth(tokens["integration"])
    channel = api_channel(client, admin)
    vip = str(ok(client.post("/api/v1/teams", json={"name": "VIP"}, headers=auth(admin)), 201)["id"])
    rule = {
        "name": "High to VIP",
        "conditions": {"priorities": ["high", "urgent"]},
        "actions": {"team_id": vip},
    }
    ok(client.post("/api/v1/routing-rules", json=rule, headers=auth(admin)), 201)
    # A conversation before any tier grants the benefit: untouched.
    early = inbound(client, channel, "Where is my order?", sender="gold@example.com")["conversation_id"]
    assert conversation(client, admin, early)["priority"] == "normal"

    programme = _programme(client, system)
    _member(client, system, programme, "gold@example.com", "Gold")
    _member(client, system, programme, "silver@example.com", "Silver")
    ok(client.patch(f"/api/v1/conversations/{early}", json={"status": "solved"}, headers=auth(admin)))

    gold = inbound(client, channel, "My boots are the wrong size", sender="gold@example.com")[
        "conversation_id"
    ]
    silver = inbound(client, channel, "My boots are the wrong size", sender="silver@example.com")[
        "conversation_id"
    ]
    stranger = inbound(client, channel, "Hello", sender="nobody@example.com")["conversation_id"]
    assert gold != early
    got = conversation(client, admin, gold)
    assert (got["priority"], got["team_id"]) == ("high", vip)
    assert (True, "Trail Club Gold member: priority routing (priority raised to high).") in _messages(
        client, admin, gold
    )
    assert "loyalty.priority_routing" in audit_actions(app, gold)
    for other in (silver, stranger):
        c = conversation(client, admin, other)
        assert (c["priority"], c["team_id"]) == ("normal", None)
        assert all(not note for note, _ in _messages(client, admin, other))


def test_an_urgent_conversation_of_a_member_is_never_lowered(
    client: TestClient, tokens: dict[str, str]
) -> None:
    admin, system = tokens["admin"], auth(tokens["integration"])
    channel = api_channel(client, admin)
    rule = {"name": "Outage", "conditions": {"keywords": ["outage"]}, "actions": {"priority": "urgent"}}
    ok(client.post("/api/v1/routing-rules", json=rule, headers=auth(admin)), 201)
    programme = _programme(client, system)
    _member(client, system, programme, "gold@example.com", "Gold")
    conv = inbound(client, channel, "Total outage at home", sender="gold@example.com")["conversation_id"]
    assert conversation(client, admin, conv)["priority"] == "urgent"
