"""The web chat channel: a widget on the customer's website talks to Amity over a WebSocket.

Visitors open a session over HTTP (``visitors``), chat over ``/hooks/{channel_id}/chat/ws`` (``ws``),
and can read their transcript over HTTP (``http``); agents' replies reach every open socket of the
visitor through the ``hub``, across processes with Redis. The protocol is in docs/channels/chat.md.
"""

from __future__ import annotations

from fastapi import APIRouter

from amity.channels.chat import http, ws
from amity.channels.chat.config import ChatConfig
from amity.channels.chat.store import transport
from amity.channels.registry import ChannelKind

__all__ = ["KINDS", "ChatConfig", "router"]

KINDS = [
    ChannelKind(
        type="chat",
        # A visitor is a device identity, ``chat-<visitor_id>``: a reply goes to that browser's sockets.
        reaches=("device",),
        config_model=ChatConfig,
        transport=transport,
        # webhook_url is the widget's base URL: …/session, …/ws (as ws:// or wss://) and …/messages.
        webhook="chat",
        secret_fields=("identity_secret",),
    )
]

router = APIRouter()  # the HTTP routes carry their own tag
router.include_router(http.router)
router.include_router(ws.router)
