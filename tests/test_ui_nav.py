"""Navigation shows each person the pages their role opens, and nothing they would be refused."""

from __future__ import annotations

from fastapi.testclient import TestClient

from amity.core.actions import App
from tests.test_ui_console import signed_in


def test_privacy_requests_account_and_access_log_are_reachable_by_who_may_open_them(
    client: TestClient, app: App
) -> None:
    lead, _, _ = signed_in(client, app, "supervisor")
    agent, _, _ = signed_in(client, app, "agent")
    admin, _, _ = signed_in(client, app, "admin")
    assert 'href="/privacy-requests"' in lead.get("/inbox").text
    assert lead.get("/privacy-requests").status_code == 200
    assert 'href="/privacy-requests"' not in agent.get("/inbox").text  # they would get the 403 page
    assert 'href="/account/security"' in agent.get("/inbox").text  # everyone reaches their own account
    index = admin.get("/admin").text
    assert 'href="/admin/access-log"' in index and "Access log" in index
