"""Batch ingest loads only what its events can change, in a fixed number of queries, and still resolves
every case inside one batch the way it resolves them across batches."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from amity.core.actions import App
from amity.customers import collector
from amity.customers.models import Customer, Identity, Merge
from amity.db import fast_insert_rows, utcnow
from tests.helpers import c360, ev, event_count, identity_owner, ingest, live_customers, one, undo


@contextmanager
def statements(app: App) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(sql)

    event.listen(app.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(app.db.engine, "before_cursor_execute", count)


def _known(app: App, n: int) -> list[str]:
    """n customers, oldest first (one batch each: customers of one batch share their creation time)."""
    return [one(app, ev("x.y", f"email:p{i}@example.com", f"device:D{i}")) for i in range(n)]


def test_a_batch_costs_the_same_number_of_statements_whatever_its_size(app: App) -> None:
    _known(app, 120)

    def batch(n: int, offset: int) -> list[dict[str, Any]]:
        return [
            ev(
                "x.y",
                f"email:p{i}@example.com",
                f"phone:+4479111{offset + i:05d}",  # a new identifier for each known customer
                traits={"language": "de"} if i % 2 else {},
                id=f"e{offset}-{i}",
            )
            for i in range(n)
        ]

    with statements(app) as small:
        ingest(app, *batch(10, 0))
    with statements(app) as large:
        ingest(app, *batch(100, 1000))
    assert len(large) == len(small), (small, large)


def test_known_customers_without_changes_are_not_read(app: App) -> None:
    _known(app, 5)
    with statements(app) as seen:
        ingest(app, *(ev("page.viewed", f"email:p{i}@example.com") for i in range(5)))
    assert not [s for s in seen if "FROM customers" in s]


def test_an_identifier_attached_early_in_a_batch_can_bridge_later_in_it(app: App) -> None:
    ana, bob = _known(app, 2)
    results = ingest(
        app,
        ev("x.y", "email:p0@example.com", "phone:+447911123456"),  # attaches the phone to ana
        ev("x.y", "phone:+447911123456", "email:p1@example.com", id="bridge"),  # proves ana is bob
        ev("x.y", "email:p1@example.com", "device:d-1"),
    )
    assert [r["customer_id"] for r in results] == [ana, ana, ana]
    assert live_customers(app) == {ana}
    assert identity_owner(app, "device", "d-1") == ana
    assert event_count(app, ana) == 5
    with app.db.read() as s:
        m = s.scalars(select(Merge)).one()
    assert (m.survivor_id, m.merged_id, m.evidence["event_id"]) == (ana, bob, "bridge")


def test_traits_of_a_profile_merged_later_in_the_batch_follow_the_newest_value(app: App) -> None:
    ana, bob = _known(app, 2)
    ingest(
        app,
        ev("x.y", "email:p1@example.com", traits={"name": "Bob"}, timestamp="2026-03-01T00:00:00Z"),
        ev("x.y", "email:p0@example.com", traits={"name": "Ana"}, timestamp="2026-02-01T00:00:00Z"),
        ev("x.y", "email:p0@example.com", "email:p1@example.com", timestamp="2026-01-01T00:00:00Z"),
    )
    view = c360(app, bob)
    assert (view["id"], view["traits"]["name"]) == (ana, "Bob")
    with app.db.read() as s:
        assert s.scalar(select(Customer.name_key).where(Customer.id == ana)) == "bob"


def test_a_chain_of_merges_in_one_batch_ends_on_the_oldest_profile(app: App) -> None:
    a, b, c = _known(app, 3)
    ingest(
        app,
        ev("x.y", "email:p1@example.com", "email:p2@example.com"),
        ev("x.y", "email:p0@example.com", "device:D2"),
    )
    assert live_customers(app) == {a}
    assert {identity_owner(app, "email", f"p{i}@example.com") for i in range(3)} == {a}
    assert event_count(app, a) == 5
    with app.db.read() as s:
        rows = s.execute(select(Customer.id, Customer.merged_into_id).where(Customer.id.in_([b, c])))
        pointers = {r[0]: r[1] for r in rows}
    assert pointers == {c: b, b: a}  # each merged profile points at the one it was merged into


def test_an_unmerged_pair_stays_apart_after_one_side_joins_a_third_profile_in_the_batch(app: App) -> None:
    ana, bob, cy = _known(app, 3)
    one(app, ev("x.y", "email:p0@example.com", "email:p1@example.com"))
    with app.db.read() as s:
        merge_id = s.scalars(select(Merge.id)).one()
    undo(app, merge_id)
    results = ingest(
        app,
        ev("x.y", "email:p1@example.com", "email:p2@example.com"),  # cy joins bob
        ev("x.y", "email:p2@example.com", "email:p0@example.com"),  # bob+cy and ana: refused
    )
    assert live_customers(app) == {ana, bob}
    assert results[0]["customer_id"] == bob
    assert [f["code"] for f in results[1]["flags"]] == ["merge_refused"]
    assert cy not in live_customers(app)


def test_an_explicit_customer_id_named_by_identifiers_in_the_same_batch(app: App) -> None:
    ana, bob = _known(app, 2)
    results = ingest(
        app,
        ev("x.y", "email:p0@example.com"),
        {**ev("x.y", "email:p1@example.com", "device:d-2"), "customer_id": ana},
        {**ev("x.y"), "customer_id": bob},  # merged away a moment ago: answers with the survivor
    )
    assert [r["customer_id"] for r in results] == [ana, ana, ana]
    assert identity_owner(app, "device", "d-2") == ana


def test_identity_limits_hold_inside_a_batch(app: App) -> None:
    (ana,) = _known(app, 1)
    results = ingest(
        app, *(ev("x.y", "email:p0@example.com", f"email:extra{i}@example.com") for i in range(6))
    )
    flagged = [r for r in results if r["flags"]]
    assert len(flagged) == 2  # the customer had 1 email; the limit is 5
    with app.db.read() as s:
        emails = s.scalars(
            select(Identity.value).where(Identity.customer_id == ana, Identity.type == "email")
        )
        assert len(list(emails)) == 5


def test_a_name_change_updates_the_search_key_and_other_traits_leave_it(app: App) -> None:
    cid = one(
        app, ev("x.y", "email:ana@example.com", traits={"name": "Ana"}, timestamp="2026-01-01T00:00:00Z")
    )
    one(app, ev("x.y", "email:ana@example.com", traits={"language": "pt"}, timestamp="2026-01-02T00:00:00Z"))
    with app.db.read() as s:
        assert s.scalar(select(Customer.name_key).where(Customer.id == cid)) == "ana"
    one(
        app,
        ev("x.y", "email:ana@example.com", traits={"name": "Ana Silva"}, timestamp="2026-01-03T00:00:00Z"),
    )
    with app.db.read() as s:
        assert s.scalar(select(Customer.name_key).where(Customer.id == cid)) == "ana silva"
    assert c360(app, cid)["traits"] == {"name": "Ana Silva", "language": "pt"}


def test_bulk_inserts_report_a_uniqueness_race_as_sqlalchemy_does(app: App) -> None:
    (cid,) = _known(app, 1)
    now = utcnow()
    cols = ("customer_id", "origin_customer_id", "type", "value", "created_at", "event_id")
    with app.db.write_session() as s, pytest.raises(IntegrityError), s.begin():
        fast_insert_rows(s, Identity, cols, [[cid, cid, "email", "p0@example.com", now, None]])


# ---- the collector pause ------------------------------------------------------------------------


def test_the_collector_runs_again_after_a_batch_even_a_failing_one(app: App) -> None:
    assert gc.isenabled()
    ingest(app, ev("x.y", "email:ana@example.com"))
    assert gc.isenabled()

    def failing_batch() -> None:
        with collector.paused():
            assert not gc.isenabled()
            raise RuntimeError

    with pytest.raises(RuntimeError):
        failing_batch()
    assert gc.isenabled()


def test_overlapping_pauses_resume_once_and_never_enable_a_collector_the_host_disabled() -> None:
    with collector.paused():
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
