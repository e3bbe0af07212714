"""Undoing merges: both customers come back with their own identities, traits and timeline."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from amity.core.actions import ActionError, App
from amity.customers.models import Customer, Merge
from amity.privacy.models import AuditEntry
from tests.helpers import c360, ev, event_count, identity_owner, ingest, live_customers, merge, one, undo


def _two_people_merged(app: App) -> tuple[str, str, str]:
    ana = one(
        app,
        ev("order.placed", "email:ana@example.com", traits={"name": "Ana"}, timestamp="2026-01-01T00:00:00Z"),
    )
    one(app, ev("page.viewed", "email:ana@example.com"))
    bob = one(
        app,
        ev(
            "call.ended",
            "phone:+447911123456",
            traits={"name": "Bob", "language": "pt"},
            timestamp="2026-02-01T00:00:00Z",
        ),
    )
    one(app, ev("x", "email:ana@example.com", "phone:+447911123456", id="bridge"))
    with app.db.read() as s:
        merge_id = s.scalars(select(Merge.id)).one()
    return ana, bob, merge_id


def test_undo_restores_both_customers_with_their_own_identities_traits_and_events(app: App) -> None:
    ana, bob, merge_id = _two_people_merged(app)
    assert c360(app, ana)["traits"] == {"name": "Bob", "language": "pt"}  # newest wins while merged
    assert event_count(app, ana) == 4

    result = undo(app, merge_id)

    assert result == {"merge_id": merge_id, "survivor_id": ana, "restored_id": bob}
    assert live_customers(app) == {ana, bob}
    assert identity_owner(app, "email", "ana@example.com") == ana
    assert identity_owner(app, "phone", "+447911123456") == bob
    assert c360(app, ana)["traits"] == {"name": "Ana"}
    assert c360(app, bob)["traits"] == {"name": "Bob", "language": "pt"}
    assert event_count(app, ana) == 3  # its two events + the bridging event that proved the (wrong) merge
    assert event_count(app, bob) == 1
    assert c360(app, bob).get("requested_id") is None  # bob's id answers for bob again


def test_undo_is_audited_and_recorded_on_the_merge(app: App) -> None:
    _, bob, merge_id = _two_people_merged(app)
    undo(app, merge_id)
    with app.db.read() as s:
        m = s.get(Merge, merge_id)
        assert m is not None and m.undone_at is not None and m.undone_by == "system:amity"
        row = s.scalars(select(AuditEntry).where(AuditEntry.action == "merge.undone")).one()
        assert row.subject_id == bob and row.details["merge_id"] == merge_id


def test_events_that_arrive_after_a_merge_follow_their_identifier_on_undo(app: App) -> None:
    _, bob, merge_id = _two_people_merged(app)
    one(app, ev("call.ended", "phone:+447911123456", id="later-call"))
    one(app, ev("x", "phone:+447911123456", "social:telegram:bob_t", id="later-telegram"))
    undo(app, merge_id)
    bob_events = {e["id"] for e in c360(app, bob)["events"]["items"]}
    assert {"later-call", "later-telegram"} <= bob_events
    assert identity_owner(app, "social:telegram", "bob_t") == bob


def test_an_unmerged_pair_is_not_merged_again_automatically(app: App) -> None:
    ana, bob, merge_id = _two_people_merged(app)
    undo(app, merge_id)
    r = ingest(app, ev("x", "email:ana@example.com", "phone:+447911123456"))[0]
    assert r["flags"][0]["code"] == "merge_refused"
    assert live_customers(app) == {ana, bob}


def test_a_person_can_still_merge_an_unmerged_pair_by_hand(app: App) -> None:
    ana, bob, merge_id = _two_people_merged(app)
    undo(app, merge_id)
    again = merge(app, ana, bob)
    assert again != merge_id
    assert live_customers(app) == {ana}


def test_undoing_twice_is_refused(app: App) -> None:
    _, _, merge_id = _two_people_merged(app)
    undo(app, merge_id)
    with pytest.raises(ActionError) as err:
        undo(app, merge_id)
    assert err.value.status == 409


def test_undo_of_an_inner_merge_in_a_chain(app: App) -> None:
    a = one(app, ev("x", "email:a@example.com"))
    b = one(app, ev("x", "email:b@example.com"))
    c = one(app, ev("x", "email:c@example.com"))
    m1 = merge(app, a, b)  # b into a
    merge(app, c, a)  # a (with b) into c: a person chose c as survivor
    assert live_customers(app) == {c}
    undo(app, m1)
    assert live_customers(app) == {c, b}
    assert identity_owner(app, "email", "a@example.com") == c
    assert identity_owner(app, "email", "b@example.com") == b
    with app.db.read() as s:
        assert s.get(Customer, a).merged_into_id == c  # type: ignore[union-attr]


def test_manual_merge_refuses_same_customer_and_unknown_ids(app: App) -> None:
    a = one(app, ev("x", "email:a@example.com"))
    b = one(app, ev("x", "email:b@example.com"))
    merge(app, a, b)
    with pytest.raises(ActionError) as same:
        merge(app, a, b)
    assert same.value.status == 409
    with pytest.raises(ActionError) as unknown:
        merge(app, a, "cus_unknown")
    assert unknown.value.status == 404 and unknown.value.field == "other_id"


def test_the_bridging_event_stays_with_the_survivor_whatever_order_its_identifiers_came_in(app: App) -> None:
    ana = one(app, ev("x", "email:ana@example.com"))
    bob = one(app, ev("x", "phone:+447911123456"))
    one(app, ev("x", "phone:+447911123456", "email:ana@example.com", id="bridge"))
    with app.db.read() as s:
        merge_id = s.scalars(select(Merge.id)).one()
    undo(app, merge_id)
    assert "bridge" in {e["id"] for e in c360(app, ana)["events"]["items"]}
    assert "bridge" not in {e["id"] for e in c360(app, bob)["events"]["items"]}
