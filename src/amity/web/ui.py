"""The web UI for people: signing in (password, then a two-factor code if on), out, and resetting a
forgotten password; customer and trait pages in ui_customers / ui_traits, the account's own security
page in ui_account, the access log in ui_admin_access_log.

Every page is rendered on the server (Jinja2, autoescaped). State changes go through the same actions
as the API, via ``perform``; the pages never write to the database themselves.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import Response

from amity.accounts import reset, signin
from amity.accounts.models import User
from amity.accounts.throttle import wait_text
from amity.core.actions import ActionError, App, perform
from amity.web.auth import SESSION_COOKIE, SESSION_MAX_AGE, app_of, session_signer
from amity.web.ui_account import router as account_router
from amity.web.ui_admin_access_log import router as access_log_router
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
router.include_router(account_router)
router.include_router(access_log_router)

# Before sign-in there is no session to bind a CSRF token to, so the login forms get their own random
# nonce cookie (double submit, signed): a cross-site page cannot sign a visitor in as someone else.
LOGIN_COOKIE = "amity_login"
LOGIN_FORM_MAX_AGE = 3600
SECOND_STEP_MAX_AGE = 300  # the code must follow the password within five minutes
WRONG = "Email or password is wrong."
EXPIRED = "The sign-in form expired. Please enter your password again."
NOTICES = {"reset": "Your password is changed and every session signed out. Sign in with the new one."}


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _nonce(request: Request) -> str:
    return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)


def _with_nonce(resp: Response, nonce: str) -> Response:
    resp.set_cookie(
        LOGIN_COOKIE, nonce, max_age=LOGIN_FORM_MAX_AGE, path="/login", httponly=True, samesite="strict"
    )
    return resp


def _form_ok(request: Request, app: App, csrf: str) -> bool:
    return token_ok(app, "login", request.cookies.get(LOGIN_COOKIE, ""), csrf, LOGIN_FORM_MAX_AGE)


def _login_form(
    request: Request,
    app: App,
    status: int,
    next_: str,
    email: str = "",
    error: str | None = None,
    notice: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    nonce = _nonce(request)
    resp = render(
        request,
        "login.html",
        status,
        title="Sign in",
        login_csrf=make_token(app, "login", nonce),
        next=safe_next(next_),
        email=email,
        error=error,
        notice=notice,
    )
    resp.headers.update(headers or {})
    return _with_nonce(resp, nonce)


def _pending_signer(app: App) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app.cache["secret_key"], salt="amity.login.second-step")


def _code_form(
    request: Request, app: App, status: int, user: User, next_: str, error: str | None = None
) -> Response:
    nonce = _nonce(request)
    # Proof that this browser gave the right password a moment ago: the user, their session epoch
    # and the nonce cookie, signed; it is no session and opens nothing without the code.
    pending = _pending_signer(app).dumps([user.id, user.session_epoch, nonce])
    resp = render(
        request,
        "login_totp.html",
        status,
        title="Two-factor sign-in",
        login_csrf=make_token(app, "login", nonce),
        pending=pending,
        next=safe_next(next_),
        error=error,
    )
    return _with_nonce(resp, nonce)


def _signed_in(app: App, user: User, next_: str) -> Response:
    resp = redirect(safe_next(next_))
    resp.set_cookie(
        SESSION_COOKIE,
        session_signer(app).issue(user),
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="strict",
    )
    resp.delete_cookie(LOGIN_COOKIE, path="/login")
    return resp


def _locked(request: Request, app: App, next_: str, email: str, seconds: int) -> Response:
    message = f"Too many failed sign-ins. Try again in {wait_text(seconds)}."
    return _login_form(request, app, 429, next_, email, message, headers={"Retry-After": str(seconds)})


@router.get("/")
def index(request: Request) -> Response:
    signed = session_actor(request, app_of(request)) is not None
    return redirect("/inbox" if signed else "/login")


@router.get("/login")
def login_page(request: Request, next: str = "", notice: str = "") -> Response:
    app = app_of(request)
    if session_actor(request, app) is not None:
        return redirect(safe_next(next))
    return _login_form(request, app, 200, next, notice=NOTICES.get(notice))


@router.post("/login")
def login_submit(
    request: Request,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    app = app_of(request)
    email = email.strip()
    if not _form_ok(request, app, csrf):
        return _login_form(request, app, 400, next, email, EXPIRED)
    if not email or not password or len(email) > 320 or len(password) > 1000:
        return _login_form(request, app, 401, next, email, WRONG)
    out = signin.password_step(app, email, password, _address(request))
    if out.kind == "locked":
        return _locked(request, app, next, email, out.retry_after or 1)
    if out.kind == "code_needed" and out.user is not None:
        return _code_form(request, app, 200, out.user, next)
    if out.kind != "ok" or out.user is None:
        return _login_form(request, app, 401, next, email, WRONG)
    return _signed_in(app, out.user, next)


@router.post("/login/code")
def login_code(
    request: Request,
    pending: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    app = app_of(request)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not _form_ok(request, app, csrf):
        return _login_form(request, app, 400, next, "", EXPIRED)
    try:
        got = _pending_signer(app).loads(pending, max_age=SECOND_STEP_MAX_AGE)
    except BadSignature:
        got = None
    user = None
    if isinstance(got, list) and len(got) == 3 and got[2] == nonce:
        with app.db.read() as s:
            user = s.get(User, got[0])
            if user is not None:
                s.expunge(user)
        if user is not None and (user.disabled_at is not None or user.session_epoch != got[1]):
            user = None
    if user is None:
        return _login_form(request, app, 400, next, "", EXPIRED)
    out = signin.code_step(app, user, code[:20], _address(request))
    if out.kind == "locked":
        return _locked(request, app, next, user.email, out.retry_after or 1)
    if out.kind != "ok":
        return _code_form(request, app, 401, user, next, "That code is wrong or was used already.")
    return _signed_in(app, user, next)


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    page = checked(request, None, csrf)
    if isinstance(page, Response):
        return page  # not signed in (nothing to end), or a forged form
    resp = redirect("/login")
    resp.delete_cookie(SESSION_COOKIE)
    return resp


# ---- forgotten password ----------------------------------------------------------------------------
def _ask_page(
    request: Request, app: App, status: int, sent: bool = False, error: str | None = None
) -> Response:
    nonce = _nonce(request)
    resp = render(
        request,
        "password_reset_ask.html",
        status,
        title="Reset your password",
        login_csrf=make_token(app, "login", nonce),
        sent=sent,
        error=error,
    )
    return _with_nonce(resp, nonce)


@router.get("/login/forgot")
def forgot_page(request: Request) -> Response:
    return _ask_page(request, app_of(request), 200)


@router.post("/login/forgot")
def forgot_submit(
    request: Request, email: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""
) -> Response:
    app = app_of(request)
    if not _form_ok(request, app, csrf):
        return _ask_page(request, app, 400, error="The form expired. Please try again.")
    email = email.strip()
    if not email or len(email) > 320:
        return _ask_page(request, app, 422, error="Enter the email address you sign in with.")
    found = perform(app, signin.visitor(_address(request)), reset.request, email)
    if found is not None:
        reset.send_later(app.settings, *found)
    # The same page, status and timing whether or not the address has an account.
    return _ask_page(request, app, 200, sent=True)


def _set_page(
    request: Request, app: App, status: int, token: str | None, error: str | None = None
) -> Response:
    nonce = _nonce(request)
    resp = render(
        request,
        "password_reset_set.html",
        status,
        title="Choose a new password",
        login_csrf=make_token(app, "login", nonce),
        token=token or "",
        error=error,
    )
    return _with_nonce(resp, nonce)


@router.get("/login/reset")
def reset_page(request: Request, token: str = "") -> Response:
    app = app_of(request)
    ok = False
    if 0 < len(token) <= 100:
        with app.db.read() as s:
            ok = reset.valid(s, token)
    if not ok:
        return _set_page(request, app, 400, None, reset.SPENT)
    return _set_page(request, app, 200, token)


@router.post("/login/reset")
def reset_submit(
    request: Request,
    token: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    password2: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    app = app_of(request)
    token = token[:100]
    if not _form_ok(request, app, csrf):
        return _set_page(request, app, 400, token, "The form expired. Please try again.")
    if password != password2:
        return _set_page(request, app, 422, token, "The two passwords differ.")
    try:
        perform(app, signin.visitor(_address(request)), reset.complete, token, password)
    except ActionError as exc:
        spent = exc.field == "token"
        return _set_page(
            request,
            app,
            400 if spent else 422,
            None if spent else token,
            exc.message.capitalize() + ("" if exc.message.endswith(".") else "."),
        )
    resp = redirect("/login?notice=reset")
    resp.delete_cookie(SESSION_COOKIE)
    return resp
