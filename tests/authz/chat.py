"""The web chat channel (docs/channels/chat.md): the widget's HTTP doors are public on purpose, the
visitor token (signed by Amity) is their credential. The WebSocket is not an HTTP operation; its
refusals are tested in tests/test_channel_chat.py."""

from __future__ import annotations

ALLOWED: dict[tuple[str, str], frozenset[str]] = {}
PUBLIC = {
    ("POST", "/hooks/{channel_id}/chat/session"),
    ("GET", "/hooks/{channel_id}/chat/messages"),
}
