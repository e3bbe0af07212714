"""Resolution invariants, checked with hypothesis over random histories of ingests, merges and undos."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from amity.core.actions import ActionError, App
from amity.customers import graph
from amity.customers.models import Customer, Event, Identity, Merge, TraitHistory
from tests.conftest import reset
from tests.helpers import ingest, merge, undo

POOL = [
    ("email", "a@example.com"),
    ("email", "b@example.com"),
    ("email", "c@example.com"),
    ("phone", "+447911123456"),
    ("phone", "+447911123457"),
    ("loyalty", "L-1"),
    ("loyalty", "L-2"),
    ("social:telegram", "tg1"),
    ("phone", "anonymous"),  # blocked placeholder: kept on the event, never matched
]
TIMES = ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"]

ingest_op = st.tuples(
    st.just("ingest"),
    st.lists(st.sampled_from(POOL), min_size=1, max_size=3),
    st.one_of(st.none(), st.tuples(st.sampled_from(["Ana", "Bob", "Cy"]), st.sampled_from(TIMES))),
)
merge_op = st.tuples(st.just("merge"), st.integers(0, 10), st.integers(0, 10))
undo_op = st.tuples(st.just("undo"), st.integers(0, 10), st.none())
ops = st.lists(st.one_of(ingest_op, ingest_op, merge_op, undo_op), min_size=1, max_size=12)

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def run(app: App, op: tuple[Any, ...]) -> None:
    kind = op[0]
    if kind == "ingest":
        _, idents, trait = op
        event: dict[str, Any] = {"type": "x", "identities": [{"type": t, "value": v} for t, v in idents]}
        if trait:
            event["traits"] = {"name": trait[0]}
            event["timestamp"] = trait[1]
        ingest(app, event)
        return
    with app.db.read() as s:
        live = sorted(s.scalars(select(Customer.id).where(Customer.merged_into_id.is_(None))))
        active = sorted(s.scalars(select(Merge.id).where(Merge.undone_at.is_(None))))
    try:
        if kind == "merge" and len(live) >= 2:
            a, b = live[op[1] % len(live)], live[op[2] % len(live)]
            if a != b:
                merge(app, a, b)
        elif kind == "undo" and active:
            undo(app, active[op[1] % len(active)])
    except ActionError as exc:
        assert exc.status in (409,), exc  # limits and "no longer in effect" are the only refusals


def snapshot(app: App) -> dict[str, Any]:
    with app.db.read() as s:
        return {
            "identities": {(i.type, i.value): i.customer_id for i in s.scalars(select(Identity))},
            "events": {e.id: e.customer_id for e in s.scalars(select(Event))},
            "traits": {
                c.id: c.traits for c in s.scalars(select(Customer).where(Customer.merged_into_id.is_(None)))
            },
            "live": set(s.scalars(select(Customer.id).where(Customer.merged_into_id.is_(None)))),
        }


def check_invariants(app: App) -> None:
    with app.db.read() as s:
        live = set(s.scalars(select(Customer.id).where(Customer.merged_into_id.is_(None))))
        # every non-blocked identifier maps to exactly one live customer (unique (type, value) + live owner)
        keys = [(i.type, i.value) for i in s.scalars(select(Identity))]
        assert len(keys) == len(set(keys))
        assert ("phone", "anonymous") not in keys
        for model in (Identity, Event, TraitHistory):
            for cid, origin in s.execute(select(model.customer_id, model.origin_customer_id)):
                assert cid in live
                assert graph.root_of(s, origin) == cid
        # current traits are exactly the newest observation of each trait
        for c in s.scalars(select(Customer).where(Customer.merged_into_id.is_(None))):
            rows = s.execute(
                select(TraitHistory.name, TraitHistory.value)
                .where(TraitHistory.customer_id == c.id)
                .order_by(TraitHistory.observed_at, TraitHistory.id)
            ).all()
            expected: dict[str, Any] = {}
            for name, value in rows:
                expected[name] = value
            assert c.traits == {k: v for k, v in expected.items() if v is not None}


@SETTINGS
@given(history=ops)
def test_every_identifier_maps_to_exactly_one_live_customer(app: App, history: list[tuple[Any, ...]]) -> None:
    reset(app.db)
    for op in history:
        run(app, op)
        check_invariants(app)


@SETTINGS
@given(
    history=st.lists(ingest_op, min_size=2, max_size=10),
    pick=st.tuples(st.integers(0, 10), st.integers(0, 10)),
)
def test_a_merge_followed_by_its_undo_restores_partition_traits_and_timeline(
    app: App, history: list[tuple[Any, ...]], pick: tuple[int, int]
) -> None:
    reset(app.db)
    for op in history:
        run(app, op)
    before = snapshot(app)
    live = sorted(before["live"])
    if len(live) < 2 or live[pick[0] % len(live)] == live[pick[1] % len(live)]:
        return
    try:
        merge_id = merge(app, live[pick[0] % len(live)], live[pick[1] % len(live)])
    except ActionError as exc:
        assert exc.status == 409  # an identity limit: nothing changed
        assert snapshot(app) == before
        return
    undo(app, merge_id)
    assert snapshot(app) == before
    check_invariants(app)


@SETTINGS
@given(
    history=st.lists(ingest_op, min_size=2, max_size=10),
    pick=st.tuples(st.integers(0, 10), st.integers(0, 10)),
)
def test_undoing_an_automatic_merge_restores_everything_but_the_bridging_event(
    app: App, history: list[tuple[Any, ...]], pick: tuple[int, int]
) -> None:
    reset(app.db)
    for op in history:
        run(app, op)
    before = snapshot(app)
    with app.db.read() as s:
        earlier = set(s.scalars(select(Merge.id)))
    owners: dict[str, tuple[str, str]] = {}
    for (t, v), cid in before["identities"].items():
        owners.setdefault(cid, (t, v))
    people = sorted(owners)
    if len(people) < 2:
        return
    a, b = people[pick[0] % len(people)], people[pick[1] % len(people)]
    if a == b:
        return
    bridge = {
        "id": "bridge",
        "type": "x",
        "identities": [dict(zip(("type", "value"), owners[x], strict=True)) for x in (a, b)],
    }
    ingest(app, bridge)
    with app.db.read() as s:
        merges = s.scalars(select(Merge.id).where(Merge.undone_at.is_(None))).all()
    new = [m for m in merges if m not in earlier]
    for merge_id in reversed(new):
        undo(app, merge_id)
    after = snapshot(app)
    del after["events"]["bridge"]
    assert after == before
