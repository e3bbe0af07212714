"""SMS and WhatsApp through Twilio (or any service speaking Twilio's Messages API and webhooks).

Two channel types share this adapter: ``sms`` and ``whatsapp``. Both receive at
``/hooks/{channel_id}/twilio`` (messages) and ``/hooks/{channel_id}/twilio/status`` (delivery
status), and reach customers by their ``phone`` identity (docs/channels/sms-whatsapp.md).
"""

from __future__ import annotations

from typing import Any

from amity.channels.registry import ChannelKind
from amity.channels.twilio.config import SmsConfig, WhatsAppConfig
from amity.channels.twilio.transport import TwilioTransport
from amity.channels.twilio.webhook import router
from amity.core.actions import App


def _transport(app: App, channel_id: str, config: dict[str, Any]) -> TwilioTransport:
    # The status callback URL must be the public one Twilio can reach, as for the webhook itself.
    return TwilioTransport(app.settings.base_url)


KINDS = [
    ChannelKind(
        type=channel_type,
        reaches=("phone",),
        config_model=model,
        transport=_transport,
        webhook="twilio",
        secret_fields=("auth_token",),
    )
    for channel_type, model in (("sms", SmsConfig), ("whatsapp", WhatsAppConfig))
]

__all__ = ["KINDS", "TwilioTransport", "router"]
