"""Identity resolution: one profile per real person, merged only on proof, guarded against strangers."""

from __future__ import annotations

from sqlalchemy import select

from amity.config import Settings
from amity.core.actions import App
from amity.customers.models import Event, Merge
from amity.privacy.models import AuditEntry
from tests.helpers import c360, ev, identity_owner, ingest, live_customers, one


def test_unknown_identifiers_create_a_new_customer_with_normalised_identities(app: App) -> None:
    cid = one(app, ev("order.placed", "email: Ana.Silva@Example.COM ", "phone:07911 123456"))
    assert identity_owner(app, "email", "ana.silva@example.com") == cid
    assert identity_owner(app, "phone", "+447911123456") == cid  # E.164 with the default region GB


def test_email_matching_is_case_insensitive(app: App) -> None:
    a = one(app, ev("page.viewed", "email:ana@example.com"))
    b = one(app, ev("page.viewed", "email:ANA@EXAMPLE.com"))
    assert a == b
    assert len(live_customers(app)) == 1


def test_an_event_naming_two_customers_merges_them_into_the_oldest(app: App) -> None:
    older = one(app, ev("page.viewed", "email:ana@example.com"))
    newer = one(app, ev("call.ended", "phone:+447911123456"))
    r = ingest(app, {**ev("order.placed", "phone:+447911123456", "email:ana@example.com"), "id": "ord-1"})[0]
    assert r["customer_id"] == older
    assert live_customers(app) == {older}
    with app.db.read() as s:
        m = s.scalars(select(Merge)).one()
        assert (m.survivor_id, m.merged_id, m.reason) == (older, newer, "identity")
        assert m.evidence == {"identity": "phone:+447911123456", "event_id": "ord-1"}
        assert (
            s.scalars(select(AuditEntry).where(AuditEntry.action == "customer.merged")).one().subject_id
            == older
        )
        # every event of both now sits on the survivor's timeline
        assert {e.customer_id for e in s.scalars(select(Event))} == {older}


def test_a_merged_away_id_resolves_to_its_survivor_forever(app: App) -> None:
    older = one(app, ev("page.viewed", "email:ana@example.com"))
    newer = one(app, ev("call.ended", "phone:+447911123456"))
    one(app, ev("order.placed", "phone:+447911123456", "email:ana@example.com"))
    view = c360(app, newer)
    assert view["id"] == older
    assert view["requested_id"] == newer
    assert "merged into" in view["note"]


def test_trait_conflicts_newest_value_wins_and_the_loser_stays_in_history(app: App) -> None:
    cid = one(
        app, ev("x.y", "email:ana@example.com", traits={"name": "Ana"}, timestamp="2026-01-02T00:00:00Z")
    )
    one(
        app, ev("x.y", "email:ana@example.com", traits={"name": "Old Name"}, timestamp="2025-01-01T00:00:00Z")
    )
    assert c360(app, cid)["traits"]["name"] == "Ana"  # an older observation arriving late does not win
    one(
        app,
        ev("x.y", "email:ana@example.com", traits={"name": "Ana Silva"}, timestamp="2026-03-01T00:00:00Z"),
    )
    assert c360(app, cid)["traits"]["name"] == "Ana Silva"
    from amity.customers import queries

    with app.db.read() as s:
        history = [h["value"] for h in queries.trait_history(s, cid, "name")]
    assert history == ["Ana Silva", "Ana", "Old Name"]


def test_traits_of_merged_profiles_combine_newest_wins(app: App) -> None:
    a = one(
        app,
        ev(
            "x",
            "email:a@example.com",
            traits={"name": "A", "language": "en"},
            timestamp="2026-01-01T00:00:00Z",
        ),
    )
    b = one(app, ev("x", "phone:+447911123456", traits={"name": "B"}, timestamp="2026-02-01T00:00:00Z"))
    one(app, ev("x", "email:a@example.com", "phone:+447911123456"))
    view = c360(app, b)
    assert view["id"] == a
    assert view["traits"] == {"name": "B", "language": "en"}


def test_null_clears_a_trait(app: App) -> None:
    cid = one(
        app, ev("x", "email:a@example.com", traits={"language": "en"}, timestamp="2026-01-01T00:00:00Z")
    )
    one(app, ev("x", "email:a@example.com", traits={"language": None}, timestamp="2026-01-02T00:00:00Z"))
    assert "language" not in c360(app, cid)["traits"]


def test_blocked_values_are_kept_on_the_event_but_never_matched(app: App) -> None:
    a = one(app, ev("x", "email:ana@example.com", "phone:anonymous"))
    b = one(app, ev("x", "email:bob@example.com", "phone:anonymous"))
    c = one(app, ev("x", "email:carl@example.com", "phone:000 000 0000"))
    d = one(app, ev("x", "email:dora@example.com", "email:noreply@shop.example"))
    e = one(app, ev("x", "email:eve@example.com", "email:noreply@shop.example"))
    assert len({a, b, c, d, e}) == 5
    assert identity_owner(app, "phone", "anonymous") is None
    events = c360(app, a)["events"]["items"]
    assert {"type": "phone", "value": "anonymous", "blocked": True} in events[0]["identities"]


def test_configured_role_addresses_are_blocked(database: object, settings: Settings) -> None:
    from amity.db import Database
    from amity.web.app import build_app
    from tests.conftest import reset

    assert isinstance(database, Database)
    reset(database)
    cfg = settings.model_copy(
        update={"blocked_identifiers": ["email:info@shop.example", "loyalty:TEST-0000"]}
    )
    app = build_app(cfg, database)
    a = one(app, ev("x", "email:ana@example.com", "email:Info@Shop.example"))
    b = one(app, ev("x", "email:bob@example.com", "email:info@shop.example", "loyalty:TEST-0000"))
    assert a != b


def test_an_identifier_past_the_type_limit_is_not_attached_and_the_event_is_flagged(app: App) -> None:
    cid = one(app, ev("x", "email:ana@example.com", "loyalty:L-1"))
    r = ingest(app, ev("x", "email:ana@example.com", "loyalty:L-2"))[0]
    assert r["status"] == "accepted" and r["customer_id"] == cid
    assert r["flags"][0]["code"] == "identity_limit"
    assert r["flags"][0]["identity"] == "loyalty:L-2"
    assert identity_owner(app, "loyalty", "L-2") is None
    assert c360(app, cid)["events"]["items"][0]["flags"][0]["code"] == "identity_limit"


def test_a_merge_that_would_pass_a_limit_is_refused_and_flagged(app: App) -> None:
    a = one(app, ev("x", "email:a@example.com", "loyalty:L-1"))
    b = one(app, ev("x", "phone:+447911123456", "loyalty:L-2"))
    r = ingest(app, ev("x", "email:a@example.com", "phone:+447911123456"))[0]
    assert r["customer_id"] == a
    assert r["flags"][0]["code"] == "merge_refused"
    assert live_customers(app) == {a, b}


def test_identities_within_one_batch_resolve_against_each_other(app: App) -> None:
    results = ingest(
        app,
        ev("x", "email:a@example.com"),
        ev("x", "phone:+447911123456"),
        ev("x", "email:a@example.com", "phone:+447911123456", "social:telegram:@AnaS"),
        ev("x", "social:telegram:anas"),
    )
    ids = {r["customer_id"] for r in results}
    assert len(ids) == 1
    assert live_customers(app) == ids
    assert identity_owner(app, "social:telegram", "anas") in ids


def test_an_event_may_name_the_customer_by_amity_id(app: App) -> None:
    cid = one(app, ev("x", "email:a@example.com"))
    r = ingest(app, {"type": "call.ended", "customer_id": cid, "identities": []})[0]
    assert r["customer_id"] == cid
    r = ingest(app, {"type": "call.ended", "customer_id": "cus_nope", "identities": []})[0]
    assert r["status"] == "rejected" and r["errors"][0]["field"] == "customer_id"


def test_the_same_event_id_twice_is_stored_once(app: App) -> None:
    first = ingest(app, {**ev("order.placed", "email:a@example.com"), "id": "o-1"})[0]
    again = ingest(app, {**ev("order.placed", "email:a@example.com"), "id": "o-1"})[0]
    both = ingest(
        app, {**ev("x", "email:b@example.com"), "id": "o-2"}, {**ev("x", "email:b@example.com"), "id": "o-2"}
    )
    assert first["status"] == "accepted"
    assert again["status"] == "duplicate" and again["customer_id"] == first["customer_id"]
    assert [r["status"] for r in both] == ["accepted", "duplicate"]
    with app.db.read() as s:
        assert len(s.scalars(select(Event.id)).all()) == 2


def test_a_rejected_item_never_loses_an_accepted_one(app: App) -> None:
    results = ingest(
        app,
        ev("x", "email:a@example.com"),
        ev("x", "email:not-an-email"),
        ev("x", "email:c@example.com", traits={"shoe_size": 6.5}),
        ev("x", "email:d@example.com"),
    )
    assert [r["status"] for r in results] == ["accepted", "rejected", "rejected", "accepted"]
    assert results[1]["errors"][0]["field"] == "identities[0].value"
    assert results[2]["errors"][0]["field"] == "traits.shoe_size"
    assert len(live_customers(app)) == 2
