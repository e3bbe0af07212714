"""The email channel: an SMTP listener for mail in, SMTP through a relay for replies out.

- ``config``: the channel's settings and the address / Message-ID formats (docs/channels/email.md);
- ``listener``: :class:`~amity.channels.email.listener.SmtpListener` and ``run_forever`` (``amity smtp``);
- ``intake``: what one accepted message becomes (customer mail, auto-reply, bounce);
- ``parse`` / ``bounces``: MIME reading and machine-mail recognition;
- ``transport``: :class:`~amity.channels.email.transport.SmtpTransport`, the outbound seam.
"""

from __future__ import annotations

from typing import Any

from amity.channels.email.config import EmailConfig, message_id_for
from amity.channels.email.transport import SmtpTransport
from amity.channels.registry import ChannelKind
from amity.core.actions import App


def _transport(app: App, channel_id: str, config: dict[str, Any]) -> SmtpTransport:
    return SmtpTransport(config, default_relay=app.settings.smtp_relay)


KINDS = [
    ChannelKind(
        type="email",
        reaches=("email",),
        config_model=EmailConfig,
        transport=_transport,
        secret_fields=("relay_password",),
        external_id_for=message_id_for,
    )
]

__all__ = ["KINDS", "EmailConfig", "SmtpTransport", "message_id_for"]
