"""What an SMS or WhatsApp channel needs to know about its Twilio (or Twilio-compatible) account."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_API_BASE = "https://api.twilio.com"
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
# People paste numbers as they read them ("+44 7911 123-456"); these separators carry no meaning.
_SEPARATORS = re.compile(r"[\s().-]")


def e164(value: str) -> str:
    number = _SEPARATORS.sub("", value)
    if not _E164.match(number):
        raise ValueError("must be an E.164 number such as +447911123456")
    return number


def api_base_url(value: str) -> str:
    """An http(s) origin (and optional path prefix) without a trailing slash, query or fragment.

    Plain http is allowed on purpose: Twilio-compatible gateways and the self-hosted Telegram Bot API
    server commonly listen on a private address without TLS.
    """
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL such as https://api.example.com")
    if parts.query or parts.fragment:
        raise ValueError("must not carry a query string or fragment")
    return value.strip().rstrip("/")


class TwilioConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_sid: str = Field(
        pattern=r"^AC[0-9a-fA-F]{32}$", description="The account SID (AC + 32 hex digits)"
    )
    auth_token: str = Field(
        min_length=16,
        max_length=128,
        pattern=r"^[A-Za-z0-9]+$",
        description="The account's Auth Token: authenticates our API calls and signs Twilio's webhooks",
    )
    from_number: str = Field(max_length=40, description="The number messages are sent from (E.164)")
    api_base: str = Field(default=DEFAULT_API_BASE, max_length=300, description="REST API origin")
    status_callback: bool = Field(
        default=True, description="Ask Twilio to post delivery status changes back to Amity"
    )

    @field_validator("api_base")
    @classmethod
    def _api_base(cls, v: str) -> str:
        return api_base_url(v)


class SmsConfig(TwilioConfig):
    @field_validator("from_number")
    @classmethod
    def _number(cls, v: str) -> str:
        if v.strip().lower().startswith("whatsapp:"):
            raise ValueError("an SMS channel sends from a plain number; use a whatsapp channel for WhatsApp")
        return e164(v)


class WhatsAppConfig(TwilioConfig):
    from_number: str = Field(
        max_length=50, description="The WhatsApp sender, whatsapp:+E.164 (a bare +E.164 is accepted)"
    )

    @field_validator("from_number")
    @classmethod
    def _number(cls, v: str) -> str:
        raw = v.strip()
        if raw.lower().startswith("whatsapp:"):
            raw = raw[len("whatsapp:") :]
        # Stored in the form Twilio's API expects as From, so the transport never has to guess.
        return "whatsapp:" + e164(raw)
