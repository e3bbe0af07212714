"""The preference centre over HTTP: a magic link by email through a real SMTP relay, to an address
the customer wrote from; the same answer for strangers; consents, a copy of the data, erasure."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import pytest
from fastapi.testclient import TestClient

from amity.channels.email.listener import SmtpListener
from amity.consent import queries as consent
from amity.core.actions import App
from amity.privacy import links
from amity.privacy.models import AuditEntry
from tests.conftest import auth
from tests.test_channel_email_kit import SUPPORT, Sink, listener, mail, send, sink
from tests.test_privacy_kit import now_app, now_client

__all__ = ["listener", "now_app", "now_client", "sink"]  # fixtures used by name below

ANA = "ana.centre@example.com"
LINK = re.compile(r"(http://\S+/privacy/open\?token=\S+)")


@pytest.fixture
def email_channel(now_client: TestClient, tokens: dict[str, str], sink: Sink) -> dict[str, Any]:
    r = now_client.post(
        "/api/v1/channels",
        json={
            "type": "email",
            "name": "support",
            "config": {"address": SUPPORT, "relay": f"127.0.0.1:{sink.port}"},
        },
        headers=auth(tokens["admin"]),
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def _wrote_in(listener: SmtpListener) -> None:
    answer = send(listener, mail("Where is my order?", sender=f"Ana <{ANA}>"), mail_from=ANA)
    assert answer.data and answer.data[0] == 250


def _link_from(sink: Sink) -> str:
    [msg] = sink.messages()
    body = msg.get_body(("plain",))
    assert body is not None
    found = LINK.search(body.get_content())
    assert found, body.get_content()
    return found.group(1).replace("http://127.0.0.1:8000", "")


def test_a_customer_gets_a_link_at_the_address_they_wrote_from_and_a_stranger_the_same_page(
    now_client: TestClient, now_app: App, email_channel: dict[str, Any], listener: SmtpListener, sink: Sink
) -> None:
    _wrote_in(listener)
    known = now_client.post("/privacy/link", data={"kind": "email", "value": ANA.upper()})
    stranger = now_client.post("/privacy/link", data={"kind": "email", "value": "nobody@example.com"})
    assert known.status_code == stranger.status_code == 200
    assert known.text == stranger.text and "a link is on its way" in known.text
    [msg] = sink.messages()
    assert msg["To"] == ANA and msg["Subject"] == "Your privacy link"
    assert _link_from(sink).startswith("/privacy/open?token=")
    again = now_client.post("/privacy/link", data={"kind": "email", "value": ANA})
    assert again.text == known.text and len(sink.messages()) == 1  # throttled, and it does not say so
    with now_app.db.read() as s:
        from sqlalchemy import select

        sent = s.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.link.sent")).all()
    assert len(sent) == 1 and sent[0].details["channel_id"] == email_channel["id"]


def test_no_link_to_an_address_that_only_a_business_system_reported(
    now_client: TestClient, now_app: App, email_channel: dict[str, Any], sink: Sink
) -> None:
    from tests.test_privacy_kit import ingest

    ingest(now_app, {"type": "crm.sync", "identities": [{"type": "email", "value": "unproven@example.com"}]})
    r = now_client.post("/privacy/link", data={"kind": "email", "value": "unproven@example.com"})
    assert r.status_code == 200 and "a link is on its way" in r.text
    assert sink.messages() == []


def test_without_an_email_channel_the_page_says_links_cannot_be_sent(now_client: TestClient) -> None:
    r = now_client.post("/privacy/link", data={"kind": "email", "value": ANA})
    assert r.status_code == 200 and "We cannot send links by email here yet" in r.text
    bad = now_client.post("/privacy/link", data={"kind": "email", "value": "not an address"})
    assert bad.status_code == 422 and "does not look like an email address" in bad.text


def test_the_link_opens_the_centre_where_consents_change_and_a_copy_downloads(
    now_client: TestClient, now_app: App, email_channel: dict[str, Any], listener: SmtpListener, sink: Sink
) -> None:
    _wrote_in(listener)
    now_client.post("/privacy/link", data={"kind": "email", "value": ANA})
    opened = now_client.get(_link_from(sink), follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/privacy/me"
    assert "token=" not in opened.headers["location"]
    cookie = opened.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Path=/privacy" in cookie and "samesite=lax" in cookie.lower()
    page = now_client.get("/privacy/me")
    assert (
        page.status_code == 200
        and "Marketing" in page.text
        and "Service" not in page.text.split("consent-h")[1][:200]
    )
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    r = now_client.post(
        "/privacy/me/consents", data={"purpose": "marketing", "status": "withdrawn", "csrf": csrf.group(1)}
    )
    assert r.status_code == 200 and "Saved." in r.text
    cid = _customer(now_app)
    with now_app.db.read() as s:
        state = {(e["purpose"], e["channel"]): e for e in consent.current_state(s, cid)}
    assert (
        state[("marketing", None)]["status"] == "withdrawn"
        and state[("marketing", None)]["source"] == "preference_centre"
    )
    forged = now_client.post(
        "/privacy/me/consents", data={"purpose": "marketing", "status": "granted", "csrf": "x"}
    )
    assert forged.status_code == 400
    got = now_client.post("/privacy/me/access", data={"csrf": csrf.group(1)})
    assert got.status_code == 200 and "Download (zip)" in got.text
    href = re.search(r'href="(/privacy/me/requests/([^"/]+)/download)"', got.text)
    assert href
    from tests.test_privacy_kit import request_row

    row = request_row(now_app, href.group(2))
    assert row.source == "customer" and row.customer_id == _customer(now_app)
    assert row.verification_method == "magic link sent to their email" and row.status == "completed"
    z = now_client.get(href.group(1))
    assert z.status_code == 200
    with zipfile.ZipFile(io.BytesIO(z.content)) as f:
        assert ANA.encode() in f.read("data.json")
    # Someone else's browser (no cookie) gets nothing.
    now_client.cookies.clear()
    assert now_client.get(href.group(1)).status_code == 410
    assert ANA not in now_client.get("/privacy/me").text


def _customer(app: App) -> str:
    from sqlalchemy import select

    from amity.customers.models import Identity

    with app.db.read() as s:
        cid = s.scalar(select(Identity.customer_id).where(Identity.value == ANA))
    assert cid
    return str(cid)


def test_tampered_and_expired_links_show_a_clear_page_and_nothing_else(
    now_client: TestClient,
    now_app: App,
    email_channel: dict[str, Any],
    listener: SmtpListener,
    sink: Sink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _wrote_in(listener)
    token = links.make_link_token(now_app, _customer(now_app), "email")
    bad = now_client.get(f"/privacy/open?token={token[:-3]}abc", follow_redirects=False)
    assert bad.status_code == 400 and "This link is not valid" in bad.text and ANA not in bad.text
    assert "set-cookie" not in bad.headers
    monkeypatch.setattr(links, "LINK_MAX_AGE", -1)
    old = now_client.get(f"/privacy/open?token={token}", follow_redirects=False)
    assert old.status_code == 410 and "This link has expired" in old.text and "set-cookie" not in old.headers
    assert now_client.get("/privacy/open", follow_redirects=False).status_code == 400


def test_erasure_from_the_centre_closes_it_and_the_old_link_no_longer_opens(
    now_client: TestClient, now_app: App, email_channel: dict[str, Any], listener: SmtpListener, sink: Sink
) -> None:
    _wrote_in(listener)
    now_client.post("/privacy/link", data={"kind": "email", "value": ANA})
    link = _link_from(sink)
    now_client.get(link)
    csrf = re.search(r'name="csrf" value="([^"]+)"', now_client.get("/privacy/me").text)
    assert csrf
    unticked = now_client.post("/privacy/me/erase", data={"csrf": csrf.group(1)})
    assert "Tick the box" in unticked.text
    done = now_client.post("/privacy/me/erase", data={"csrf": csrf.group(1), "confirm": "yes"})
    assert done.status_code == 200 and "Your data is being erased" in done.text
    assert 'amity_privacy=""' in done.headers["set-cookie"] or "Max-Age=0" in done.headers["set-cookie"]
    again = now_client.get(link, follow_redirects=False)
    assert again.status_code == 400
