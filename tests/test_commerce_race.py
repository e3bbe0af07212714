"""Two agents ordering the last pair for a customer at the same instant, on real threads against the
real database: exactly one order is placed; the other is refused whole (no order, no event)."""

from __future__ import annotations

import threading
from collections import Counter

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from amity.catalog.models import Stock
from amity.commerce import agent
from amity.commerce.models import Order, OrderLine
from amity.commerce.schemas import CreateOrderAct
from amity.core.actions import ActionContext, ActionError, Actor, App, perform
from amity.customers.models import Event
from tests.test_catalog_kit import customer, shop

AGENTS = [Actor(kind="user", id=f"usr_clerk{i}", role="agent", name=f"Clerk {i}") for i in range(4)]


def _race(app: App, body: CreateOrderAct, racers: int) -> Counter[str]:
    start = threading.Barrier(racers)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def go(actor: Actor) -> None:
        def act(ctx: ActionContext) -> object:
            return agent.create_order(ctx, app, body)

        start.wait()
        try:
            perform(app, actor, act)
            result = "won"
        except ActionError as exc:
            result = f"{exc.status} {exc.field}"
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=go, args=(AGENTS[i],)) for i in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_two_clerks_ordering_the_last_pair_make_exactly_one_order(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    s = shop(client, tokens, {("6.5", "opo-sc"): 1})
    porto = s.stores["opo-sc"]
    ana = customer(app)
    body = CreateOrderAct.model_validate(
        {"customer_id": ana, "currency": "EUR",
         "lines": [{"sku": "NW-TRL-01-6.5", "quantity": 1, "location_id": porto, "unit_price_minor": 8900}]}
    )  # fmt: skip
    assert _race(app, body, 2) == Counter({"won": 1, "409 lines[0].location_id": 1})
    with app.db.read() as db:
        assert db.scalar(select(func.count()).select_from(Order)) == 1
        assert db.scalar(select(func.count()).select_from(OrderLine)) == 1
        assert db.execute(select(Stock.quantity, Stock.reserved).where(Stock.location_id == porto)).one() == (
            0,
            0,
        )
        placed = db.scalar(select(func.count()).select_from(Event).where(Event.type == "order.placed"))
        assert placed == 1


def test_four_clerks_for_two_pairs_make_exactly_two_orders(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    s = shop(client, tokens, {("6", "lis-ch"): 2})
    body = CreateOrderAct.model_validate(
        {"customer_id": customer(app), "currency": "EUR",
         "lines": [{"sku": "NW-TRL-01-6", "quantity": 1, "location_id": s.stores["lis-ch"], "unit_price_minor": 7900}]}
    )  # fmt: skip
    assert _race(app, body, 4) == Counter({"won": 2, "409 lines[0].location_id": 2})
    with app.db.read() as db:
        assert db.scalar(select(func.count()).select_from(Order)) == 2
        assert db.execute(select(Stock.quantity, Stock.reserved)).one() == (0, 0)
