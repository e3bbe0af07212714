"""The voice channel: the signed call-event webhook and the screen-pop read (docs/channels/voice.md)."""

from __future__ import annotations

# Whoever may read conversations (Perm.CONVERSATIONS_READ) may read a call's screen pop: it shows the
# caller's summary and open conversation, which those roles can read anyway.
READERS = frozenset({"admin", "supervisor", "agent", "integration"})

ALLOWED = {
    ("GET", "/api/v1/calls/{call_id}/screen-pop"): READERS,
}
# Authenticated by X-Amity-Signature over the body (the voice channel's secret), not by a bearer token.
SIGNED = {("POST", "/hooks/{channel_id}/voice")}
