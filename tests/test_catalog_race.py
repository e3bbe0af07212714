"""Agents racing for the last pair, on real threads against the real database: exactly one wins."""

from __future__ import annotations

import threading
from collections import Counter

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from amity.catalog import holds
from amity.catalog.models import Reservation, Stock
from amity.core.actions import Actor, App, Conflict, perform
from tests.test_catalog_kit import customer, shop

AGENTS = [Actor(kind="user", id=f"usr_agent{i}", role="agent", name=f"Agent {i}") for i in range(6)]


def _race(app: App, sku: str, location_id: str, customer_id: str, racers: int) -> Counter[str]:
    """``racers`` threads reserve at the same instant (a barrier lets them go together)."""
    start = threading.Barrier(racers)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def go(actor: Actor) -> None:
        start.wait()
        try:
            perform(app, actor, holds.reserve, sku, location_id, customer_id)
            result = "won"
        except Conflict:
            result = "409"
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=go, args=(AGENTS[i],)) for i in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_two_agents_racing_for_the_last_pair_exactly_one_wins_every_time(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    s = shop(client, tokens, {("6.5", "opo-sc"): 1})
    ana = customer(app)
    porto = s.stores["opo-sc"]
    for _round in range(10):
        assert _race(app, "NW-TRL-01-6.5", porto, ana, 2) == Counter({"won": 1, "409": 1})
        with app.db.read() as db:
            held = db.scalars(select(Reservation).where(Reservation.status == "held")).one()
            assert db.scalar(select(Stock.reserved).where(Stock.location_id == porto)) == 1
        perform(app, AGENTS[0], holds.release, held.id)  # the pair is back for the next round


def test_six_agents_for_three_pairs_make_exactly_three_holds(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    s = shop(client, tokens, {("6", "lis-ch"): 3})
    outcomes = _race(app, "NW-TRL-01-6", s.stores["lis-ch"], customer(app), 6)
    assert outcomes == Counter({"won": 3, "409": 3})
    with app.db.read() as db:
        assert db.scalar(select(func.count(Reservation.id))) == 3
        assert db.execute(select(Stock.quantity, Stock.reserved)).one() == (3, 3)
