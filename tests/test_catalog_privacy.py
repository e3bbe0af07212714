"""What the catalogue holds about a person: exported on request, and erased without breaking stock
figures or product ratings."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from amity.catalog.models import Reservation, Review
from amity.catalog.privacy import HOLDER
from amity.core.actions import App
from amity.privacy.holders import holders
from tests.test_catalog_kit import customer, ok, shop


def test_a_persons_reservations_and_reviews_are_exported_then_erased_keeping_the_aggregates(
    client: TestClient, app: App, tokens: dict[str, str]
) -> None:
    assert HOLDER in holders()  # registered by install(app)
    s = shop(client, tokens, {("6.5", "opo-sc"): 1, ("6", "opo-sc"): 2})
    ana, bea = customer(app), customer(app, "bea@example.com")
    body = {"location_id": s.stores["opo-sc"], "customer_id": ana}
    ok(client.post("/api/v1/reservations", json={**body, "sku": "NW-TRL-01-6.5"}, headers=s.agent), 201)
    ok(
        client.post(
            "/api/v1/reservations", json={**body, "sku": "NW-TRL-01-6", "customer_id": bea}, headers=s.agent
        ),
        201,
    )
    pid = s.product["id"]
    review = {"product_id": pid, "rating": 2, "fit": "small", "text": "My name is Ana and my feet hurt"}
    ok(client.post("/api/v1/reviews", json={**review, "customer_id": ana}, headers=s.admin), 201)
    ok(client.post("/api/v1/reviews", json={**review, "text": "", "rating": 4}, headers=s.admin), 201)
    with app.db.write_session() as db, db.begin():
        got = HOLDER.export(db, [ana])
        assert [r["sku"] for r in got["catalog_reservations"]] == ["NW-TRL-01-6.5"]
        assert [r["text"] for r in got["catalog_reviews"]] == ["My name is Ana and my feet hurt"]
        HOLDER.erase(db, [ana])
    with app.db.read() as db:
        assert db.scalars(select(Reservation.customer_id).order_by(Reservation.created_at)).all() == [
            None,
            bea,
        ]
        mine = db.scalars(select(Review).where(Review.rating == 2)).one()
        assert (mine.customer_id, mine.text, mine.fit) == (None, "", "small")
        assert HOLDER.export(db, [ana]) == {"catalog_reservations": [], "catalog_reviews": []}
    stock = ok(client.get("/api/v1/inventory", params={"sku": "NW-TRL-01-6.5"}, headers=s.agent))["locations"]
    assert stock[0]["available"] == 1  # her hold was given back: nobody is left to collect it
    fit = ok(client.get(f"/api/v1/products/{pid}", headers=s.agent))["fit"]
    assert (fit["reviews"], fit["fit_votes"]["small"], fit["average_rating"]) == (2, 2, 3.0)
