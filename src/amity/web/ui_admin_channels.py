"""Admin pages for channels: pick a type, fill in the fields that type's adapter asks for, copy the
webhook URL to the provider. The form is built from the adapter's own config model, so a new channel
type gets its admin form without touching this module. Secrets are never shown back: an edit form
leaves them empty, and an empty secret field keeps the stored one."""

from __future__ import annotations

import typing
from typing import Any

from fastapi import APIRouter, Request
from pydantic_core import PydanticUndefined
from sqlalchemy import select
from starlette.responses import Response

from amity.accounts.roles import Perm
from amity.channels import actions, queries, registry
from amity.channels.models import CHANNEL_TYPES, Channel
from amity.conversations.schemas import ChannelIn, ChannelPatch
from amity.core.actions import ActionError
from amity.service.models import Brand
from amity.web.ui_admin_kit import (
    Button,
    Errors,
    Field,
    Form,
    Row,
    admin_page,
    attempt,
    flag,
    names,
    posted,
    split,
    status_of,
    text,
    validate,
)
from amity.web.ui_base import Page, redirect, render, signed_in

router = APIRouter(include_in_schema=False)
PERM = Perm.CHANNELS_MANAGE

TYPE_NAMES = {
    "email": "Email",
    "chat": "Web chat",
    "sms": "SMS (Twilio)",
    "whatsapp": "WhatsApp (Twilio)",
    "telegram": "Telegram bot",
    "voice": "Voice (call events)",
    "api": "API channel",
}


def _not_found(page: Page, message: str) -> Response:
    return render(page.request, "error.html", 404, page=page, title="Not found", message=message)


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(annotation) is list


def config_fields(type_: str, current: dict[str, Any] | None = None) -> list[Field]:
    """One field per key of the adapter's config model; ``current`` is the stored config when editing."""
    kind = registry.kind(type_)
    masked = registry.masked(type_, current or {})
    out = []
    for name, info in kind.config_model.model_fields.items():
        hint = info.description or ""
        if info.is_required():
            hint = f"Required. {hint}"
        if name in kind.secret_fields:
            field_kind = "password"
            if current is not None and current.get(name):
                hint += f" Set ({masked[name]}); leave empty to keep it."
        elif info.annotation is bool:
            field_kind = "checkbox"
        elif _is_list(info.annotation):
            field_kind = "textarea"
            hint += " One per line."
        else:
            field_kind = "text"
        out.append(
            Field(f"config.{name}", name.replace("_", " ").capitalize(), field_kind, hint=hint.strip())
        )
    return out


def config_values(type_: str, config: dict[str, Any] | None) -> Form:
    """Form values: the stored config (secrets left out), or the model's defaults for a new channel."""
    kind = registry.kind(type_)
    form: Form = {}
    for name, info in kind.config_model.model_fields.items():
        if config is None:
            value = None if info.default is PydanticUndefined else info.default
        else:
            value = None if name in kind.secret_fields else config.get(name)
        if info.annotation is bool:
            form[f"config.{name}"] = "on" if value else ""
        elif isinstance(value, list):
            form[f"config.{name}"] = "\n".join(str(v) for v in value)
        else:
            form[f"config.{name}"] = "" if value is None else str(value)
    return form


def config_from(type_: str, form: Form, errors: Errors, *, editing: bool) -> dict[str, Any]:
    kind = registry.kind(type_)
    config: dict[str, Any] = {}
    for name, info in kind.config_model.model_fields.items():
        key = f"config.{name}"
        secret = name in kind.secret_fields
        if info.annotation is bool:
            config[name] = flag(form, key)
            continue
        value: Any = split(form, key) if _is_list(info.annotation) else text(form, key)
        if value:
            config[name] = value
        elif info.is_required() and not (secret and editing):
            errors[key] = "Required."
        elif editing and not secret:
            config[name] = None  # an emptied optional field is cleared, not kept
    return config


def _brand_options(page: Page) -> list[tuple[str, str]]:
    with page.app.db.read() as s:
        brands = s.execute(select(Brand.id, Brand.name).order_by(Brand.name)).all()
    return [("", "— none —"), *((b.id, b.name) for b in brands)]


def _fields(page: Page, type_: str, current: dict[str, Any] | None) -> list[Field]:
    return [
        Field("name", "Name", placeholder="Support inbox"),
        Field("brand_id", "Brand", "select", _brand_options(page), hint="Whose name replies go out under"),
        *config_fields(type_, current),
    ]


# ---- list -------------------------------------------------------------------------------------------
@router.get("/admin/channels")
def channels_page(request: Request, notice: str = "") -> Response:
    page = signed_in(request, PERM)
    if isinstance(page, Response):
        return page
    base = page.app.settings.base_url
    with page.app.db.read() as s:
        channels = list(s.scalars(select(Channel).order_by(Channel.created_at)))
        rows = [
            Row(
                [
                    c.name,
                    TYPE_NAMES.get(c.type, c.type),
                    "enabled" if c.enabled else "disabled",
                    queries.webhook_url(base, c) or "—",
                ],
                href=f"/admin/channels/{c.id}",
                buttons=[_toggle(c)],
                muted=not c.enabled,
            )
            for c in channels
        ]
    return admin_page(
        page,
        "admin_channels.html",
        title="Channels",
        intro="Every way customers reach you, and the way replies go back.",
        list_title=f"{len(rows)} channels",
        columns=["Name", "Type", "Status", "Webhook URL"],
        rows=rows,
        empty="No channels yet. Pick a type to add the first.",
        fields=[],
        types=[(t, TYPE_NAMES.get(t, t)) for t in CHANNEL_TYPES],
        notice={"created": "Channel added.", "saved": "Channel saved."}.get(notice),
    )


def _toggle(c: Channel) -> Button:
    if c.enabled:
        return Button(
            f"/admin/channels/{c.id}/disable",
            "Disable",
            danger=True,
            confirm=f"Disable {c.name}? It stops receiving and sending.",
        )
    return Button(f"/admin/channels/{c.id}/enable", "Enable")


# ---- create -----------------------------------------------------------------------------------------
def _new_form(page: Page, type_: str, form: Form, errors: dict[str, str], status: int = 200) -> Response:
    return admin_page(
        page,
        "admin_channel.html",
        status,
        title=f"New {TYPE_NAMES.get(type_, type_)} channel",
        intro="",
        back=("/admin/channels", "Channels"),
        form_title="Settings",
        fields=_fields(page, type_, None),
        form=form,
        errors=errors,
        action=f"/admin/channels/new?type={type_}",
        submit="Add channel",
        buttons=[],
        channel=None,
        webhook=None,
    )


@router.get("/admin/channels/new")
def new_channel_page(request: Request, type: str = "") -> Response:
    page = signed_in(request, PERM)
    if isinstance(page, Response):
        return page
    if type not in CHANNEL_TYPES:
        return _not_found(page, f"There is no channel type '{type}'. Choose one on the channels page.")
    return _new_form(page, type, {"name": "", "brand_id": "", **config_values(type, None)}, {})


@router.post("/admin/channels/new")
async def new_channel_submit(request: Request, type: str = "") -> Response:
    page, form = await posted(request, PERM)
    if isinstance(page, Response):
        return page
    if type not in CHANNEL_TYPES:
        return _not_found(page, f"There is no channel type '{type}'.")
    fields = names(_fields(page, type, None))
    errors = Errors()
    config = config_from(type, form, errors, editing=False)
    data = {
        "type": type,
        "name": text(form, "name"),
        "config": config,
        "brand_id": text(form, "brand_id") or None,
    }
    body = validate(ChannelIn, data, fields, errors)
    row = (
        None
        if body is None
        else attempt(page, fields, errors, actions.create_channel, type, body.name, config, body.brand_id)
    )
    if row is None:
        return _new_form(page, type, form, errors, status_of(errors))
    return redirect(f"/admin/channels/{row.id}?notice=created")


# ---- edit -------------------------------------------------------------------------------------------
def _edit_form(
    page: Page,
    channel: Channel,
    form: Form | None,
    errors: dict[str, str],
    status: int = 200,
    notice: str | None = None,
) -> Response:
    if form is None:
        form = {
            "name": channel.name,
            "brand_id": channel.brand_id or "",
            **config_values(channel.type, channel.config),
        }
    return admin_page(
        page,
        "admin_channel.html",
        status,
        title=channel.name,
        intro=f"{TYPE_NAMES.get(channel.type, channel.type)} channel · {channel.id}"
        + ("" if channel.enabled else " · disabled"),
        back=("/admin/channels", "Channels"),
        form_title="Settings",
        fields=_fields(page, channel.type, channel.config),
        form=form,
        errors=errors,
        action=f"/admin/channels/{channel.id}",
        submit="Save changes",
        buttons=[_toggle(channel)],
        channel=channel,
        webhook=queries.webhook_url(page.app.settings.base_url, channel),
        notice=notice,
    )


def _load(page: Page, channel_id: str) -> Channel | Response:
    with page.app.db.read() as s:
        try:
            return queries.get_channel(s, channel_id)
        except ActionError as exc:
            return _not_found(page, exc.message)


@router.get("/admin/channels/{channel_id}")
def channel_page(request: Request, channel_id: str, notice: str = "") -> Response:
    page = signed_in(request, PERM)
    if isinstance(page, Response):
        return page
    channel = _load(page, channel_id)
    if isinstance(channel, Response):
        return channel
    message = {
        "created": "Channel added.",
        "saved": "Changes saved.",
        "enabled": "Channel enabled.",
        "disabled": "Channel disabled.",
    }.get(notice)
    return _edit_form(page, channel, None, {}, notice=message)


@router.post("/admin/channels/{channel_id}")
async def channel_submit(request: Request, channel_id: str) -> Response:
    page, form = await posted(request, PERM)
    if isinstance(page, Response):
        return page
    channel = _load(page, channel_id)
    if isinstance(channel, Response):
        return channel
    fields = names(_fields(page, channel.type, channel.config))
    errors = Errors()
    config = config_from(channel.type, form, errors, editing=True)
    data = {"name": text(form, "name"), "config": config, "brand_id": text(form, "brand_id")}
    body = validate(ChannelPatch, data, fields, errors)
    done = (
        None
        if body is None
        else attempt(
            page,
            fields,
            errors,
            actions.update_channel,
            channel.id,
            name=body.name,
            config=config,
            brand_id=body.brand_id or "",
        )
    )
    if done is None:
        return _edit_form(page, channel, form, errors, status_of(errors))
    return redirect(f"/admin/channels/{channel.id}?notice=saved")


async def _set_enabled(request: Request, channel_id: str, enabled: bool) -> Response:
    page, _ = await posted(request, PERM)
    if isinstance(page, Response):
        return page
    channel = _load(page, channel_id)
    if isinstance(channel, Response):
        return channel
    errors = Errors()
    if attempt(page, ["enabled"], errors, actions.update_channel, channel.id, enabled=enabled) is None:
        # Enabling can collide with another channel that took the same address meanwhile.
        status = status_of(errors)
        return _edit_form(page, channel, None, {"_": next(iter(errors.values()))}, status)
    return redirect(f"/admin/channels/{channel.id}?notice={'enabled' if enabled else 'disabled'}")


@router.post("/admin/channels/{channel_id}/enable")
async def channel_enable(request: Request, channel_id: str) -> Response:
    return await _set_enabled(request, channel_id, True)


@router.post("/admin/channels/{channel_id}/disable")
async def channel_disable(request: Request, channel_id: str) -> Response:
    return await _set_enabled(request, channel_id, False)
