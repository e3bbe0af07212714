"""Console pages of privacy requests: filing from the customer's page, the leads' list with time left."""

from __future__ import annotations

from fastapi.testclient import TestClient

from amity.core.actions import App
from tests.test_privacy_kit import all_requests, person
from tests.test_ui_console import csrf, signed_in


def test_an_agent_files_from_the_customer_page_and_a_lead_sees_it_with_time_left(
    client: TestClient, app: App
) -> None:
    cid = person(app, "cons@example.com", "+447911100303", "Con Sole")
    agent, _, _ = signed_in(client, app, "agent")
    profile = agent.get(f"/customers/{cid}")
    assert f'href="/privacy-requests/new?customer_id={cid}"' in profile.text
    form = agent.get(f"/privacy-requests/new?customer_id={cid}")
    assert form.status_code == 200 and f'value="{cid}"' in form.text
    r = agent.post(
        "/privacy-requests",
        data={
            "csrf": csrf(form.text),
            "customer_id": cid,
            "type": "erasure",
            "verification_method": "called back on the number on file",
        },
    )
    assert r.status_code == 200 and "waits for a supervisor" in r.text
    [req] = all_requests(app)
    assert req.type == "erasure" and req.filed_by.startswith("user:") and req.status == "identity_verified"
    assert agent.get("/privacy-requests").status_code == 403  # the list is for leads
    lead, _, _ = signed_in(client, app, "supervisor")
    page = lead.get("/privacy-requests")
    assert page.status_code == 200 and f'data-request="{req.id}"' in page.text
    assert "waiting for approval" in page.text and " days" in page.text


def test_a_bad_form_is_shown_again_naming_the_field(client: TestClient, app: App) -> None:
    agent, _, _ = signed_in(client, app, "agent")
    form = agent.get("/privacy-requests/new")
    r = agent.post("/privacy-requests", data={"csrf": csrf(form.text), "customer_id": "", "type": "forget"})
    assert r.status_code == 422 and 'role="alert"' in r.text
    assert all_requests(app) == []
    forged = agent.post("/privacy-requests", data={"csrf": "nope", "customer_id": "cus_a", "type": "access"})
    assert forged.status_code == 403 and all_requests(app) == []
