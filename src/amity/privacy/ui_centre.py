"""The customer's preference centre: ask for a magic link, open it, see and change consents,
download their data, ask for erasure (docs/privacy.md, "Preference centre").

The link sets a short-lived signed cookie scoped to ``/privacy`` and sends the browser on to
``/privacy/me``, so the token leaves the address bar (and the history, and any Referer) at once.
Every form carries a token bound to that cookie. An expired, tampered or used-up link shows a page
that says so and nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import FileResponse, Response

from amity.core.actions import ActionError, Actor, App, perform
from amity.db import utcnow
from amity.privacy import links, queries, requests
from amity.privacy.schemas import RequestIn
from amity.privacy.wiring import jobs_of
from amity.web.auth import app_of
from amity.web.ui_base import SECURITY_HEADERS, make_token, redirect, token_ok
from amity.web.ui_public import _page as public_page

router = APIRouter(include_in_schema=False)

COOKIE = "amity_privacy"
KEEP = frozenset({"service"})  # service messages follow from the person's own requests: not a switch
POLICY_VERSION = "preference-centre-1"


def _opened(request: Request, app: App) -> links.Opened | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    got = links.read_token(app, raw, links.SESSION_SALT, links.SESSION_MAX_AGE)
    return got if isinstance(got, links.Opened) else None


def _actor(opened: links.Opened) -> Actor:
    return Actor(kind="customer", id=opened.customer_id, role="customer", name="the customer")


def _bad_link(request: Request, why: str) -> Response:
    status = 410 if why == "expired" else 400
    return public_page(
        request, "privacy_link_bad.html", status, title="Link not valid", why=why, nav="privacy"
    )


@router.post("/privacy/link")
def ask_for_link(
    request: Request,
    kind: Annotated[str, Form(max_length=10)] = "email",
    value: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    app = app_of(request)
    can = links.available(app)
    if kind not in links.KINDS:
        kind = "email"
    norm = links.normalise(app, kind, value) if value.strip() else None
    if norm is None:
        label = "an email address" if kind == "email" else "a phone number"
        return public_page(
            request,
            "privacy_link_sent.html",
            422,
            title="Privacy",
            nav="privacy",
            sent=False,
            kind=kind,
            available=can,
            error=f"That does not look like {label}.",
        )
    if can[kind]:
        jobs_of(app).send_link(kind, norm)  # the lookup happens in the job: same answer, same time
    return public_page(
        request,
        "privacy_link_sent.html",
        200,
        title="Privacy",
        nav="privacy",
        sent=can[kind],
        kind=kind,
        available=can,
        error=None,
        minutes=links.LINK_MAX_AGE // 60,
    )


@router.get("/privacy/open")
def open_link(request: Request, token: Annotated[str, Query(max_length=2000)] = "") -> Response:
    app = app_of(request)
    got = links.read_token(app, token, links.LINK_SALT, links.LINK_MAX_AGE)
    if not isinstance(got, links.Opened):
        return _bad_link(request, got)
    resp = redirect("/privacy/me")
    resp.set_cookie(
        COOKIE,
        links.session_token(app, got),
        max_age=links.SESSION_MAX_AGE,
        path="/privacy",
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",  # Strict would drop it on the redirect that follows a click in a mail client
    )
    return resp


def _centre(request: Request, app: App, opened: links.Opened, notice: str | None = None) -> Response:
    from amity.consent import queries as consent

    now = utcnow()
    home = Path(app.settings.home)
    with app.db.read() as s:
        from amity.customers.queries import customer_360, profile_ids

        ids = profile_ids(s, opened.customer_id)
        summary = [p for p in consent.summary(s, opened.customer_id) if p["purpose"] not in KEEP]
        mine = [queries.request_out(r, home, now) for r in queries.of_customer(s, ids)]
        name = customer_360(s, opened.customer_id, limit=1)["traits"].get("name")
    return public_page(
        request,
        "privacy_centre.html",
        200,
        title="Your privacy",
        nav="privacy",
        name=name if isinstance(name, str) else None,
        consents=summary,
        requests=mine,
        csrf=make_token(app, "privacy", request.cookies[COOKIE]),
        notice=notice,
    )


@router.get("/privacy/me")
def centre(request: Request, done: Annotated[str, Query(max_length=20)] = "") -> Response:
    app = app_of(request)
    opened = _opened(request, app)
    if opened is None:
        return _bad_link(request, "expired")
    notices = {
        "consent": "Saved. Your choice applies from now on.",
        "access": "Your copy is being prepared; it appears below when ready.",
    }
    return _centre(request, app, opened, notices.get(done))


def _checked(request: Request, csrf: str) -> tuple[App, links.Opened] | Response:
    app = app_of(request)
    opened = _opened(request, app)
    if opened is None:
        return _bad_link(request, "expired")
    if not token_ok(app, "privacy", request.cookies.get(COOKIE, ""), csrf, max_age=links.SESSION_MAX_AGE):
        return _bad_link(request, "invalid")
    return app, opened


@router.post("/privacy/me/consents")
def change_consent(
    request: Request,
    purpose: Annotated[str, Form(max_length=40)] = "",
    status: Annotated[str, Form(max_length=20)] = "",
    csrf: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    got = _checked(request, csrf)
    if isinstance(got, Response):
        return got
    app, opened = got
    if purpose in KEEP or status not in ("granted", "withdrawn"):
        return _centre(request, app, opened, "That choice is not available here.")
    from amity.consent import actions as consent
    from amity.consent.proof import make_proof

    shown = f"{purpose}: {'on' if status == 'granted' else 'off'}"
    proof = make_proof(
        app,
        policy_version=POLICY_VERSION,
        text=shown,
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    try:
        perform(
            app,
            _actor(opened),
            consent.record_consent,
            opened.customer_id,
            purpose=purpose,
            status=status,
            lawful_basis="consent",
            source="preference_centre",
            proof=proof,
        )
    except ActionError as exc:
        return _centre(request, app, opened, exc.message)
    return redirect("/privacy/me?done=consent")


def _file(app: App, opened: links.Opened, type_: str) -> str:
    body = RequestIn(
        type=type_,
        customer_id=opened.customer_id,
        verified_by="the customer",
        verification_method=f"magic link sent to their {opened.via}",
    )
    r = perform(app, _actor(opened), requests.file_request, body, utcnow(), source="customer")
    return r.id


@router.post("/privacy/me/access")
def ask_for_copy(request: Request, csrf: Annotated[str, Form(max_length=500)] = "") -> Response:
    got = _checked(request, csrf)
    if isinstance(got, Response):
        return got
    app, opened = got
    _file(app, opened, "access")
    return redirect("/privacy/me?done=access#requests")


@router.post("/privacy/me/erase")
def ask_for_erasure(
    request: Request,
    csrf: Annotated[str, Form(max_length=500)] = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    got = _checked(request, csrf)
    if isinstance(got, Response):
        return got
    app, opened = got
    if confirm != "yes":
        return _centre(request, app, opened, "Tick the box to confirm that you want everything erased.")
    request_id = _file(app, opened, "erasure")
    resp = public_page(
        request, "privacy_erased.html", 200, title="Erasure", nav="privacy", request_id=request_id
    )
    resp.delete_cookie(COOKIE, path="/privacy")
    return resp


@router.get("/privacy/me/requests/{request_id}/download")
def download(request: Request, request_id: str) -> Response:
    app = app_of(request)
    opened = _opened(request, app)
    if opened is None:
        return _bad_link(request, "expired")
    now = utcnow()
    home = Path(app.settings.home)
    from amity.customers.queries import profile_ids

    with app.db.read() as s:
        ids = profile_ids(s, opened.customer_id)
        r = next((x for x in queries.of_customer(s, ids) if x.id == request_id), None)
        ready = r is not None and queries.export_ready(r, home, now)
    if r is None or not ready or not r.export_path:
        return _bad_link(request, "expired")
    perform(app, _actor(opened), requests.record_download, r.id, opened.customer_id)
    return FileResponse(
        home / r.export_path,
        media_type="application/zip",
        filename="my-data.zip",
        headers={**SECURITY_HEADERS},
    )


@router.post("/privacy/me/signout")
def sign_out(request: Request, csrf: Annotated[str, Form(max_length=500)] = "") -> Response:
    # Even signing out needs the page's token: a forged post must not end someone's session.
    app = app_of(request)
    if not token_ok(app, "privacy", request.cookies.get(COOKIE, ""), csrf, max_age=links.SESSION_MAX_AGE):
        return _bad_link(request, "invalid")
    resp = redirect("/privacy")
    resp.delete_cookie(COOKIE, path="/privacy")
    return resp
