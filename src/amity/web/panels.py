"""Side panels that capabilities add beside a conversation and on the customer page.

The customer side panel is the Customer 360 on one screen. The customer core fills its first cards;
later capabilities (consent, commerce, insight) each register a card here from their own
``install(app)``, so none of them edits the console's template or reads another capability's tables
through it: a card's loader uses its own capability's queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from amity.core.actions import Actor

# (session, customer_id, actor) -> the card's template context, or None to leave the card out
Loader = Callable[[Session, str, Actor], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Panel:
    key: str  # unique, used for the card's element id: ``panel-<key>``
    title: str
    template: str  # a template under some capability's ``templates/`` directory; gets ``data``
    load: Loader
    order: int = 100  # lower first


_PANELS: dict[str, Panel] = {}


def register(panel: Panel) -> None:
    """Idempotent: installing the same capability into a second app in one process keeps one card."""
    _PANELS[panel.key] = panel


def registered() -> list[Panel]:
    return sorted(_PANELS.values(), key=lambda p: (p.order, p.key))


def load_all(s: Session, customer_id: str, actor: Actor) -> list[dict[str, Any]]:
    cards = []
    for panel in registered():
        data = panel.load(s, customer_id, actor)
        if data is not None:
            cards.append({"key": panel.key, "title": panel.title, "template": panel.template, "data": data})
    return cards
