"""HTTP API of accounts (docs/security.md, "API"): disable and enable people, reset their two-factor,
and API tokens with scopes. Everything here needs accounts:manage (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import Field
from sqlalchemy import select
from starlette.responses import Response

from amity.accounts import actions, totp
from amity.accounts.models import ApiToken, User
from amity.accounts.roles import Perm
from amity.core.actions import Actor, App, Invalid, perform
from amity.core.inputs import Input
from amity.web.auth import get_app, require
from amity.web.responses import Json

router = APIRouter(prefix="/api/v1", tags=["accounts"])
AppDep = Annotated[App, Depends(get_app)]
Admin = Annotated[Actor, Depends(require(Perm.ACCOUNTS_MANAGE))]


def _user_json(u: User, two_factor: bool) -> dict[str, object]:
    return {
        "id": u.id,
        "email": u.email,
        "name": u.name,
        "role": u.role,
        "disabled_at": u.disabled_at.isoformat() if u.disabled_at else None,
        "two_factor": two_factor,
    }


def _user_out(app: App, user_id: str) -> Json:
    with app.db.read() as s:
        u = s.get(User, user_id)
        assert u is not None  # the action just found it
        return Json(_user_json(u, totp.enabled(s, u.id)))


@router.post(
    "/users/{user_id}/disable", summary="Disable a person: no sign-in; sessions and their tokens stop"
)
def disable(user_id: str, app: AppDep, actor: Admin) -> Json:
    perform(app, actor, actions.disable_user, user_id)
    return _user_out(app, user_id)


@router.post("/users/{user_id}/enable", summary="Let a disabled person sign in again")
def enable(user_id: str, app: AppDep, actor: Admin) -> Json:
    perform(app, actor, actions.enable_user, user_id)
    return _user_out(app, user_id)


@router.delete("/users/{user_id}/two-factor", status_code=204, summary="Turn a person's two-factor off")
def reset_two_factor(user_id: str, app: AppDep, actor: Admin) -> Response:
    perform(app, actor, totp.reset, user_id)
    return Response(status_code=204)


# ---- API tokens ----------------------------------------------------------------------------------
class TokenIn(Input):
    name: str = Field(min_length=1, max_length=200, description="What uses it, e.g. 'shop'")
    role: str = Field(min_length=1, max_length=20)
    scopes: list[Annotated[str, Field(min_length=1, max_length=50)]] | None = Field(
        default=None,
        max_length=50,
        description="A subset of the role's permissions, e.g. ['events:write']; omit for all of them",
    )


def _token_json(t: ApiToken) -> dict[str, object]:
    return {
        "id": t.id,
        "name": t.name,
        "role": t.role,
        "scopes": t.scopes,
        "created_at": t.created_at.isoformat(),
        "created_by": t.created_by,
        "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
        "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
    }


@router.get("/tokens", summary="API tokens (never their secrets)")
def list_tokens(app: AppDep, _: Admin) -> Json:
    with app.db.read() as s:
        rows = s.scalars(select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id)).all()
        return Json({"items": [_token_json(t) for t in rows]})


@router.post("/tokens", status_code=201, summary="Create a token; its text is in this answer only")
def post_token(body: TokenIn, request: Request, app: AppDep, actor: Admin) -> Json:
    mine: frozenset[str] | None = getattr(request.state, "token_scopes", None)
    if mine is not None:
        # A scoped token must not mint a token that can do more than itself.
        wanted = set(body.scopes) if body.scopes is not None else None
        if wanted is None or not wanted <= mine:
            raise Invalid("a scoped token can only create tokens within its own scopes", field="scopes")
    token = perform(app, actor, actions.create_token, body.name, body.role, body.scopes)
    token_id = token[len("amity_") : len("amity_") + 30]
    with app.db.read() as s:
        t = s.get(ApiToken, token_id)
        assert t is not None
        return Json({**_token_json(t), "token": token}, status_code=201)


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token; what uses it stops at once")
def delete_token(token_id: str, app: AppDep, actor: Admin) -> Response:
    perform(app, actor, actions.revoke_token, token_id)
    return Response(status_code=204)
