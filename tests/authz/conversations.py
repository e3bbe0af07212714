"""Conversations, messages, attachments, the live stream and channel configuration (docs/api.md)."""

from __future__ import annotations

from tests.authz import ADMIN, STAFF

READERS = frozenset({"admin", "supervisor", "agent", "integration"})

ALLOWED = {
    ("GET", "/api/v1/conversations"): READERS,
    ("POST", "/api/v1/conversations"): STAFF,
    ("GET", "/api/v1/conversations/{conversation_id}"): READERS,
    ("PATCH", "/api/v1/conversations/{conversation_id}"): STAFF,
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): STAFF,
    ("POST", "/api/v1/conversations/{conversation_id}/merge"): STAFF,
    ("POST", "/api/v1/messages/{message_id}/move"): STAFF,
    ("GET", "/api/v1/attachments/{attachment_id}"): READERS,
    ("GET", "/api/v1/stream"): READERS,
    ("GET", "/api/v1/channels"): READERS,
    ("POST", "/api/v1/channels"): ADMIN,
    ("GET", "/api/v1/channels/{channel_id}"): READERS,
    ("PATCH", "/api/v1/channels/{channel_id}"): ADMIN,
}
# Authenticated by X-Amity-Signature over the body, not by a bearer token.
SIGNED = {("POST", "/hooks/{channel_id}/api")}
