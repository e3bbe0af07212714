"""Consent: the purposes catalogue, the append-only consent ledger and the one send policy
(docs/consent.md).

Loaded by the web app as a plug-in: ``install(app)`` registers the privacy data holder, the console
card and the ingest hook for ``consent.granted`` / ``consent.withdrawn`` events; ``router`` carries the
API, the console pages and the unsubscribe endpoint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from amity.core.actions import App


def install(app: App) -> None:
    # Imported here: amity.models imports this package for its tables, before the rest exists.
    from amity.consent.wiring import install as install_wiring

    install_wiring(app)


def __getattr__(name: str) -> object:
    # ``router`` is built on first use so importing the tables does not import the web layer.
    if name == "router":
        from amity.consent.routes import router

        return router
    raise AttributeError(name)
