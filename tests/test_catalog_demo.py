"""The demo catalogue: Northwind's stores and shoes, the last 6.5 far away, a model that runs small."""

from __future__ import annotations

from sqlalchemy import func, select

from amity.catalog import queries
from amity.catalog.demo import load_catalog_demo
from amity.catalog.models import Stock
from amity.core.actions import App

EDINBURGH = (55.9521, -3.1965)


def test_the_last_pair_of_the_trail_shoe_in_65_is_2000_km_from_edinburgh_and_it_runs_small(app: App) -> None:
    got = load_catalog_demo(app, seed=7)
    assert (got["products"], got["locations"], got["reviews"]) == (11, 7, 5)
    with app.db.read() as s:
        stock = queries.stock_for(s, "NW-TRL-01-6.5", EDINBURGH, in_stock_only=True)
        assert [(loc["name"], loc["available"]) for loc in stock["locations"]] == [("Lisbon Chiado", 1)]
        assert 1900 < stock["locations"][0]["distance_km"] < 2100
        product = queries.product_by_code(s, "NW-TRL-01")
        assert product is not None
        assert product["fit"]["fit_label"] == "runs small"
        assert next(v["size"] for v in product["variants"]) == "5"
        rows = s.scalar(select(func.count()).select_from(Stock))
    assert load_catalog_demo(app, seed=7)["products"] == 0  # loading again stores nothing new
    with app.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Stock)) == rows
