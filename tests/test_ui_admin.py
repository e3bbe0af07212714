"""Admin pages over plain HTTP (TestClient, signed-in session), on SQLite and PostgreSQL: who may open
them, that every form stores what it says through the audited actions, and that a refusal is shown
next to its field with everything else the admin typed still in the form."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.accounts.actions import create_token, create_user
from amity.accounts.models import ApiToken, User
from amity.accounts.queries import actor_for_token
from amity.channels.actions import create_channel
from amity.channels.models import Channel, WebhookDelivery, WebhookSubscription
from amity.channels.outgoing_api import create_subscription
from amity.core.actions import SYSTEM, App, perform
from amity.db import utcnow
from amity.privacy.models import AuditEntry
from amity.service import people, queries, setup
from amity.service.models import (
    AgentProfile,
    Brand,
    Calendar,
    Macro,
    RoutingRule,
    SlaPolicy,
    Team,
    TeamMember,
    Tier,
)
from amity.web.ui_admin_rules import RULES
from amity.web.ui_admin_setup import BRANDS, CALENDARS, MACROS
from amity.web.ui_admin_sla import POLICIES
from amity.web.ui_admin_teams import TEAMS, TIERS
from tests.e2e.test_ui_http import PASSWORD, csrf, sign_in

LISTS = [
    "/admin",
    "/admin/channels",
    "/admin/teams",
    "/admin/people",
    "/admin/tiers",
    "/admin/routing",
    "/admin/sla",
    "/admin/calendars",
    "/admin/macros",
    "/admin/brands",
    "/admin/tokens",
    "/admin/webhooks",
] + [
    f"/admin/channels/new?type={t}" for t in ("email", "chat", "sms", "whatsapp", "telegram", "voice", "api")
]

HOURS = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def audit(app: App, action: str) -> list[AuditEntry]:
    with app.db.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def error_of(html: str, field: str) -> str:
    """The message shown under ``field`` (the element the field's aria-describedby points at)."""
    found = re.search(rf'<p class="field-error" id="{re.escape(field)}-error">([^<]*)</p>', html)
    assert found, f"no error shown for {field}"
    return found.group(1)


def value_of(html: str, field: str) -> str:
    found = re.search(rf'name="{re.escape(field)}"[^>]*value="([^"]*)"', html)
    assert found, f"no input {field}"
    return found.group(1)


def seeded(app: App) -> dict[str, str]:
    """One of each thing, made through the actions, so every edit page has something to show."""
    now = utcnow()
    agent = perform(app, SYSTEM, create_user, "ana@example.org", PASSWORD, "agent", "Ana").id
    tier = perform(
        app, SYSTEM, people.create_tier, {"name": "T1", "level": 1, "limits": {}, "may_approve": False}, now
    )
    team = perform(
        app, SYSTEM, people.create_team, {"name": "Returns", "tier_id": tier.id, "members": [agent]}, now
    )
    cal = perform(
        app,
        SYSTEM,
        setup.create_calendar,
        {"name": "Lisbon", "timezone": "Europe/Lisbon", "hours": HOURS},
        now,
    )
    macro = perform(
        app, SYSTEM, setup.create_macro, {"name": "Hi", "body": "Hello {{ customer.first_name }}"}, now
    )
    brand = perform(app, SYSTEM, setup.create_brand, {"name": "Trail", "signature": "", "colours": {}}, now)
    rule = perform(app, SYSTEM, setup.create_rule, {"name": "All", "actions": {"team_id": team.id}}, now)
    policy = perform(
        app, SYSTEM, setup.create_policy, {"name": "Std", "targets": {"*": {"first_response": 60}}}, now
    )
    chan = perform(
        app,
        SYSTEM,
        create_channel,
        "telegram",
        "Bot",
        {"bot_token": "123:" + "a" * 30, "webhook_secret": "s" * 20},
    )
    sub, _ = perform(app, SYSTEM, create_subscription, "https://crm.example/hook", [], True)
    return {
        "agent": agent, "tier": tier.id, "team": team.id, "calendar": cal.id, "macro": macro.id,
        "brand": brand.id, "rule": rule.id, "policy": policy.id, "channel": chan.id, "webhook": sub.id,
    }  # fmt: skip


def edit_pages(ids: dict[str, str]) -> list[str]:
    return [
        f"/admin/people/{ids['agent']}",
        f"/admin/tiers/{ids['tier']}",
        f"/admin/teams/{ids['team']}",
        f"/admin/calendars/{ids['calendar']}",
        f"/admin/macros/{ids['macro']}",
        f"/admin/brands/{ids['brand']}",
        f"/admin/routing/{ids['rule']}",
        f"/admin/sla/{ids['policy']}",
        f"/admin/channels/{ids['channel']}",
        f"/admin/webhooks/{ids['webhook']}",
    ]


# ---- who may open them --------------------------------------------------------------------------------
def test_every_admin_page_renders_for_an_admin(client: TestClient, app: App) -> None:
    ids = seeded(app)
    sign_in(client, app, "admin")
    for path in LISTS + edit_pages(ids):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[:2000])
        assert 'name="csrf"' in r.text and "<h1>" in r.text, path
        assert r.headers["x-frame-options"] == "DENY", path
    assert client.get("/admin/teams/tea_nobody").status_code == 404
    assert client.get("/admin/channels/new?type=pigeon").status_code == 404


@pytest.mark.parametrize("role", ["supervisor", "agent"])
def test_other_roles_get_the_403_page_everywhere_and_change_nothing(
    client: TestClient, app: App, role: str
) -> None:
    ids = seeded(app)
    token = sign_in(client, app, role)
    for path in LISTS + edit_pages(ids):
        r = client.get(path)
        assert r.status_code == 403 and "Not allowed" in r.text, path
    posts = {
        "/admin/teams": {"name": "Sneaky", "strategy": "manual"},
        "/admin/tiers": {"name": "Boss", "level": "99"},
        "/admin/tokens": {"name": "mine", "role": "admin"},
        "/admin/webhooks": {"url": "https://evil.example/"},
        "/admin/channels/new?type=voice": {"name": "Line", "config.secret": "x" * 20},
        f"/admin/teams/{ids['team']}/delete": {},
    }
    for path, data in posts.items():
        r = client.post(path, data={"csrf": token, **data})
        assert r.status_code == 403, path
    with app.db.read() as s:
        assert s.scalar(select(Team.id).where(Team.name == "Sneaky")) is None
        assert s.get(Team, ids["team"]) is not None
        assert s.scalars(select(ApiToken)).all() == []
        assert len(s.scalars(select(WebhookSubscription)).all()) == 1


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient, app: App) -> None:
    for path in ["/admin", "/admin/channels", "/admin/tokens"]:
        r = client.get(path, follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, f"/login?next={path}")
    r = client.post("/admin/teams", data={"csrf": "x", "name": "T"}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/login")


def test_a_form_without_this_sessions_token_is_refused(client: TestClient, app: App) -> None:
    sign_in(client, app, "admin")
    for bad in ["", "forged"]:
        r = client.post("/admin/teams", data={"csrf": bad, "name": "Returns", "strategy": "manual"})
        assert r.status_code == 403 and "did not come from Amity" in r.text
        r = client.post("/admin/tokens", data={"csrf": bad, "name": "shop", "role": "integration"})
        assert r.status_code == 403
    with app.db.read() as s:
        assert s.scalars(select(Team)).all() == [] and s.scalars(select(ApiToken)).all() == []


# ---- creating through the forms -----------------------------------------------------------------------
def test_an_email_channel_is_created_and_its_secret_never_shown_back(client: TestClient, app: App) -> None:
    token = sign_in(client, app, "admin")
    r = client.post(
        "/admin/channels/new?type=email",
        data={"csrf": token, "name": "Support", "brand_id": "", "config.address": "help@shop.example",
              "config.from_name": "Shop Support", "config.relay_password": "hunter2-very-secret-pw",
              "config.reply_to_token": "on"},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303, r.text
    channel_id = r.headers["location"].split("/")[-1].split("?")[0]
    with app.db.read() as s:
        c = s.get(Channel, channel_id)
        assert c is not None and (c.type, c.name, c.enabled) == ("email", "Support", True)
        assert (
            c.config["address"] == "help@shop.example"
            and c.config["relay_password"] == "hunter2-very-secret-pw"
        )
        assert c.config["reply_to_token"] is True and c.config["relay_starttls"] is False
    [row] = audit(app, "channel.created")
    assert row.subject_id == channel_id and row.actor.startswith("user:")
    assert "hunter2" not in str(row.details)

    page = client.get(f"/admin/channels/{channel_id}")
    assert "hunter2" not in page.text and "Leave empty to keep it" in page.text.replace("leave", "Leave")
    # Saving with the secret field empty keeps the stored secret; the name changes.
    form = {
        "csrf": token,
        "name": "Support desk",
        "config.address": "help@shop.example",
        "config.relay_password": "",
    }
    r = client.post(f"/admin/channels/{channel_id}", data=form, follow_redirects=False)
    assert r.status_code == 303
    with app.db.read() as s:
        c = s.get(Channel, channel_id)
        assert (
            c is not None
            and c.name == "Support desk"
            and c.config["relay_password"] == "hunter2-very-secret-pw"
        )
    r = client.post(f"/admin/channels/{channel_id}/disable", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    with app.db.read() as s:
        assert s.get(Channel, channel_id).enabled is False  # type: ignore[union-attr]


def test_a_webhook_channel_shows_its_url_to_copy(client: TestClient, app: App) -> None:
    token = sign_in(client, app, "admin")
    r = client.post(
        "/admin/channels/new?type=voice",
        data={"csrf": token, "name": "Phone line", "config.secret": "v" * 24},
    )
    assert r.status_code == 200 and "Channel added." in r.text
    with app.db.read() as s:
        c = s.scalars(select(Channel)).one()
    shown = re.search(r'id="webhook-url" type="text" readonly value="([^"]+)"', r.text)
    assert shown and shown.group(1) == f"{app.settings.base_url}/hooks/{c.id}/voice"
    assert "v" * 24 not in r.text


def test_a_team_with_a_member_is_created_and_members_change_on_its_page(client: TestClient, app: App) -> None:
    ana = perform(app, SYSTEM, create_user, "ana@example.org", PASSWORD, "agent").id
    bo = perform(app, SYSTEM, create_user, "bo@example.org", PASSWORD, "supervisor").id
    tier = perform(
        app,
        SYSTEM,
        people.create_tier,
        {"name": "T1", "level": 1, "limits": {}, "may_approve": False},
        utcnow(),
    )
    token = sign_in(client, app, "admin")
    r = client.post(
        "/admin/teams",
        data={
            "csrf": token,
            "name": "Returns",
            "tier_id": tier.id,
            "strategy": "least_loaded",
            "members": [ana],
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    with app.db.read() as s:
        team = s.scalars(select(Team)).one()
        assert (team.name, team.tier_id, team.strategy) == ("Returns", tier.id, "least_loaded")
        assert s.scalars(select(TeamMember.user_id)).all() == [ana]
    [row] = audit(app, "team.created")
    assert row.details["members"] == [ana]

    client.post(f"/admin/teams/{team.id}/members", data={"csrf": token, "user_id": bo})
    client.post(f"/admin/teams/{team.id}/members/{ana}/remove", data={"csrf": token})
    with app.db.read() as s:
        assert s.scalars(select(TeamMember.user_id)).all() == [bo]
    assert len(audit(app, "team.member_added")) == 1 and len(audit(app, "team.member_removed")) == 1


def test_a_person_and_their_agent_profile(client: TestClient, app: App) -> None:
    tier = perform(
        app,
        SYSTEM,
        people.create_tier,
        {"name": "T2", "level": 2, "limits": {}, "may_approve": True},
        utcnow(),
    )
    token = sign_in(client, app, "admin")
    r = client.post(
        "/admin/people",
        data={"csrf": token, "email": "Cy@Example.org", "name": "Cy", "role": "agent", "password": PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with app.db.read() as s:
        user = s.scalars(select(User).where(User.email == "cy@example.org")).one()
    r = client.post(
        f"/admin/people/{user.id}",
        data={"csrf": token, "tier_id": tier.id, "skills": "language: en, pt\nproduct: shoes",
              "capacity": "5", "availability": "online"},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303, r.text
    with app.db.read() as s:
        p = s.get(AgentProfile, user.id)
        assert p is not None and (p.tier_id, p.capacity, p.availability) == (tier.id, 5, "online")
        assert p.skills == {"language": ["en", "pt"], "product": ["shoes"]}
    assert audit(app, "user.created") and audit(app, "agent.updated")
    # A refused password is not sent back; the other fields are.
    r = client.post(
        "/admin/people",
        data={"csrf": token, "email": "dee@example.org", "name": "Dee", "role": "agent", "password": "short"},
    )
    assert r.status_code == 422 and "at least 10 characters" in error_of(r.text, "password")
    assert value_of(r.text, "email") == "dee@example.org" and value_of(r.text, "password") == ""


def test_a_tier_with_limits(client: TestClient, app: App) -> None:
    token = sign_in(client, app, "admin")
    r = client.post(
        "/admin/tiers",
        data={
            "csrf": token,
            "name": "Senior",
            "level": "2",
            "limits": "refund EUR 10000\ncredit EUR 5000",
            "may_approve": "on",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    with app.db.read() as s:
        t = s.scalars(select(Tier)).one()
        assert (t.name, t.level, t.may_approve) == ("Senior", 2, True)
        assert t.limits == {"refund": {"EUR": 10000}, "credit": {"EUR": 5000}}
    assert audit(app, "tier.created")[0].subject_id == t.id
    # Level 2 is taken: a 409, shown under Level, with the name still typed in.
    r = client.post(
        "/admin/tiers", data={"csrf": token, "name": "Other", "level": "2", "limits": "refund EUR 1"}
    )
    assert r.status_code == 409 and "already has level 2" in error_of(r.text, "level")
    assert value_of(r.text, "name") == "Other" and "refund EUR 1" in r.text
    r = client.post(
        "/admin/tiers", data={"csrf": token, "name": "Other", "level": "3", "limits": "refund euros lots"}
    )
    assert r.status_code == 422 and "Line 1" in error_of(r.text, "limits")


def test_an_sla_policy_with_targets_per_priority(client: TestClient, app: App) -> None:
    cal = perform(
        app,
        SYSTEM,
        setup.create_calendar,
        {"name": "Lisbon", "timezone": "Europe/Lisbon", "hours": HOURS},
        utcnow(),
    )
    token = sign_in(client, app, "admin")
    data: dict[str, Any] = {
        "csrf": token, "name": "Gold", "enabled": "on", "calendar_id": cal.id,
        "conditions.priorities": ["high", "urgent"], "conditions.channel_types": ["email"],
        "targets.urgent.first_response": "15", "targets.*.first_response": "60", "targets.*.resolution": "1440",
        "warn_before_minutes": "10",
    }  # fmt: skip
    r = client.post("/admin/sla", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    with app.db.read() as s:
        p = s.scalars(select(SlaPolicy)).one()
        assert p.targets == {
            "urgent": {"first_response": 15},
            "*": {"first_response": 60, "resolution": 1440},
        }
        assert p.conditions == {"priorities": ["high", "urgent"], "channel_types": ["email"]}
        assert (p.calendar_id, p.warn_before_minutes, p.enabled) == (cal.id, 10, True)
    assert audit(app, "sla_policy.created")[0].subject_id == p.id
    # A bad number is shown under its own box; the other targets and ticks stay.
    r = client.post("/admin/sla", data={**data, "name": "Silver", "targets.high.resolution": "soon"})
    assert r.status_code == 422 and error_of(r.text, "targets.high.resolution") == "A whole number, please."
    assert value_of(r.text, "targets.urgent.first_response") == "15" and value_of(r.text, "name") == "Silver"
    assert re.search(r'name="conditions.priorities" value="urgent" checked', r.text)
    r = client.post("/admin/sla", data={"csrf": token, "name": "Empty"})
    assert r.status_code == 422 and "target" in error_of(r.text, "targets.*.first_response")


def test_a_routing_rule_is_created_and_reordered(client: TestClient, app: App) -> None:
    team = perform(app, SYSTEM, people.create_team, {"name": "Returns"}, utcnow())
    token = sign_in(client, app, "admin")
    for name in ("First", "Second"):
        r = client.post(
            "/admin/routing",
            data={"csrf": token, "name": name, "enabled": "on", "conditions.keywords": "refund, broken",
                  "actions.team_id": team.id, "actions.tags": "Refund", "actions.priority": "high"},
            follow_redirects=False,
        )  # fmt: skip
        assert r.status_code == 303, r.text
    with app.db.read() as s:
        first, second = s.scalars(select(RoutingRule).order_by(RoutingRule.position)).all()
    assert first.name == "First" and first.conditions == {"keywords": ["refund", "broken"]}
    assert first.actions == {"team_id": team.id, "priority": "high", "tags": ["refund"]}
    client.post(f"/admin/routing/{second.id}/up", data={"csrf": token})
    with app.db.read() as s:
        assert [r.name for r in s.scalars(select(RoutingRule).order_by(RoutingRule.position))] == [
            "Second",
            "First",
        ]
    r = client.post("/admin/routing", data={"csrf": token, "name": "Nothing"})
    assert r.status_code == 422 and "at least one action" in error_of(r.text, "actions.team_id")


def test_a_calendar_with_hours_and_a_bad_time_zone(client: TestClient, app: App) -> None:
    token = sign_in(client, app, "admin")
    data = {"csrf": token, "name": "Lisbon", "timezone": "Mars/Olympus", "hours.mon": "09:00-12:00, 13:00-17:00",
            "holidays": "2026-12-25"}  # fmt: skip
    r = client.post("/admin/calendars", data=data)
    assert r.status_code == 422 and "unknown time zone" in error_of(r.text, "timezone")
    assert value_of(r.text, "hours.mon") == "09:00-12:00, 13:00-17:00"
    r = client.post("/admin/calendars", data={**data, "timezone": "Europe/Lisbon"}, follow_redirects=False)
    assert r.status_code == 303
    with app.db.read() as s:
        c = s.scalars(select(Calendar)).one()
        assert c.hours == {"mon": [["09:00", "12:00"], ["13:00", "17:00"]]} and c.holidays == ["2026-12-25"]


def test_a_macro_is_saved_and_previewed(client: TestClient, app: App) -> None:
    token = sign_in(client, app, "admin")
    body = "Hello {{ customer.first_name }}, {{ brand.signature }}"
    r = client.post("/admin/macros/preview", data={"csrf": token, "name": "Hi", "body": body})
    assert r.status_code == 200 and "Hello Ana, — The support team" in r.text
    with app.db.read() as s:
        assert s.scalars(select(Macro)).all() == []  # a preview saves nothing
    r = client.post("/admin/macros", data={"csrf": token, "name": "Hi", "body": body}, follow_redirects=False)
    assert r.status_code == 303
    with app.db.read() as s:
        m = s.scalars(select(Macro)).one()
        assert (m.name, m.body) == ("Hi", body)
    assert audit(app, "macro.created")[0].subject_id == m.id
    r = client.post(f"/admin/macros/{m.id}/preview", data={"csrf": token, "name": "Hi", "body": "{{ oops"})
    assert r.status_code == 422 and "template error" in error_of(r.text, "body")
    r = client.post("/admin/macros", data={"csrf": token, "name": "hi", "body": "again"})
    assert r.status_code == 409 and "is taken" in error_of(r.text, "name") and "again" in r.text


def test_a_brand_and_a_bad_colour(client: TestClient, app: App) -> None:
    token = sign_in(client, app, "admin")
    data = {"csrf": token, "name": "Trail", "from_address": "help@trail.example", "signature": "— Trail",
            "colours.primary": "blue"}  # fmt: skip
    r = client.post("/admin/brands", data=data)
    assert r.status_code == 422 and error_of(r.text, "colours.primary")
    assert (
        value_of(r.text, "from_address") == "help@trail.example"
        and value_of(r.text, "colours.primary") == "blue"
    )
    r = client.post("/admin/brands", data={**data, "colours.primary": "#4f46e5"}, follow_redirects=False)
    assert r.status_code == 303
    with app.db.read() as s:
        b = s.scalars(select(Brand)).one()
        assert (b.name, b.from_address, b.colours) == ("Trail", "help@trail.example", {"primary": "#4f46e5"})
    assert audit(app, "brand.created")[0].subject_id == b.id
    r = client.post(f"/admin/brands/{b.id}/delete", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    with app.db.read() as s:
        assert s.get(Brand, b.id) is None


def test_a_token_is_shown_once_and_can_be_revoked(client: TestClient, app: App) -> None:
    token = sign_in(client, app, "admin")
    r = client.post("/admin/tokens", data={"csrf": token, "name": "Shop", "role": "integration"})
    assert r.status_code == 201
    shown = re.search(r'id="once-value" type="text" readonly value="(amity_tok_[^"]+)"', r.text)
    assert shown
    with app.db.read() as s:
        tok = s.scalars(select(ApiToken)).one()
        assert (tok.name, tok.role) == ("Shop", "integration")
        assert actor_for_token(s, shown.group(1)) is not None
    assert audit(app, "token.created")[0].subject_id == tok.id
    assert shown.group(1) not in client.get("/admin/tokens").text
    client.post(f"/admin/tokens/{tok.id}/revoke", data={"csrf": token})
    with app.db.read() as s:
        assert actor_for_token(s, shown.group(1)) is None
    assert audit(app, "token.revoked")[0].subject_id == tok.id
    r = client.post("/admin/tokens", data={"csrf": token, "name": " ", "role": "integration"})
    assert r.status_code == 422 and "needs a name" in error_of(r.text, "name")


def test_a_webhook_shows_its_secret_once_and_its_deliveries(client: TestClient, app: App) -> None:
    token = sign_in(client, app, "admin")
    r = client.post(
        "/admin/webhooks",
        data={"csrf": token, "url": "https://crm.example/hooks/amity", "events": ["message.created", "call.ringing"],
              "enabled": "on"},
    )  # fmt: skip
    assert r.status_code == 201
    secret = re.search(r'id="once-value" type="text" readonly value="(whsec_[^"]+)"', r.text)
    assert secret
    with app.db.read() as s:
        sub = s.scalars(select(WebhookSubscription)).one()
        assert (sub.url, sub.events, sub.enabled, sub.secret) == (
            "https://crm.example/hooks/amity",
            ["message.created", "call.ringing"],
            True,
            secret.group(1),
        )
    assert audit(app, "webhook.created")[0].subject_id == sub.id
    with app.db.write_session() as s, s.begin():
        s.add(WebhookDelivery(subscription_id=sub.id, event="message.created", payload={"id": "whe_1"},
                              idempotency_key="k1", status="failed", attempts=3, response_status=500,
                              last_error="crm.example answered 500"))  # fmt: skip
    page = client.get(f"/admin/webhooks/{sub.id}")
    assert secret.group(1) not in page.text and "crm.example answered 500" in page.text
    r = client.post(
        f"/admin/webhooks/{sub.id}", data={"csrf": token, "url": "ftp://nope", "events": ["message.created"]}
    )
    assert r.status_code == 422 and "http" in error_of(r.text, "url")
    assert value_of(r.text, "url") == "ftp://nope"
    r = client.post(
        "/admin/webhooks", data={"csrf": token, "url": "https://x.example", "events": ["nope.event"]}
    )
    assert r.status_code == 422 and "unknown event" in error_of(r.text, "events")


def test_a_refused_channel_keeps_what_was_typed(client: TestClient, app: App) -> None:
    token = sign_in(client, app, "admin")
    perform(app, SYSTEM, create_channel, "email", "First", {"address": "help@shop.example"})
    data = {
        "csrf": token,
        "name": "Second",
        "config.address": "HELP@shop.example",
        "config.from_name": "Shop",
    }
    r = client.post("/admin/channels/new?type=email", data=data)
    assert r.status_code == 409 and "already receives mail" in error_of(r.text, "config.address")
    assert value_of(r.text, "name") == "Second" and value_of(r.text, "config.from_name") == "Shop"
    r = client.post("/admin/channels/new?type=sms", data={"csrf": token, "name": "Texts", "config.account_sid": "nope",
                                                          "config.auth_token": "t" * 32, "config.from_number": "+351912345678"})  # fmt: skip
    assert r.status_code == 422 and error_of(r.text, "config.account_sid")
    assert value_of(r.text, "config.from_number") == "+351912345678"
    assert "t" * 32 in r.text  # a refused form keeps its secret too, for this one answer only
    with app.db.read() as s:
        assert len(s.scalars(select(Channel)).all()) == 1


def test_an_admin_token_cannot_open_the_pages(client: TestClient, app: App) -> None:
    secret = perform(app, SYSTEM, create_token, "ci", "admin")
    r = client.get("/admin", headers={"Authorization": f"Bearer {secret}"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_csrf_helper_finds_the_token(client: TestClient, app: App) -> None:
    sign_in(client, app, "admin")
    assert csrf(client.get("/admin").text)


def test_edits_and_deletes_are_refused_on_the_page_when_the_action_refuses(
    client: TestClient, app: App
) -> None:
    ids = seeded(app)
    other = perform(app, SYSTEM, people.create_team, {"name": "Sales"}, utcnow())
    token = sign_in(client, app, "admin")
    # The tier is served by a team: deleting it is a 409, said above the form of the tier's page.
    r = client.post(f"/admin/tiers/{ids['tier']}/delete", data={"csrf": token})
    assert r.status_code == 409 and "served by a team" in r.text
    # Renaming a team to a taken name: the message sits under Name and the typed values stay.
    r = client.post(f"/admin/teams/{other.id}", data={"csrf": token, "name": "returns", "strategy": "manual"})
    assert r.status_code == 409 and "is taken" in error_of(r.text, "name")
    assert value_of(r.text, "name") == "returns" and re.search(r'<option value="manual" selected>', r.text)
    r = client.post(
        f"/admin/teams/{other.id}", data={"csrf": token, "name": "Sales EU", "strategy": "manual"}
    )
    assert r.status_code == 200 and "Changes saved." in r.text
    with app.db.read() as s:
        team = s.get(Team, other.id)
        assert team is not None and (team.name, team.strategy) == ("Sales EU", "manual")
    assert audit(app, "team.updated")[0].details == {"name": "Sales EU", "strategy": "manual"}
    # A team a routing rule sends work to cannot be deleted; the routing rule can, then the team.
    r = client.post(f"/admin/teams/{ids['team']}/delete", data={"csrf": token})
    assert r.status_code == 409 and "routing rule" in r.text
    client.post(f"/admin/routing/{ids['rule']}/delete", data={"csrf": token})
    r = client.post(f"/admin/teams/{ids['team']}/delete", data={"csrf": token}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/admin/teams?notice=deleted")
    with app.db.read() as s:
        assert s.get(Team, ids["team"]) is None and s.get(RoutingRule, ids["rule"]) is None


def test_saving_an_edit_form_unchanged_keeps_every_resource_as_it_was(client: TestClient, app: App) -> None:
    """What an edit form shows parses back to the same row: the form and the stored shape agree."""
    ids = seeded(app)
    now = utcnow()
    cal = ids["calendar"]
    perform(app, SYSTEM, setup.update_rule, ids["rule"], {
        "conditions": {"channel_types": ["email"], "keywords": ["refund"], "customer_traits": {"vip": True},
                       "business_hours": {"calendar_id": cal, "open": False}},
        "actions": {"team_id": ids["team"], "tags": ["a"], "skills": {"language": "pt"}, "priority": "high"},
    }, now)  # fmt: skip
    perform(app, SYSTEM, setup.update_policy, ids["policy"], {"calendar_id": cal, "pause_on_hold": True}, now)
    token = sign_in(client, app, "admin")
    for res, key in [(RULES, "rule"), (POLICIES, "policy"), (CALENDARS, "calendar"), (MACROS, "macro"),
                     (BRANDS, "brand"), (TIERS, "tier"), (TEAMS, "team")]:  # fmt: skip
        with app.db.read() as s:
            row = s.get(res.model, ids[key])
            before = queries.one(s, res.model, ids[key])
        r = client.post(
            f"/admin/{res.slug}/{ids[key]}", data={"csrf": token, **res.values(row)}, follow_redirects=False
        )
        assert r.status_code == 303, (res.slug, r.text[:3000])
        with app.db.read() as s:
            after = queries.one(s, res.model, ids[key])
        assert {k: v for k, v in after.items() if k != "updated_at"} == {
            k: v for k, v in before.items() if k != "updated_at"
        }, res.slug
