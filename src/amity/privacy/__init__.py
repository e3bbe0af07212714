"""Privacy: the audit log (models, api), and data-subject requests, erasure tombstones, retention
and the customer's preference centre (docs/privacy.md).

Loaded by the web app as a plug-in: ``install(app)`` registers the data holders of the capabilities
whose tables it reaches, the ingest guard that honours tombstones, the request and magic-link jobs,
and the retention sweep; ``router`` carries the API and the pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from amity.core.actions import App


def install(app: App) -> None:
    # Imported here: amity.core.actions imports this package (for the audit table) before the rest
    # of Amity exists.
    from amity.privacy.wiring import install as install_wiring

    install_wiring(app)


def __getattr__(name: str) -> object:
    # ``router`` is built on first use, so importing the audit table does not import the web layer.
    if name == "router":
        from amity.privacy.routes import router

        return router
    raise AttributeError(name)
