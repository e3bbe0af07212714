"""SMS and WhatsApp (Twilio) webhooks (docs/channels/sms-whatsapp.md)."""

from __future__ import annotations

# Authenticated by X-Twilio-Signature (HMAC-SHA1 over the public URL and the form), not by a bearer token.
SIGNED = {
    ("POST", "/hooks/{channel_id}/twilio"),
    ("POST", "/hooks/{channel_id}/twilio/status"),
}
