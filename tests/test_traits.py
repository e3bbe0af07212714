"""Declared traits: data minimisation. Undeclared data is refused; declared data is type-checked."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from amity.core.actions import SYSTEM, ActionError, App, perform
from amity.customers.actions import declare_trait, update_trait
from amity.customers.schemas import TraitIn, TraitPatch
from tests.conftest import auth
from tests.helpers import c360, ev, ingest


def _declare(app: App, **kw: object) -> None:
    perform(app, SYSTEM, declare_trait, TraitIn.model_validate({"purpose": "fit advice", **kw}))


def test_builtin_traits_exist_from_the_first_migration(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.get("/api/v1/traits", headers=auth(tokens["agent"]))
    assert r.status_code == 200
    names = {t["name"]: t for t in r.json()}
    assert {"name", "language", "timezone", "preferred_channels"} <= set(names)
    assert names["name"]["pii"] is True and names["name"]["builtin"] is True


@pytest.mark.parametrize(
    ("type_", "extra", "good", "bad", "why"),
    [
        ("number", {}, 6.5, "6.5", "expected a number"),
        ("boolean", {}, True, 1, "expected true or false"),
        ("date", {}, "2026-02-28", "2026-02-30", "not a date"),
        ("enum", {"enum_values": ["bronze", "gold"]}, "gold", "platinum", "must be one of bronze, gold"),
        ("list", {}, ["running", "trail"], "running", "expected a list"),
        ("string", {}, "Lisbon", 42, "expected a string"),
    ],
)
def test_declared_traits_are_type_checked(
    app: App, type_: str, extra: dict[str, object], good: object, bad: object, why: str
) -> None:
    _declare(app, name="t", type=type_, **extra)
    ok, wrong = ingest(
        app,
        ev("x", "email:a@example.com", traits={"t": good}),
        ev("x", "email:b@example.com", traits={"t": bad}),
    )
    assert ok["status"] == "accepted"
    assert c360(app, ok["customer_id"])["traits"]["t"] == good
    assert wrong["status"] == "rejected"
    assert wrong["errors"] == [{"field": "traits.t", "message": wrong["errors"][0]["message"]}]
    assert why in wrong["errors"][0]["message"]


def test_an_undeclared_trait_is_refused_naming_it(app: App) -> None:
    r = ingest(app, ev("x", "email:a@example.com", traits={"favourite_colour": "red"}))[0]
    assert r["status"] == "rejected"
    assert r["errors"][0]["field"] == "traits.favourite_colour"
    assert "not declared" in r["errors"][0]["message"]


def test_builtin_timezone_and_language_are_validated(app: App) -> None:
    bad_tz, bad_lang, good = ingest(
        app,
        ev("x", "email:a@example.com", traits={"timezone": "Mars/Olympus"}),
        ev("x", "email:a@example.com", traits={"language": "english please"}),
        ev("x", "email:a@example.com", traits={"timezone": "Europe/Lisbon", "language": "pt-PT"}),
    )
    assert bad_tz["errors"][0]["field"] == "traits.timezone"
    assert bad_lang["errors"][0]["field"] == "traits.language"
    assert good["status"] == "accepted"


def test_declaring_twice_conflicts_and_enum_values_can_grow_but_never_shrink(app: App) -> None:
    _declare(app, name="tier", type="enum", enum_values=["bronze", "silver"])
    with pytest.raises(ActionError) as twice:
        _declare(app, name="tier", type="enum", enum_values=["bronze"])
    assert twice.value.status == 409
    perform(
        app,
        SYSTEM,
        update_trait,
        "tier",
        TraitPatch(enum_values=["bronze", "silver", "gold"], retention_days=365),
    )
    with pytest.raises(ActionError) as shrink:
        perform(app, SYSTEM, update_trait, "tier", TraitPatch(enum_values=["gold"]))
    assert shrink.value.field == "enum_values"


def test_enum_needs_values_and_only_enum_takes_them(app: App) -> None:
    with pytest.raises(ActionError) as no_values:
        _declare(app, name="tier", type="enum")
    assert no_values.value.status == 422 and no_values.value.field == "enum_values"
    with pytest.raises(ActionError):
        _declare(app, name="size", type="number", enum_values=["1"])


def test_admin_declares_over_http_and_agent_may_not(client: TestClient, tokens: dict[str, str]) -> None:
    body = {
        "name": "shoe_size",
        "type": "number",
        "purpose": "fit advice",
        "pii": False,
        "retention_days": 730,
    }
    assert client.post("/api/v1/traits", json=body, headers=auth(tokens["agent"])).status_code == 403
    r = client.post("/api/v1/traits", json=body, headers=auth(tokens["admin"]))
    assert r.status_code == 201, r.text
    assert r.json()["retention_days"] == 730
    audit = client.get(
        "/api/v1/audit", params={"action": "trait.declared"}, headers=auth(tokens["admin"])
    ).json()
    assert audit["items"][0]["subject_id"] == "shoe_size"
    r = client.patch(
        "/api/v1/traits/shoe_size", json={"description": "EU sizes"}, headers=auth(tokens["admin"])
    )
    assert r.status_code == 200 and r.json()["description"] == "EU sizes"
