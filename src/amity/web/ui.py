"""The web UI for people: signing in and out here; customer and trait pages in ui_customers / ui_traits.

Every page is rendered on the server (Jinja2, autoescaped). State changes go through the same actions
as the API, via ``perform``; the pages never write to the database themselves.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from amity.accounts.queries import authenticate
from amity.core.actions import App
from amity.web.auth import SESSION_COOKIE, SESSION_MAX_AGE, get_app, session_signer
from amity.web.ui_base import (
    STATIC_DIR,
    checked,
    make_token,
    redirect,
    render,
    safe_next,
    session_actor,
    token_ok,
)
from amity.web.ui_customers import router as customers_router
from amity.web.ui_traits import router as traits_router

__all__ = ["STATIC_DIR", "router"]

router = APIRouter(include_in_schema=False)
router.include_router(customers_router)
router.include_router(traits_router)

# Before sign-in there is no session to bind a CSRF token to, so the login form gets its own random
# nonce cookie (double submit, signed): a cross-site page cannot sign a visitor in as someone else.
LOGIN_COOKIE = "amity_login"
LOGIN_FORM_MAX_AGE = 3600
WRONG = "Email or password is wrong."


def _login_form(
    request: Request, app: App, status: int, next_: str, email: str = "", error: str | None = None
) -> Response:
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
    resp = render(
        request,
        "login.html",
        status,
        title="Sign in",
        login_csrf=make_token(app, "login", nonce),
        next=safe_next(next_),
        email=email,
        error=error,
    )
    resp.set_cookie(
        LOGIN_COOKIE, nonce, max_age=LOGIN_FORM_MAX_AGE, path="/login", httponly=True, samesite="strict"
    )
    return resp


@router.get("/")
def index(request: Request) -> Response:
    signed = session_actor(request, get_app(request)) is not None
    return redirect("/inbox" if signed else "/login")


@router.get("/login")
def login_page(request: Request, next: str = "") -> Response:
    app = get_app(request)
    if session_actor(request, app) is not None:
        return redirect(safe_next(next))
    return _login_form(request, app, 200, next)


@router.post("/login")
def login_submit(
    request: Request,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    app = get_app(request)
    email = email.strip()
    if not token_ok(app, "login", request.cookies.get(LOGIN_COOKIE, ""), csrf, LOGIN_FORM_MAX_AGE):
        return _login_form(
            request, app, 400, next, email, "The sign-in form expired. Please enter your password again."
        )
    if not email or not password or len(email) > 320 or len(password) > 1000:
        return _login_form(request, app, 401, next, email, WRONG)
    with app.db.read() as s:
        user = authenticate(s, email, password)
    if user is None:
        return _login_form(request, app, 401, next, email, WRONG)
    resp = redirect(safe_next(next))
    resp.set_cookie(
        SESSION_COOKIE,
        session_signer(app).dumps(user.id),
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="strict",
    )
    resp.delete_cookie(LOGIN_COOKIE, path="/login")
    return resp


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    page = checked(request, None, csrf)
    if isinstance(page, Response):
        return page  # not signed in (nothing to end), or a forged form
    resp = redirect("/login")
    resp.delete_cookie(SESSION_COOKIE)
    return resp
