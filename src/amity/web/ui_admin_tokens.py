"""Admin pages for API tokens: created with a name and a role and shown once (only a hash is kept,
and the token is never put in a URL, where history and logs would keep it), then revocable."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from amity.accounts.actions import create_token, revoke_token
from amity.accounts.models import ApiToken
from amity.accounts.roles import Perm, Role
from amity.web.ui_admin_kit import (
    Button,
    Errors,
    Field,
    Form,
    Row,
    admin_page,
    attempt,
    listed,
    names,
    posted,
    status_of,
    text,
)
from amity.web.ui_base import Page, _when, redirect, render, signed_in

router = APIRouter(include_in_schema=False)
PERM = Perm.SERVICE_MANAGE


# ---- API tokens ----------------------------------------------------------------------------------------
TOKEN_FIELDS = [
    Field("name", "Name", placeholder="Shop (Shopify)", hint="What will use it, so you know what to revoke"),
    Field(
        "role",
        "Role",
        "select",
        [(r.value, r.value) for r in (Role.INTEGRATION, Role.AGENT, Role.SUPERVISOR, Role.ADMIN)],
        hint="integration pushes events and reads customers; the others act as that role would",
    ),
    Field(
        "scopes",
        "Scopes",
        "checks",
        [(p.value, p.value) for p in Perm],
        hint="Tick some to limit the token to them (each must be one its role has); none ticked: all of the role's",
    ),
]


def _tokens_page(
    page: Page,
    form: Form | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    once: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    with page.app.db.read() as s:
        tokens = list(s.scalars(select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id)))
    rows = [
        Row(
            [
                t.name,
                t.role,
                ", ".join(t.scopes) if t.scopes is not None else "all of the role's",
                _when(t.created_at.isoformat()),
                t.created_by,
                _when(t.last_used_at.isoformat()) if t.last_used_at else "never",
                f"revoked {_when(t.revoked_at.isoformat())}" if t.revoked_at else "active",
            ],
            buttons=None
            if t.revoked_at
            else [
                Button(
                    f"/admin/tokens/{t.id}/revoke",
                    "Revoke",
                    danger=True,
                    confirm=f"Revoke {t.name}? What uses it stops working.",
                )
            ],
            muted=t.revoked_at is not None,
        )
        for t in tokens
    ]
    return admin_page(
        page,
        "admin_list.html",
        status,
        title="API tokens",
        intro="Credentials your other systems call the API with. Only a hash is kept.",
        list_title=f"{len(rows)} tokens",
        columns=["Name", "Role", "Scopes", "Created", "By", "Last used", "Status"],
        rows=rows,
        empty="No tokens yet.",
        form_title="Create a token",
        fields=TOKEN_FIELDS,
        form=form or {"name": "", "role": "integration", "scopes": []},
        errors=errors or {},
        action="/admin/tokens",
        submit="Create token",
        once=once,
        notice=notice,
    )


@router.get("/admin/tokens")
def tokens_page(request: Request, notice: str = "") -> Response:
    page = signed_in(request, PERM)
    if isinstance(page, Response):
        return page
    return _tokens_page(page, notice="Token revoked." if notice == "revoked" else None)


@router.post("/admin/tokens")
async def token_submit(request: Request) -> Response:
    page, form = await posted(request, PERM, multi=("scopes",))
    if isinstance(page, Response):
        return page
    errors = Errors()
    if len(text(form, "name")) > 200:
        errors["name"] = "At most 200 characters."
    scopes = listed(form, "scopes") or None
    token = (
        None
        if errors
        else attempt(
            page, names(TOKEN_FIELDS), errors, create_token, text(form, "name"), text(form, "role"), scopes
        )
    )
    if token is None:
        return _tokens_page(page, form, errors, status_of(errors))
    # 201 and not a redirect: the token exists only in this answer.
    return _tokens_page(
        page,
        status=201,
        once={"label": "Your new token", "value": token},
        notice=f"Token {text(form, 'name')} created.",
    )


@router.post("/admin/tokens/{token_id}/revoke")
async def token_revoke(request: Request, token_id: str) -> Response:
    page, _ = await posted(request, PERM)
    if isinstance(page, Response):
        return page
    errors = Errors()
    attempt(page, [], errors, revoke_token, token_id)
    if errors:
        status = status_of(errors)
        return (
            _tokens_page(page, status=status, notice=None)
            if status != 404
            else render(
                request,
                "error.html",
                404,
                page=page,
                title="Not found",
                message=f"There is no token {token_id}.",
            )
        )
    return redirect("/admin/tokens?notice=revoked")
