"""An email channel's settings, and the address and Message-ID formats derived from them.

One email channel is one address we receive for (``support@shop.example``). Replies go out From that
address, with a Message-ID we choose before sending (``<msg_…@shop.example>``) and, when
``reply_to_token`` is on, a Reply-To of ``support+<reply_token>@shop.example`` so a customer's answer
finds its conversation even from a client that drops the threading headers.
"""

from __future__ import annotations

import re
from typing import Any

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, field_validator

# A relay is "host:port", "host" (port 25) or "[v6 address]:port".
_RELAY = re.compile(
    r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?))(?::(?P<port>\d{1,5}))?$"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RelayError(ValueError):
    """A relay setting that cannot name a server."""


def parse_relay(value: str) -> tuple[str, int]:
    """``"smtp.example:587"`` -> ``("smtp.example", 587)``; a missing port is 25 (plain SMTP)."""
    m = _RELAY.match(value.strip())
    if m is None:
        raise RelayError(f"'{value}' is not host:port (e.g. smtp.example.com:587 or [::1]:25)")
    port = int(m.group("port") or 25)
    if not 1 <= port <= 65535:
        raise RelayError(f"port {port} is outside 1-65535")
    return (m.group("v6") or m.group("host")), port


class EmailConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str = Field(
        max_length=254,
        description="The address this channel receives for and sends from, e.g. support@shop.example",
    )
    from_name: str | None = Field(
        default=None, max_length=200, description="Display name on outgoing mail: 'Shop Support'"
    )
    relay: str | None = Field(
        default=None, max_length=300, description="host:port of the SMTP relay; default AMITY_SMTP_RELAY"
    )
    relay_username: str | None = Field(
        default=None, max_length=300, description="SMTP AUTH user at the relay"
    )
    relay_password: str | None = Field(default=None, max_length=300, description="SMTP AUTH password")
    relay_starttls: bool = Field(default=False, description="Upgrade the relay connection with STARTTLS")
    reply_to_token: bool = Field(
        default=True, description="Reply-To carries the conversation's token: support+<token>@domain"
    )

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        try:
            # SMTPUTF8 local parts are refused: most relays cannot send from them. International
            # domains are fine and kept in their ASCII (IDNA) form, which is what appears on the wire.
            checked = validate_email(v.strip(), check_deliverability=False, allow_smtputf8=False)
        except EmailNotValidError as exc:
            raise ValueError(f"not a valid email address: {exc}") from None
        return (checked.ascii_email or checked.normalized).lower()

    @field_validator("from_name")
    @classmethod
    def _from_name(cls, v: str | None) -> str | None:
        if v is None:
            return None
        if _CONTROL.search(v):
            raise ValueError("a display name cannot contain line breaks or control characters")
        return v.strip() or None

    @field_validator("relay")
    @classmethod
    def _relay(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        host, port = parse_relay(v)  # RelayError is a ValueError: pydantic names the field
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    @field_validator("relay_username", "relay_password")
    @classmethod
    def _no_control(cls, v: str | None) -> str | None:
        if v is not None and _CONTROL.search(v):
            raise ValueError("cannot contain line breaks or control characters")
        return v or None


def split_address(address: str) -> tuple[str, str]:
    local, _, domain = address.rpartition("@")
    return local, domain


def message_id_for(message_id: str, config: dict[str, Any]) -> str:
    """The RFC 5322 Message-ID of one of our outbound messages: ``<msg_…@domain-of-address>``.

    The message's own id is inside it, so a reply quoting it threads (continuity.py reads it back)
    even if the send was never recorded.
    """
    return f"<{message_id}@{split_address(str(config['address']))[1]}>"


def reply_address(config: dict[str, Any], token: str) -> str:
    local, domain = split_address(str(config["address"]))
    return f"{local}+{token}@{domain}"
