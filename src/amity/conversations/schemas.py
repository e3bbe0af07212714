"""Request bodies of the conversations API, validated at the edge."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from amity.core.inputs import Input


class AttachmentIn(Input):
    filename: str = Field(min_length=1, max_length=300)
    content_base64: str = Field(min_length=1, description="The file's bytes, base64-encoded")
    content_type: str | None = Field(
        default=None, max_length=200, description="Kept for reference; the type is sniffed"
    )


class MessageIn(Input):
    text: str = Field(default="", max_length=100_000)
    html: str | None = Field(default=None, max_length=500_000, description="Sanitised before it is stored")
    note: bool = Field(default=False, description="An internal note: never sent to the customer")
    channel_id: str | None = Field(
        default=None, max_length=32, description="Default: the channel the customer last used"
    )
    status: str | None = Field(default=None, description="Set the conversation's status in the same step")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)


class ConversationIn(Input):
    customer_id: str = Field(min_length=1, max_length=32)
    subject: str = Field(default="", max_length=500)
    channel_id: str | None = Field(default=None, max_length=32)
    priority: str = "normal"
    tags: list[str] = Field(default_factory=list, max_length=50)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    assignee_id: str | None = Field(default=None, max_length=32)
    team_id: str | None = Field(default=None, max_length=32)
    brand_id: str | None = Field(default=None, max_length=32)
    message: MessageIn | None = Field(default=None, description="A first message to send or note")


class ConversationPatch(Input):
    status: str | None = None
    priority: str | None = None
    assignee_id: str | None = Field(default=None, max_length=32)
    team_id: str | None = Field(default=None, max_length=32)
    brand_id: str | None = Field(default=None, max_length=32)
    subject: str | None = Field(default=None, max_length=500)
    tags: list[str] | None = Field(default=None, max_length=50)
    add_tags: list[str] | None = Field(default=None, max_length=50)
    remove_tags: list[str] | None = Field(default=None, max_length=50)
    custom_fields: dict[str, Any] | None = None


class MergeConversationsIn(Input):
    other_id: str = Field(min_length=1, max_length=32, description="The conversation to fold into this one")


class MoveIn(Input):
    conversation_id: str = Field(min_length=1, max_length=32)


class ChannelIn(Input):
    type: str = Field(description="email, chat, sms, whatsapp, telegram, voice or api")
    name: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict)
    brand_id: str | None = Field(default=None, max_length=32)


class ChannelPatch(Input):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    config: dict[str, Any] | None = None
    enabled: bool | None = None
    brand_id: str | None = Field(default=None, max_length=32)
