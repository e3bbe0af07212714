"""Admin pages for outgoing webhook subscriptions: URL, events, enabled; the signing secret is shown
once (on creation and on rotation, in the answer to that POST), and each subscription lists its recent
deliveries."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from amity.accounts.roles import Perm
from amity.channels import outgoing_api as hooks
from amity.channels.models import WebhookSubscription
from amity.core.actions import ActionError, perform
from amity.web.ui_admin_kit import (
    Button,
    Errors,
    Field,
    Form,
    Row,
    admin_page,
    attempt,
    flag,
    listed,
    names,
    posted,
    status_of,
    text,
    validate,
)
from amity.web.ui_base import Page, _when, redirect, render, signed_in

router = APIRouter(include_in_schema=False)
PERM = Perm.SERVICE_MANAGE


# ---- outgoing webhooks ---------------------------------------------------------------------------------
def _webhook_fields() -> list[Field]:
    return [
        Field(
            "url",
            "URL",
            placeholder="https://crm.example/hooks/amity",
            hint="Where events are POSTed, signed with the subscription's secret",
        ),
        Field(
            "events",
            "Events",
            "checks",
            [(k, f"{k} — {v}") for k, v in hooks.CATALOGUE.items()],
            hint="None ticked: every event",
        ),
        Field("enabled", "Enabled", "checkbox"),
    ]


def _webhook_parse(form: Form) -> dict[str, Any]:
    return {"url": text(form, "url"), "events": listed(form, "events"), "enabled": flag(form, "enabled")}


def _webhooks_page(
    page: Page,
    form: Form | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Response:
    with page.app.db.read() as s:
        subs = list(s.scalars(select(WebhookSubscription).order_by(WebhookSubscription.created_at)))
    rows = [
        Row(
            [
                w.url,
                ", ".join(w.events) or "every event",
                "enabled" if w.enabled else "disabled",
                _when(w.created_at.isoformat()),
            ],
            href=f"/admin/webhooks/{w.id}",
            muted=not w.enabled,
        )
        for w in subs
    ]
    return admin_page(
        page,
        "admin_list.html",
        status,
        title="Outgoing webhooks",
        intro="Your systems are told what happens to conversations, messages and calls.",
        list_title=f"{len(rows)} subscriptions",
        columns=["URL", "Events", "Status", "Created"],
        rows=rows,
        empty="No subscriptions yet.",
        form_title="Subscribe a URL",
        fields=_webhook_fields(),
        form=form or {"url": "", "events": [], "enabled": "on"},
        errors=errors or {},
        action="/admin/webhooks",
        submit="Subscribe",
        notice=notice,
    )


def _webhook_page(
    page: Page,
    sub: WebhookSubscription,
    form: Form | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    once: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    with page.app.db.read() as s:
        deliveries = hooks.recent_deliveries(s, sub.id, status=None, limit=50)
    if form is None:
        form = {"url": sub.url, "events": list(sub.events), "enabled": "on" if sub.enabled else ""}
    return admin_page(
        page,
        "admin_webhook.html",
        status,
        title=hooks._origin(sub.url),
        intro=f"Webhook {sub.id}",
        back=("/admin/webhooks", "Outgoing webhooks"),
        form_title="Settings",
        fields=_webhook_fields(),
        form=form,
        errors=errors or {},
        action=f"/admin/webhooks/{sub.id}",
        submit="Save changes",
        buttons=[
            Button(
                f"/admin/webhooks/{sub.id}/rotate",
                "Rotate secret",
                confirm="Issue a new secret? The old one stops verifying at once.",
            ),
            Button(
                f"/admin/webhooks/{sub.id}/delete",
                "Delete subscription",
                danger=True,
                confirm="Delete this subscription and its delivery history?",
            ),
        ],
        deliveries=deliveries["items"],
        counts=deliveries["counts"],
        once=once,
        notice=notice,
    )


def _load(page: Page, webhook_id: str) -> WebhookSubscription | Response:
    with page.app.db.read() as s:
        sub = s.get(WebhookSubscription, webhook_id)
    if sub is None:
        return render(
            page.request,
            "error.html",
            404,
            page=page,
            title="Not found",
            message=f"There is no webhook {webhook_id}.",
        )
    return sub


@router.get("/admin/webhooks")
def webhooks_page(request: Request, notice: str = "") -> Response:
    page = signed_in(request, PERM)
    if isinstance(page, Response):
        return page
    return _webhooks_page(page, notice="Subscription deleted." if notice == "deleted" else None)


@router.post("/admin/webhooks")
async def webhook_submit(request: Request) -> Response:
    page, form = await posted(request, PERM, multi=("events",))
    if isinstance(page, Response):
        return page
    fields = names(_webhook_fields())
    errors = Errors()
    body = validate(hooks.WebhookIn, _webhook_parse(form), fields, errors)
    made = (
        None
        if body is None
        else attempt(page, fields, errors, hooks.create_subscription, body.url, body.events, body.enabled)
    )
    if made is None:
        return _webhooks_page(page, form, errors, status_of(errors))
    sub, secret = made
    return _webhook_page(
        page,
        sub,
        status=201,
        once={"label": "Signing secret", "value": secret},
        notice="Subscribed. Verify each request's X-Amity-Signature with this secret.",
    )


@router.get("/admin/webhooks/{webhook_id}")
def webhook_page(request: Request, webhook_id: str, notice: str = "") -> Response:
    page = signed_in(request, PERM)
    if isinstance(page, Response):
        return page
    sub = _load(page, webhook_id)
    if isinstance(sub, Response):
        return sub
    return _webhook_page(page, sub, notice="Changes saved." if notice == "saved" else None)


@router.post("/admin/webhooks/{webhook_id}")
async def webhook_save(request: Request, webhook_id: str) -> Response:
    page, form = await posted(request, PERM, multi=("events",))
    if isinstance(page, Response):
        return page
    sub = _load(page, webhook_id)
    if isinstance(sub, Response):
        return sub
    fields = names(_webhook_fields())
    errors = Errors()
    body = validate(hooks.WebhookPatch, _webhook_parse(form), fields, errors)
    done = (
        None
        if body is None
        else attempt(
            page,
            fields,
            errors,
            hooks.update_subscription,
            sub.id,
            url=body.url,
            events=body.events,
            enabled=body.enabled,
        )
    )
    if done is None:
        return _webhook_page(page, sub, form, errors, status_of(errors))
    return redirect(f"/admin/webhooks/{sub.id}?notice=saved")


@router.post("/admin/webhooks/{webhook_id}/rotate")
async def webhook_rotate(request: Request, webhook_id: str) -> Response:
    page, _ = await posted(request, PERM)
    if isinstance(page, Response):
        return page
    sub = _load(page, webhook_id)
    if isinstance(sub, Response):
        return sub
    try:
        sub, secret = perform(page.app, page.actor, hooks.update_subscription, sub.id, rotate_secret=True)
    except ActionError as exc:  # deleted between loading and rotating
        return render(request, "error.html", exc.status, page=page, title="Not found", message=exc.message)
    return _webhook_page(
        page,
        sub,
        once={"label": "New signing secret", "value": secret or ""},
        notice="Secret rotated. Requests are now signed with the new one.",
    )


@router.post("/admin/webhooks/{webhook_id}/delete")
async def webhook_delete(request: Request, webhook_id: str) -> Response:
    page, _ = await posted(request, PERM)
    if isinstance(page, Response):
        return page
    errors = Errors()
    attempt(page, [], errors, hooks.delete_subscription, webhook_id)
    if errors:
        sub = _load(page, webhook_id)
        return sub if isinstance(sub, Response) else _webhook_page(page, sub, status=status_of(errors))
    return redirect("/admin/webhooks?notice=deleted")
