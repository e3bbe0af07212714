"""Telegram bot webhook (docs/channels/telegram.md)."""

from __future__ import annotations

# Authenticated by X-Telegram-Bot-Api-Secret-Token (the secret given to setWebhook), not by a bearer token.
SIGNED = {("POST", "/hooks/{channel_id}/telegram")}
