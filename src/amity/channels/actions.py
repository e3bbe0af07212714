"""Configuring channels (admins) — every change audited, secrets never written to the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from amity.channels import registry
from amity.channels.models import CHANNEL_TYPES, Channel
from amity.channels.queries import get_channel
from amity.core.actions import ActionContext, Conflict, Invalid
from amity.db import utcnow
from amity.ids import new_id


def _one_owner_per_address(
    ctx: ActionContext, channel_type: str, config: dict[str, Any], own_id: str | None
) -> None:
    """Two enabled email channels for one address would race for its mail: refuse the second."""
    address = str(config.get("address", "")).lower()
    if channel_type != "email" or not address:
        return
    for other in ctx.session.scalars(
        select(Channel).where(Channel.type == "email", Channel.enabled.is_(True))
    ):
        if other.id != own_id and str(other.config.get("address", "")).lower() == address:
            raise Conflict(
                f"channel '{other.name}' already receives mail for {address}", field="config.address"
            )


def create_channel(
    ctx: ActionContext, type_: str, name: str, config: dict[str, Any], brand_id: str | None = None
) -> Channel:
    if type_ not in CHANNEL_TYPES:
        raise Invalid(f"unknown channel type '{type_}'; one of {', '.join(CHANNEL_TYPES)}", field="type")
    if not name.strip():
        raise Invalid("a channel needs a name", field="name")
    checked = registry.check_config(type_, config)
    _one_owner_per_address(ctx, type_, checked, None)
    now = utcnow()
    c = Channel(
        id=new_id("chn"),
        type=type_,
        name=name.strip(),
        config=checked,
        brand_id=brand_id,
        enabled=True,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(c)
    ctx.session.flush()
    ctx.audit(
        "channel.created", "channel", c.id, type=type_, name=c.name, config=registry.masked(type_, checked)
    )
    ctx.publish("channel.created", channel_id=c.id, type=type_)
    return c


def update_channel(
    ctx: ActionContext,
    channel_id: str,
    *,
    name: str | None = None,
    config: dict[str, Any] | None = None,
    enabled: bool | None = None,
    brand_id: str | None = None,
) -> Channel:
    c = get_channel(ctx.session, channel_id)
    changes: dict[str, Any] = {}
    if name is not None:
        if not name.strip():
            raise Invalid("a channel needs a name", field="name")
        c.name = changes["name"] = name.strip()
    if config is not None:
        # A partial config updates keys; the result is checked whole, as on creation.
        c.config = registry.check_config(c.type, {**c.config, **config})
        changes["config"] = registry.masked(c.type, c.config)
    if enabled is not None:
        c.enabled = changes["enabled"] = enabled
    if c.enabled:
        _one_owner_per_address(ctx, c.type, c.config, c.id)
    if brand_id is not None:
        c.brand_id = changes["brand_id"] = brand_id or None
    c.updated_at = utcnow()
    ctx.audit("channel.updated", "channel", c.id, **changes)
    ctx.publish("channel.updated", channel_id=c.id)
    return c
