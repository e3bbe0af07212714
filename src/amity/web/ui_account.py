"""A person's own sign-in security page: turning on TOTP two-factor sign-in (amity.accounts.totp)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from amity.accounts import totp
from amity.accounts.models import User, UserTotp
from amity.core.actions import ActionError, perform
from amity.web.ui_base import Page, checked, render, signed_in

router = APIRouter(include_in_schema=False)


def _page(
    page: Page,
    status: int = 200,
    codes: list[str] | None = None,
    error: str | None = None,
    notice: str | None = None,
) -> Response:
    with page.app.db.read() as s:
        t = s.get(UserTotp, page.actor.id)
        user = s.get(User, page.actor.id)
        enabled = t is not None and t.confirmed_at is not None
        secret = t.secret if t is not None and not enabled else ""
        left = totp.recovery_left(s, page.actor.id) if enabled else 0
        email = user.email if user else page.actor.name
    return render(
        page.request,
        "account_security.html",
        status,
        page=page,
        title="Sign-in security",
        enabled=enabled,
        secret=secret,
        uri=totp.provisioning_uri(secret, email) if secret else "",
        codes=codes,
        recovery_left=left,
        error=error,
        notice=notice,
    )


@router.get("/account/security")
def security_page(request: Request) -> Response:
    page = signed_in(request)
    if isinstance(page, Response):
        return page
    return _page(page)


@router.post("/account/security/totp")
def totp_start(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    page = checked(request, None, csrf)
    if isinstance(page, Response):
        return page
    if page.actor.kind != "user":
        return _page(page, 403, error="Only people sign in with two-factor.")
    try:
        perform(page.app, page.actor, totp.start, page.actor.id)
    except ActionError as exc:
        return _page(page, exc.status, error=exc.message.capitalize() + ".")
    return _page(page)


@router.post("/account/security/totp/confirm")
def totp_confirm(
    request: Request, code: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""
) -> Response:
    page = checked(request, None, csrf)
    if isinstance(page, Response):
        return page
    try:
        codes = perform(page.app, page.actor, totp.confirm, page.actor.id, code[:20])
    except ActionError as exc:
        return _page(page, exc.status, error=exc.message.capitalize() + ".")
    return _page(page, codes=codes)
