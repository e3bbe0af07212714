"""Escalation: one action moves a conversation up a tier, keeps its history and says why."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from amity.core.actions import App
from tests.conftest import auth
from tests.test_service_kit import (
    api_channel,
    audit_actions,
    conversation,
    inbound,
    ok,
    person,
    record_events,
    session_headers,
)


@pytest.fixture
def tiers(client: TestClient, app: App, tokens: dict[str, str]) -> dict[str, Any]:
    admin = auth(tokens["admin"])
    ids: dict[str, Any] = {}
    for level, name in ((1, "Front line"), (2, "Experts"), (3, "Legal")):
        ids[name] = ok(client.post("/api/v1/tiers", json={"name": name, "level": level}, headers=admin), 201)[
            "id"
        ]
    alex = person(app, "alex@example.com", "agent", "Alex")
    eve = person(app, "eve@example.com", "agent", "Eve")
    ok(client.patch(f"/api/v1/agents/{eve}", json={"availability": "online"}, headers=admin))
    teams = {}
    for name, tier, strategy, members in (
        ("Front desk", "Front line", "round_robin", [alex]),
        ("Expert desk", "Experts", "round_robin", [eve]),
        ("Legal desk", "Legal", "manual", []),
    ):
        body = {"name": name, "tier_id": ids[tier], "strategy": strategy, "members": members}
        teams[name] = ok(client.post("/api/v1/teams", json=body, headers=admin), 201)["id"]
    channel = api_channel(client, tokens["admin"])
    cid = inbound(client, channel, "The replacement is broken too")["conversation_id"]
    alex_h = session_headers(client, "alex@example.com")
    ok(client.patch(f"/api/v1/conversations/{cid}", json={"team_id": teams["Front desk"], "assignee_id": alex},
                    headers=alex_h))  # fmt: skip
    ok(
        client.post(
            f"/api/v1/conversations/{cid}/messages", json={"text": "Sorry! Checking."}, headers=alex_h
        ),
        201,
    )
    return {"tiers": ids, "teams": teams, "conversation": cid, "alex": alex, "eve": eve, "as_alex": alex_h}


def test_escalating_moves_up_one_tier_keeps_history_and_notes_the_reason(
    client: TestClient, app: App, tokens: dict[str, str], tiers: dict[str, Any]
) -> None:
    seen = record_events(app)
    cid = tiers["conversation"]
    before = conversation(client, tokens["agent"], cid)["messages"]
    r = client.post(f"/api/v1/conversations/{cid}/escalate",
                    json={"reason": "Second defect in a row; needs a goodwill decision"}, headers=tiers["as_alex"])  # fmt: skip
    body = ok(r, 201)
    esc, conv = body["escalation"], body["conversation"]
    assert (esc["from_tier_id"], esc["to_tier_id"]) == (
        tiers["tiers"]["Front line"],
        tiers["tiers"]["Experts"],
    )
    assert (esc["from_team_id"], esc["to_team_id"]) == (
        tiers["teams"]["Front desk"],
        tiers["teams"]["Expert desk"],
    )
    assert (esc["from_assignee_id"], esc["to_assignee_id"]) == (tiers["alex"], tiers["eve"])
    assert (conv["team_id"], conv["assignee_id"]) == (tiers["teams"]["Expert desk"], tiers["eve"])
    # Every earlier message is still there, plus the note saying why.
    assert [m["id"] for m in conv["messages"][: len(before)]] == [m["id"] for m in before]
    note = conv["messages"][-1]
    assert note["is_note"] and note["text"] == (
        "Escalated to Expert desk (Experts) by Alex.\nReason: Second defect in a row; needs a goodwill decision"
    )
    assert "conversation.escalated" in audit_actions(app, cid)
    created = [e for e in seen if e.name == "escalation.created"]
    assert len(created) == 1 and created[0].data["escalation_id"] == esc["id"]
    listed = ok(client.get(f"/api/v1/conversations/{cid}/escalations", headers=auth(tokens["agent"])))
    assert [e["id"] for e in listed["items"]] == [esc["id"]]


def test_escalating_to_a_team_with_manual_assignment_leaves_it_in_the_queue(
    client: TestClient, tokens: dict[str, str], tiers: dict[str, Any]
) -> None:
    cid = tiers["conversation"]
    body = ok(client.post(f"/api/v1/conversations/{cid}/escalate",
                          json={"reason": "Threatens legal action", "to_team": tiers["teams"]["Legal desk"]},
                          headers=tiers["as_alex"]), 201)  # fmt: skip
    assert body["conversation"]["team_id"] == tiers["teams"]["Legal desk"]
    assert body["conversation"]["assignee_id"] is None
    # Legal is the top: there is nowhere higher to go, and going down is not an escalation.
    top = client.post(
        f"/api/v1/conversations/{cid}/escalate", json={"reason": "more"}, headers=tiers["as_alex"]
    )
    assert top.status_code == 409 and top.json()["errors"][0]["field"] == "to_tier"
    down = client.post(f"/api/v1/conversations/{cid}/escalate",
                       json={"reason": "x", "to_tier": tiers["tiers"]["Experts"]}, headers=tiers["as_alex"])  # fmt: skip
    assert down.status_code == 409 and "is not above" in down.json()["message"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"reason": "x", "to_team": "tea_nope"}, 404, "to_team"),
        ({"reason": "x", "to_tier": "tir_nope"}, 404, "to_tier"),
        ({"reason": ""}, 422, "reason"),
        ({"reason": "   "}, 422, "reason"),
        ({"reason": "x", "urgent": True}, 422, "urgent"),
    ],
)
def test_a_wrong_escalation_is_refused_naming_the_field(
    client: TestClient, tiers: dict[str, Any], body: dict[str, Any], status: int, field: str
) -> None:
    r = client.post(
        f"/api/v1/conversations/{tiers['conversation']}/escalate", json=body, headers=tiers["as_alex"]
    )
    assert r.status_code == status, r.text
    assert r.json()["errors"][0]["field"] == field


def test_an_unknown_or_solved_conversation_cannot_be_escalated(
    client: TestClient, tokens: dict[str, str], tiers: dict[str, Any]
) -> None:
    r = client.post("/api/v1/conversations/cnv_nope/escalate", json={"reason": "x"}, headers=tiers["as_alex"])
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "conversation_id"
    cid = tiers["conversation"]
    ok(client.patch(f"/api/v1/conversations/{cid}", json={"status": "solved"}, headers=tiers["as_alex"]))
    r = client.post(f"/api/v1/conversations/{cid}/escalate", json={"reason": "x"}, headers=tiers["as_alex"])
    assert r.status_code == 409
    assert (
        client.get("/api/v1/conversations/cnv_nope/escalations", headers=auth(tokens["agent"])).status_code
        == 404
    )
