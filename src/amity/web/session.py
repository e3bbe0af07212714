"""Signing people in: email + password (argon2) gives a signed, HttpOnly, SameSite=Strict cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import Field

from amity.accounts.queries import authenticate
from amity.core.actions import Actor, App
from amity.core.inputs import Input
from amity.web.auth import SESSION_COOKIE, SESSION_MAX_AGE, current_actor, get_app, session_signer
from amity.web.errors import ApiError
from amity.web.responses import Json

router = APIRouter(prefix="/api/v1", tags=["session"])


class LoginIn(Input):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1000)


@router.post("/session", summary="Sign in (sets the session cookie)")
def login(body: LoginIn, app: Annotated[App, Depends(get_app)]) -> Json:
    with app.db.read() as s:
        user = authenticate(s, body.email, body.password)
    if user is None:
        # The same answer for an unknown email and a wrong password: no account probing.
        raise ApiError(401, "unauthorized", "email or password is wrong", "password")
    resp = Json({"id": user.id, "email": user.email, "role": user.role})
    resp.set_cookie(
        SESSION_COOKIE,
        session_signer(app).dumps(user.id),
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="strict",  # the cookie never rides along on a cross-site request: CSRF protection
    )
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
