"""Commerce, the orders half: orders, payments, shipments, returns, refunds, subscriptions,
appointments, devices, loyalty and coupons, and what agents may do with them (docs/commerce.md).
Products, locations, stock and reviews are the catalogue's (``amity.catalog``).

Loaded by the web app as a plug-in: ``install(app)`` registers the side-panel card, the privacy
holder and the approval executors; ``router`` carries the API and the card's forms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from amity.core.actions import App


def install(app: App) -> None:
    # Imported here: amity.models imports this package for its tables, and these modules import the
    # conversations and service capabilities, which must not load while the table registry is built.
    from amity.commerce import approved, priority, privacy, ui

    ui.install()
    privacy.install()
    approved.install(app)
    priority.install(app)


def __getattr__(name: str) -> Any:
    # ``router`` is looked up by the web app (PLUG_INS) only after every table is registered.
    if name == "router":
        from amity.commerce.routes import router

        return router
    raise AttributeError(name)
