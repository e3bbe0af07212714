"""What every server-rendered page shares: templates, who is signed in, role checks and CSRF tokens.

Pages are for people, so they only accept the signed session cookie (never a Bearer token), and they
answer with HTML: no session is a redirect to /login, a missing permission is a 403 page. Routes call
:func:`signed_in` (GET) or :func:`checked` (POST) first and return early if they got a Response.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import Request
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import RedirectResponse, Response

from amity import __version__
from amity.accounts.models import User
from amity.accounts.queries import actor_for_user
from amity.accounts.roles import Perm, allowed
from amity.core.actions import Actor, App
from amity.web.auth import SESSION_COOKIE, SESSION_MAX_AGE, app_of, session_signer

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

# Pages load nothing from elsewhere and run no inline script, and nobody may frame them: the undo and
# merge buttons must not be clickable through someone else's invisible iframe.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # customer data must not linger in shared caches or the back button
}

HOME = "/inbox"  # where signing in leads when no page was asked for
ID_RE = re.compile(r"^[a-z]{2,4}_[0-9a-z]{26}$")


def _when(value: str | None) -> str:
    """ISO timestamp -> '2026-03-01 14:05 UTC' (the queries hand out ISO strings in UTC)."""
    if not value:
        return "—"
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _compact(value: Any) -> str:
    """A value for people: text as is, a flat list as 'a, b', anything else as one line of JSON.
    Autoescape still applies to the result."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(_compact(v) for v in value)
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _environment() -> Environment:
    env = Environment(
        # The console's own templates first, then each capability's ``templates/`` directory (consent,
        # commerce, ...), so a capability ships its cards and pages beside its code. Names must be unique.
        loader=FileSystemLoader([TEMPLATES_DIR, *sorted(HERE.parent.glob("*/templates"))]),
        autoescape=True,  # every value is escaped unless a template says otherwise (none do)
        undefined=StrictUndefined,  # a typo in a template fails a test instead of rendering blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["compact"] = _compact
    env.globals["version"] = __version__
    return env


templates = Jinja2Templates(env=_environment())


@dataclass(frozen=True)
class Page:
    """A signed-in person on a page: who they are, what they may do, the CSRF token for their forms."""

    request: Request
    app: App
    actor: Actor
    csrf: str

    def can(self, perm: Perm) -> bool:
        return allowed(self.actor.role, perm)


def session_actor(request: Request, app: App) -> Actor | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        user_id = session_signer(app).loads(cookie, max_age=SESSION_MAX_AGE)
    except BadSignature:  # SignatureExpired is one too
        return None
    if not isinstance(user_id, str):
        return None
    with app.db.read() as s:
        user = s.get(User, user_id)
        if user is None or user.disabled_at is not None:
            return None
        return actor_for_user(user)


# ---- CSRF ----------------------------------------------------------------------------------------
# SameSite=Strict already keeps the cookie off cross-site requests; the token is the second lock, for
# browsers or proxies that get SameSite wrong. It is bound to the session cookie, so a token taken
# from one session is worthless in another, and it expires with the session.
def _csrf_signer(app: App, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app.cache["secret_key"], salt=f"amity.ui.csrf.{purpose}")


def _binding(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def make_token(app: App, purpose: str, bound_to: str) -> str:
    return _csrf_signer(app, purpose).dumps(_binding(bound_to))


def token_ok(app: App, purpose: str, bound_to: str, token: str, max_age: int = SESSION_MAX_AGE) -> bool:
    if not token or not bound_to:
        return False
    try:
        got = _csrf_signer(app, purpose).loads(token, max_age=max_age)
    except BadSignature:
        return False
    return isinstance(got, str) and hmac.compare_digest(got, _binding(bound_to))


# ---- responses -----------------------------------------------------------------------------------
def render(
    request: Request, template: str, status: int = 200, *, page: Page | None = None, **context: Any
) -> Response:
    context.setdefault("notice", None)
    context.setdefault("error", None)
    ctx: dict[str, Any] = {
        "page": page,
        "actor": page.actor if page else None,
        "csrf": page.csrf if page else "",
        "can_merge": page.can(Perm.CUSTOMERS_MERGE) if page else False,
        "can_declare": page.can(Perm.TRAITS_WRITE) if page else False,
        "nav": request.url.path.split("/")[1] if request.url.path != "/" else "",
        **context,
    }
    resp = templates.TemplateResponse(request, template, ctx, status_code=status)
    resp.headers.update(SECURITY_HEADERS)
    return resp


def redirect(url: str) -> Response:
    resp = RedirectResponse(url, status_code=303)  # 303: the browser follows with GET after a POST
    resp.headers.update(SECURITY_HEADERS)
    return resp


def safe_next(target: str | None) -> str:
    """Only paths on this site: '//evil.example' and 'https://…' would make /login an open redirect.
    Without one, people land where the work is: the inbox (every role may read conversations)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME


def to_login(request: Request) -> Response:
    if request.method != "GET":  # a form posted after the session ended: start again from the list
        return redirect("/login")
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect("/login?next=" + quote(here, safe="/"))


def forbidden(page: Page, message: str) -> Response:
    return render(page.request, "error.html", 403, page=page, title="Not allowed", message=message)


def signed_in(request: Request, perm: Perm | None = None) -> Page | Response:
    app = app_of(request)
    actor = session_actor(request, app)
    if actor is None:
        return to_login(request)
    page = Page(request, app, actor, make_token(app, "session", request.cookies[SESSION_COOKIE]))
    if perm is not None and not page.can(perm):
        return forbidden(page, f"Your role ({actor.role}) may not {perm.value}.")
    return page


def checked(request: Request, perm: Perm | None, token: str) -> Page | Response:
    """For POSTs: signed in, allowed, and the form carries this session's CSRF token."""
    page = signed_in(request, perm)
    if isinstance(page, Response):
        return page
    if not token_ok(page.app, "session", request.cookies[SESSION_COOKIE], token):
        return forbidden(
            page, "This form has expired or did not come from Amity. Reload the page and try again."
        )
    return page
