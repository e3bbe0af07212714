"""The stock dialog's forms: a missing field is named after sign-in and CSRF, never before."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from amity.core.actions import App
from tests.conversation_helpers import api_channel, write_in
from tests.test_ui_console import signed_in


@pytest.mark.parametrize(
    ("action", "form", "named"),
    [
        ("lookup", {}, "sku"),
        ("reserve", {"location_id": "loc_00000000000000000000000000"}, "sku"),
        ("reserve", {}, "sku"),
        ("advice", {}, "product_id"),
    ],
)
def test_a_stock_form_without_its_field_is_refused_naming_it(
    client: TestClient, app: App, tokens: dict[str, str], action: str, form: dict[str, str], named: str
) -> None:
    kiosk = api_channel(client, tokens["admin"])
    conv = write_in(client, kiosk["id"], ("email", "ana@example.com"), "Any 6.5 left?").json()[
        "conversation_id"
    ]
    stranger = TestClient(client.app)
    r = stranger.post(f"/conversations/{conv}/stock/{action}", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    agent, token, _ = signed_in(client, app, "agent")
    r = agent.post(f"/conversations/{conv}/stock/{action}", data={**form, "csrf": token})
    assert r.status_code == 422
    assert f"{named}:" in r.text
