"""Signing people in: email + password (argon2), then a two-factor code if they have one on, gives a
signed, HttpOnly, SameSite=Strict cookie. Failures count towards a lockout (amity.accounts.throttle)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import Field
from starlette.responses import Response

from amity.accounts import signin
from amity.accounts.models import User
from amity.accounts.throttle import wait_text
from amity.core.actions import Actor, App
from amity.core.inputs import Input
from amity.web.auth import SESSION_COOKIE, SESSION_MAX_AGE, current_actor, get_app, session_signer
from amity.web.errors import ApiError, error_body
from amity.web.responses import Json

router = APIRouter(prefix="/api/v1", tags=["session"])


class LoginIn(Input):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1000)
    code: str | None = Field(
        default=None,
        min_length=1,
        max_length=20,
        description="For people with two-factor on: the app's 6-digit code or a recovery code",
    )


def locked_response(seconds: int) -> Json:
    message = f"too many failed sign-ins; try again in {wait_text(seconds)}"
    return Json(
        {**error_body("too_many_attempts", message), "retry_after": seconds},
        status_code=429,
        headers={"Retry-After": str(seconds)},
    )


def set_session(app: App, resp: Response, user: User) -> None:
    resp.set_cookie(
        SESSION_COOKIE,
        session_signer(app).issue(user),
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="strict",  # the cookie never rides along on a cross-site request: CSRF protection
    )


@router.post("/session", summary="Sign in (sets the session cookie)")
def login(body: LoginIn, request: Request, app: Annotated[App, Depends(get_app)]) -> Json:
    address = request.client.host if request.client else None
    out = signin.password_step(app, body.email, body.password, address)
    if out.kind == "code_needed" and out.user is not None:
        if body.code is None:
            raise ApiError(
                401,
                "two_factor_required",
                "two-factor sign-in is on for this account: send the app's code as 'code'",
                "code",
            )
        out = signin.code_step(app, out.user, body.code, address)
    if out.kind == "locked":
        return locked_response(out.retry_after or 1)
    if out.kind == "code_wrong":
        raise ApiError(401, "unauthorized", "the two-factor code is wrong or was used already", "code")
    if out.kind != "ok" or out.user is None:
        # The same answer for an unknown email and a wrong password: no account probing.
        raise ApiError(401, "unauthorized", "email or password is wrong", "password")
    user = out.user
    resp = Json({"id": user.id, "email": user.email, "role": user.role})
    set_session(app, resp, user)
    return resp


@router.delete("/session", summary="Sign out")
def logout(actor: Annotated[Actor, Depends(current_actor)]) -> Json:
    # Signing out needs a session like everything else: an anonymous DELETE has nothing to end.
    del actor
    resp = Json({"signed_out": True})
    resp.delete_cookie(SESSION_COOKIE)
    return resp


@router.get("/me", summary="Who am I")
def me(actor: Annotated[Actor, Depends(current_actor)]) -> Json:
    return Json({"kind": actor.kind, "id": actor.id, "role": actor.role, "name": actor.name})
