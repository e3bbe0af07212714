"""The catalogue: products and variants, locations, stock per location, reservations, reviews with a
fit signal, stock lookup and size recommendation (docs/catalog.md).

A plug-in (``PLUG_INS`` in web/app.py): ``install(app)`` puts reservations and reviews on the
customer's timeline, registers the reservation-expiry sweep, the privacy holder and the console card;
the HTTP routes are in :mod:`amity.catalog.api` (``router`` below).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from amity.core.actions import App


def install(app: App) -> None:
    # Imported here: amity.models imports this package for its tables, and the handlers import the
    # conversations and customers capabilities, which must not be pulled in while tables are declared.
    from amity.catalog.wiring import install as install_wiring

    install_wiring(app)


def __getattr__(name: str) -> Any:
    # ``router`` is looked up by the web app after every table exists; importing the API (FastAPI,
    # the conversations capability) lazily keeps ``amity.catalog.models`` importable on its own.
    if name == "router":
        from amity.catalog.routes import router

        return router
    raise AttributeError(name)
