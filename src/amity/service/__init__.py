"""People, routing and service levels, escalation and approvals, macros and brands (docs/service-levels.md).

Loaded by the web app as a plug-in: ``install(app)`` subscribes to conversation events and registers
the SLA check with the job queue; the HTTP routes are in :mod:`amity.service.api`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from amity.core.actions import App


def install(app: App) -> None:
    # Imported here: amity.models imports this package for its tables, and the handlers import the
    # conversations capability, which must not be pulled in while the table registry is being built.
    from amity.service.handlers import install as install_handlers

    install_handlers(app)
