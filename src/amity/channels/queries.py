"""Reading channel configuration."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amity.channels import registry
from amity.channels.models import Channel
from amity.core.actions import NotFound


def get_channel(session: Session, channel_id: str) -> Channel:
    c = session.get(Channel, channel_id)
    if c is None:
        raise NotFound(f"no channel {channel_id}", field="channel_id")
    return c


def webhook_url(base_url: str, c: Channel) -> str | None:
    hook = registry.kind(c.type).webhook
    return f"{base_url}/hooks/{c.id}/{hook}" if hook else None


def channel_out(c: Channel, base_url: str) -> dict[str, Any]:
    return {
        "id": c.id,
        "type": c.type,
        "name": c.name,
        "config": registry.masked(c.type, c.config),
        "brand_id": c.brand_id,
        "enabled": c.enabled,
        "webhook_url": webhook_url(base_url, c),
        "reaches": list(registry.kind(c.type).reaches),
        "created_at": c.created_at.isoformat(),
        "updated_at": c.updated_at.isoformat(),
    }


def list_channels(session: Session, base_url: str, type_: str | None = None) -> list[dict[str, Any]]:
    q = select(Channel).order_by(Channel.created_at)
    if type_:
        q = q.where(Channel.type == type_)
    return [channel_out(c, base_url) for c in session.scalars(q)]


def channels_of_type(session: Session, channel_type: str) -> list[Channel]:
    return list(
        session.scalars(select(Channel).where(Channel.type == channel_type, Channel.enabled.is_(True)))
    )
