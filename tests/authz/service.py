"""Teams, tiers, agents, brands, calendars, macros, routing rules, SLA policies, escalations and approvals
(docs/service-levels.md, "API"): reading needs conversations:read, configuring needs service:manage,
escalating and asking for approvals need conversations:write, deciding needs approvals:decide."""

from __future__ import annotations

from tests.authz import ADMIN, LEADS, STAFF

READERS = frozenset({"admin", "supervisor", "agent", "integration"})


def _crud(path: str, key: str) -> dict[tuple[str, str], frozenset[str]]:
    return {
        ("GET", f"/api/v1/{path}"): READERS,
        ("POST", f"/api/v1/{path}"): ADMIN,
        ("GET", f"/api/v1/{path}/{{{key}}}"): READERS,
        ("PATCH", f"/api/v1/{path}/{{{key}}}"): ADMIN,
        ("DELETE", f"/api/v1/{path}/{{{key}}}"): ADMIN,
    }


ALLOWED = {
    **_crud("tiers", "tier_id"),
    **_crud("teams", "team_id"),
    ("PUT", "/api/v1/teams/{team_id}/members/{user_id}"): ADMIN,
    ("DELETE", "/api/v1/teams/{team_id}/members/{user_id}"): ADMIN,
    ("GET", "/api/v1/agents"): READERS,
    ("GET", "/api/v1/agents/{user_id}"): READERS,
    ("PATCH", "/api/v1/agents/{user_id}"): ADMIN,
    ("PUT", "/api/v1/me/availability"): STAFF,
    **_crud("brands", "brand_id"),
    **_crud("calendars", "calendar_id"),
    **_crud("macros", "macro_id"),
    ("POST", "/api/v1/macros/{macro_id}/render"): STAFF,
    **_crud("routing-rules", "rule_id"),
    **_crud("sla-policies", "policy_id"),
    ("POST", "/api/v1/conversations/{conversation_id}/escalate"): STAFF,
    ("GET", "/api/v1/conversations/{conversation_id}/escalations"): READERS,
    ("GET", "/api/v1/conversations/{conversation_id}/service-levels"): READERS,
    ("POST", "/api/v1/approvals"): STAFF,
    ("GET", "/api/v1/approvals"): STAFF,
    ("GET", "/api/v1/approvals/{approval_id}"): STAFF,
    # Also a person whose tier may approve (tests/test_service_approvals.py); no token role has that.
    ("POST", "/api/v1/approvals/{approval_id}/decide"): LEADS,
}
