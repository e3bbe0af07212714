"""Proof of what the customer saw and where they acted from, kept without keeping who they are.

The text shown is kept as its SHA-256 (the policy text itself is versioned elsewhere; the hash proves
which words were on the screen). The IP address and user agent are kept as HMAC-SHA256 keyed with the
app's secret key: a plain hash of an IPv4 address is reversed by trying all 2^32 of them, a keyed one
is not without the key, yet the same address still gives the same value, so a claim can be checked.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from amity.core.actions import App


@dataclass(frozen=True)
class Proof:
    policy_version: str | None = None
    text_sha256: str | None = None
    ip_hash: str | None = None
    user_agent_hash: str | None = None


def keyed_hash(secret: str, purpose: str, value: str) -> str:
    # The purpose label keeps an IP hash from ever equalling a user-agent hash of the same string.
    return hmac.new(secret.encode(), f"{purpose}\x1f{value}".encode(), hashlib.sha256).hexdigest()


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_proof(
    app: App,
    *,
    policy_version: str | None = None,
    text: str | None = None,
    text_sha256: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Proof:
    """What a consent record keeps as proof; raw IP and user agent never reach the database."""
    secret: str = app.cache["secret_key"]
    return Proof(
        policy_version=policy_version or None,
        text_sha256=text_hash(text) if text else (text_sha256.lower() if text_sha256 else None),
        ip_hash=keyed_hash(secret, "ip", ip) if ip else None,
        user_agent_hash=keyed_hash(secret, "ua", user_agent) if user_agent else None,
    )
