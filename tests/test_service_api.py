"""The configuration API: create, read, change and delete, with refusals that name the field."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from amity.core.actions import App
from tests.conftest import auth
from tests.test_service_kit import audit_actions, ok, person, session_headers


def test_teams_and_members_from_start_to_end(client: TestClient, app: App, tokens: dict[str, str]) -> None:
    admin = auth(tokens["admin"])
    ada, ben = person(app, "ada@example.com"), person(app, "ben@example.com")
    tier = ok(client.post("/api/v1/tiers", json={"name": "Tier 1", "level": 1}, headers=admin), 201)
    team = ok(client.post("/api/v1/teams", json={"name": "Support", "tier_id": tier["id"], "members": [ada]},
                          headers=admin), 201)  # fmt: skip
    assert (team["strategy"], team["members"]) == ("round_robin", [ada])
    team = ok(client.put(f"/api/v1/teams/{team['id']}/members/{ben}", headers=admin))
    assert team["members"] == sorted([ada, ben])
    ok(client.put(f"/api/v1/teams/{team['id']}/members/{ben}", headers=admin))  # again: no change
    team = ok(client.delete(f"/api/v1/teams/{team['id']}/members/{ada}", headers=admin))
    assert team["members"] == [ben]
    team = ok(client.patch(f"/api/v1/teams/{team['id']}", json={"strategy": "least_loaded", "name": "Care"},
                           headers=admin))  # fmt: skip
    assert (team["name"], team["strategy"], team["tier_id"]) == ("Care", "least_loaded", tier["id"])
    assert (
        ok(client.get(f"/api/v1/teams/{team['id']}", headers=auth(tokens["integration"])))["name"] == "Care"
    )
    # The tier is in use by the team, so it stays until the team is gone.
    assert client.delete(f"/api/v1/tiers/{tier['id']}", headers=admin).status_code == 409
    assert client.delete(f"/api/v1/teams/{team['id']}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/teams/{team['id']}", headers=admin).status_code == 404
    assert client.delete(f"/api/v1/tiers/{tier['id']}", headers=admin).status_code == 204
    assert audit_actions(app, team["id"]) == [
        "team.created",
        "team.member_added",
        "team.member_removed",
        "team.updated",
        "team.deleted",
    ]


def test_agent_profiles_and_availability(client: TestClient, app: App, tokens: dict[str, str]) -> None:
    admin = auth(tokens["admin"])
    kim = person(app, "kim@example.com", "agent", "Kim")
    tier = ok(client.post("/api/v1/tiers", json={"name": "T2", "level": 2, "limits": {"refund": {"EUR": 5000}}},
                          headers=admin), 201)  # fmt: skip
    profile = ok(
        client.patch(
            f"/api/v1/agents/{kim}",
            json={"tier_id": tier["id"], "skills": {"language": ["pt", "en", "pt"]}, "capacity": 4},
            headers=admin,
        )
    )
    assert (profile["availability"], profile["skills"], profile["capacity"]) == (
        "offline",
        {"language": ["pt", "en"]},
        4,
    )
    me = session_headers(client, "kim@example.com")
    assert (
        ok(client.put("/api/v1/me/availability", json={"availability": "online"}, headers=me))["availability"]
        == "online"
    )
    r = client.put("/api/v1/me/availability", json={"availability": "online"}, headers=auth(tokens["agent"]))
    assert (
        r.status_code == 422 and r.json()["errors"][0]["field"] == "availability"
    )  # a token is not a person
    r = client.put("/api/v1/me/availability", json={"availability": "asleep"}, headers=me)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "availability"
    listed = ok(client.get("/api/v1/agents", headers=admin))["items"]
    assert [(a["user_id"], a["availability"], a["tier_id"]) for a in listed] == [(kim, "online", tier["id"])]
    assert client.patch("/api/v1/agents/usr_nope", json={}, headers=admin).status_code == 404
    integration = person(app, "pos@example.com", "integration")
    r = client.patch(f"/api/v1/agents/{integration}", json={"capacity": 1}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "user_id"
    r = client.patch(f"/api/v1/agents/{kim}", json={"tier_id": "tir_nope"}, headers=admin)
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "tier_id"


def test_brands_calendars_and_policies(client: TestClient, tokens: dict[str, str]) -> None:
    admin = auth(tokens["admin"])
    brand = ok(client.post("/api/v1/brands", json={"name": "Shoebox", "from_address": "Help@Shoebox.example",
                                                   "colours": {"primary": "#112233"}}, headers=admin), 201)  # fmt: skip
    assert brand["from_address"] == "Help@shoebox.example"
    assert (
        ok(client.patch(f"/api/v1/brands/{brand['id']}", json={"signature": "— Shoebox"}, headers=admin))[
            "signature"
        ]
        == "— Shoebox"
    )
    cal = ok(client.post("/api/v1/calendars", json={"name": "Lisbon", "timezone": "Europe/Lisbon",
                                                    "hours": {"mon": [["09:00", "18:00"]]}}, headers=admin), 201)  # fmt: skip
    policy = ok(client.post("/api/v1/sla-policies", json={"name": "Std", "calendar_id": cal["id"],
                                                          "targets": {"high": {"first_response": 30}}},
                            headers=admin), 201)  # fmt: skip
    assert policy["targets"] == {"high": {"first_response": 30}} and policy["position"] == 10
    assert client.delete(f"/api/v1/calendars/{cal['id']}", headers=admin).status_code == 409
    r = client.patch(f"/api/v1/calendars/{cal['id']}", json={"timezone": "Moon/Base"}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "timezone"
    ok(client.patch(f"/api/v1/sla-policies/{policy['id']}", json={"calendar_id": None}, headers=admin))
    assert client.delete(f"/api/v1/calendars/{cal['id']}", headers=admin).status_code == 204
    assert client.delete(f"/api/v1/sla-policies/{policy['id']}", headers=admin).status_code == 204
    assert client.delete(f"/api/v1/brands/{brand['id']}", headers=admin).status_code == 204


def test_lists_page_with_limit_and_offset(client: TestClient, tokens: dict[str, str]) -> None:
    admin = auth(tokens["admin"])
    for level in range(5):
        ok(client.post("/api/v1/tiers", json={"name": f"T{level}", "level": level}, headers=admin), 201)
    first = ok(client.get("/api/v1/tiers?limit=2", headers=admin))
    assert [t["level"] for t in first["items"]] == [0, 1] and first["next_offset"] == 2
    last = ok(client.get("/api/v1/tiers?limit=2&offset=4", headers=admin))
    assert [t["level"] for t in last["items"]] == [4] and last["next_offset"] is None
    assert client.get("/api/v1/tiers?limit=0", headers=admin).status_code == 422


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/api/v1/tiers", {"name": "T", "level": -1}, 422, "level"),
        ("/api/v1/tiers", {"name": "T", "level": 1, "limits": {"refund": {"euro": 5}}}, 422, "limits.refund.euro.[key]"),
        ("/api/v1/tiers", {"name": "T", "level": 1, "limits": {"bribe": {"EUR": 5}}}, 422, "limits.bribe.[key]"),
        ("/api/v1/tiers", {"name": "T\u0000", "level": 1}, 422, "name"),
        ("/api/v1/teams", {"name": "T", "strategy": "random"}, 422, "strategy"),
        ("/api/v1/teams", {"name": "T", "members": ["usr_nope"]}, 404, "members[0]"),
        ("/api/v1/teams", {"name": "T", "tier_id": "tir_nope"}, 404, "tier_id"),
        ("/api/v1/brands", {"name": "B", "colours": {"primary": "red"}}, 422, "colours.primary"),
        ("/api/v1/brands", {"name": "B", "from_address": "not an address"}, 422, "from_address"),
        ("/api/v1/calendars", {"name": "C", "timezone": "UTC", "hours": {"mon": [["25:00", "26:00"]]}}, 422, "hours.mon[0]"),
        ("/api/v1/calendars", {"name": "C", "timezone": "UTC", "hours": {"mon": [["09:00"]]}}, 422, "hours.mon[0]"),
        ("/api/v1/sla-policies", {"name": "P", "targets": {}}, 422, "targets"),
        ("/api/v1/sla-policies", {"name": "P", "targets": {"normal": {}}}, 422, "targets"),
        ("/api/v1/sla-policies", {"name": "P", "targets": {"normal": {"first_response": 0}}}, 422,
         "targets.normal.first_response"),
        ("/api/v1/sla-policies", {"name": "P", "targets": {"meh": {"first_response": 5}}}, 422, "targets.meh.[key]"),
        ("/api/v1/sla-policies", {"name": "P", "calendar_id": "cal_nope", "targets": {"*": {"resolution": 5}}}, 404,
         "calendar_id"),
    ],
)  # fmt: skip
def test_wrong_configuration_is_refused_naming_the_field(
    client: TestClient, tokens: dict[str, str], path: str, body: dict[str, Any], status: int, field: str
) -> None:
    r = client.post(path, json=body, headers=auth(tokens["admin"]))
    assert r.status_code == status, r.text
    assert [e["field"] for e in r.json()["errors"]][:1] == [field]


def test_names_are_unique_and_levels_too(client: TestClient, tokens: dict[str, str]) -> None:
    admin = auth(tokens["admin"])
    ok(client.post("/api/v1/tiers", json={"name": "Gold", "level": 1}, headers=admin), 201)
    r = client.post("/api/v1/tiers", json={"name": "gold", "level": 2}, headers=admin)
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "name"
    r = client.post("/api/v1/tiers", json={"name": "Silver", "level": 1}, headers=admin)
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "level"


@pytest.mark.parametrize(
    "path",
    ["tiers/tir_x", "teams/tea_x", "agents/usr_x", "brands/brd_x", "calendars/cal_x", "macros/mac_x",
     "routing-rules/rul_x", "sla-policies/sla_x", "approvals/apr_x"],
)  # fmt: skip
def test_unknown_ids_answer_404_naming_the_id(client: TestClient, tokens: dict[str, str], path: str) -> None:
    r = client.get(f"/api/v1/{path}", headers=auth(tokens["admin"]))
    assert r.status_code == 404
    assert r.json()["errors"][0]["field"].endswith("_id")
