"""Which email channel a recipient address belongs to, and which conversation a plus-address names.

``support@shop.example`` is the channel whose ``address`` it is; ``support+<token>@shop.example`` is the
same channel, and the token is the conversation's ``reply_token`` (our Reply-To carries it). Matching
ignores case: mail systems treat local parts case-insensitively in practice, whatever RFC 5321 allows.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from amity.channels.queries import channels_of_type
from amity.core.actions import App

log = logging.getLogger("amity.channels.email")


@dataclass(frozen=True)
class Route:
    channel_id: str
    channel_address: str
    recipient: str
    token: str | None = None


def _ascii_domain(address: str) -> str:
    local, _, domain = address.strip().lower().rpartition("@")
    # A domain that is not IDNA-convertible stays as it is: it simply matches no configured address.
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}"


def addresses(app: App) -> dict[str, str]:
    """Address -> channel id of every enabled email channel (the oldest wins a duplicate address)."""
    with app.db.read() as s:
        channels = sorted(channels_of_type(s, "email"), key=lambda c: c.created_at)
    out: dict[str, str] = {}
    for c in channels:
        address = str(c.config.get("address", "")).lower()
        if address in out:
            log.warning(
                "email channels %s and %s share %s; mail goes to %s",
                out[address],
                c.id,
                address,
                out[address],
            )
            continue
        out[address] = c.id
    return out


def route(app: App, recipient: str, known: dict[str, str] | None = None) -> Route | None:
    known = addresses(app) if known is None else known
    wanted = _ascii_domain(recipient)
    if wanted in known:
        return Route(known[wanted], wanted, recipient)
    local, _, domain = wanted.rpartition("@")
    if "+" in local:
        base, token = local.rsplit("+", 1)
        channel_address = f"{base}@{domain}"
        if channel_address in known:
            return Route(known[channel_address], channel_address, recipient, token or None)
    return None
