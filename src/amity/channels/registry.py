"""Which channel types exist and what each needs: config checks, who it reaches, how it sends.

Each adapter module (``amity.channels.email``, ``.twilio``, ``.telegram`` …) declares its
:class:`ChannelKind` objects in a module-level ``KINDS`` list; this registry imports them on first use,
so adding a channel is adding a module and one line in ``MODULES``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from amity.channels.base import Transport
from amity.core.actions import Invalid

if TYPE_CHECKING:
    from amity.core.actions import App

# channel type -> module that declares it
MODULES = {
    "email": "amity.channels.email",
    "chat": "amity.channels.chat",
    "sms": "amity.channels.twilio",
    "whatsapp": "amity.channels.twilio",
    "telegram": "amity.channels.telegram",
    "voice": "amity.channels.voice",
    "api": "amity.channels.api_channel",
}


ConfigModel = type[BaseModel]


@dataclass(frozen=True)
class ChannelKind:
    type: str
    # Identity types a reply on this channel can be addressed to (email -> "email", sms -> "phone").
    reaches: tuple[str, ...]
    config_model: ConfigModel
    # Builds the real transport for one channel's config; None: the channel cannot send (voice).
    transport: Callable[[App, str, dict[str, Any]], Transport] | None = None
    # The path under /hooks/{channel_id}/ where the provider posts, if it posts to us.
    webhook: str | None = None
    # Config keys never shown back in full (tokens, secrets).
    secret_fields: tuple[str, ...] = field(default_factory=tuple)
    # Chooses the provider id of an outbound message before it is sent (email Message-ID), so replies
    # that quote it find the conversation even if the worker died before recording the send.
    external_id_for: Callable[[str, dict[str, Any]], str] | None = None


_KINDS: dict[str, ChannelKind] = {}


def kind(channel_type: str) -> ChannelKind:
    if channel_type not in _KINDS:
        module = MODULES.get(channel_type)
        if module is None:
            raise Invalid(f"unknown channel type '{channel_type}'; one of {', '.join(MODULES)}", field="type")
        mod = adapter_module(module)
        for k in getattr(mod, "KINDS", []):
            _KINDS[k.type] = k
        if channel_type not in _KINDS:
            raise Invalid(f"the {channel_type} channel is not available in this installation", field="type")
    return _KINDS[channel_type]


def adapter_module(module: str) -> ModuleType | None:
    """The adapter module, or None when this installation does not ship it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or not (module == exc.name or module.startswith(exc.name + ".")):
            raise  # the adapter exists but one of its own imports is missing: a real error
        return None


def check_config(channel_type: str, config: dict[str, Any]) -> dict[str, Any]:
    """The config as the adapter's model reads it, or a 422 naming ``config.<field>``."""
    model = kind(channel_type).config_model
    try:
        checked: dict[str, Any] = model.model_validate(config).model_dump(mode="json", exclude_none=True)
        return checked
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Invalid(first["msg"], field=f"config.{where}" if where else "config") from None


def masked(channel_type: str, config: dict[str, Any]) -> dict[str, Any]:
    secrets = kind(channel_type).secret_fields

    def hide(v: Any) -> str:
        text = str(v)
        # The last four characters help tell two tokens apart, unless they would be most of it.
        return "••••" + text[-4:] if len(text) >= 16 else "••••"

    return {k: (hide(v) if k in secrets and v else v) for k, v in config.items()}


def transport_for(app: App, channel_type: str, channel_id: str, config: dict[str, Any]) -> Transport:
    """The transport to send with. Tests (and only tests) put fakes in ``app.cache["transports"]``."""
    fakes: dict[str, Transport] = app.cache.get("transports", {})
    if channel_type in fakes:
        return fakes[channel_type]
    make = kind(channel_type).transport
    if make is None:
        raise Invalid(f"a {channel_type} channel cannot send messages; reply on another", field="channel_id")
    return make(app, channel_id, config)
