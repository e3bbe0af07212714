"""Who is calling and may they: Bearer API tokens for systems, a signed session cookie for people.

A session cookie carries ``[user_id, session_epoch]``, signed and timestamped. Raising the user's
epoch (password reset, disabling the account, an admin ending their sessions) makes every cookie
issued before it worthless at once, although the cookies themselves are not stored anywhere.

An API token may carry scopes: a subset of its role's permissions. :func:`require` checks both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import Headers

from amity.accounts.models import User
from amity.accounts.queries import actor_for_user, token_for, touch_token
from amity.accounts.roles import Perm, allowed
from amity.core.actions import Actor, App
from amity.web.errors import ApiError

SESSION_COOKIE = "amity_session"
SESSION_MAX_AGE = 12 * 3600  # a working day and then some


def app_of(request: Request) -> App:
    app: App = request.app.state.amity
    return app


async def get_app(request: Request) -> App:
    """The dependency form of :func:`app_of`. Async on purpose: a plain ``def`` dependency is run in
    the thread pool, a hand-off per request (and a wait for a CPU under load) for a field lookup."""
    return app_of(request)


class SessionSigner(URLSafeTimedSerializer):
    """``dumps(user)`` -> cookie; ``loads(cookie)`` -> the user id, or BadSignature when the cookie is
    forged, expired, or from before the user's sessions were ended (or the user was disabled)."""

    def __init__(self, app: App) -> None:
        super().__init__(app.cache["secret_key"], salt="amity.session.v2")
        self.app = app

    def issue(self, user: User) -> str:
        return str(super().dumps([user.id, user.session_epoch]))

    # Same signature as TimedSerializer.loads, which itself differs from Serializer.loads (hence the ignore).
    def loads(  # type: ignore[override]
        self,
        s: str | bytes,
        max_age: int | None = None,
        return_timestamp: bool = False,
        salt: str | bytes | None = None,
    ) -> Any:
        del return_timestamp, salt  # one salt, and the caller wants the user id only
        got = super().loads(s, max_age=max_age or SESSION_MAX_AGE)
        if not (isinstance(got, list) and len(got) == 2 and isinstance(got[0], str)):
            raise BadSignature("not a session")
        user_id, epoch = got
        with self.app.db.read() as s_:
            user = s_.get(User, user_id)
            if user is None or user.disabled_at is not None or user.session_epoch != epoch:
                raise BadSignature("the session was ended")
        return user_id


def session_signer(app: App) -> SessionSigner:
    return SessionSigner(app)


def session_user(app: App, cookie: str) -> User | None:
    try:
        user_id = session_signer(app).loads(cookie)
    except BadSignature:
        return None
    with app.db.read() as s:
        user = s.get(User, user_id)
        if user is not None:
            s.expunge(user)
        return user


def identify(
    app: App, headers: Headers, cookies: dict[str, str]
) -> tuple[Actor, frozenset[str] | None] | None:
    """The caller and (for a scoped token) its scopes, without raising: for the access log."""
    header = headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        with app.db.read() as s:
            found = token_for(s, token.strip())
        return None if found is None else (found[0], found[1])
    cookie = cookies.get(SESSION_COOKIE)
    user = session_user(app, cookie) if cookie else None
    return None if user is None else (actor_for_user(user), None)


def current_actor(request: Request, app: Annotated[App, Depends(get_app)]) -> Actor:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "unauthorized", "use 'Authorization: Bearer <token>'")
        with app.db.read() as s:
            found = token_for(s, token.strip())
        if found is None:
            raise ApiError(401, "unauthorized", "the token is unknown, revoked or its creator is disabled")
        actor, scopes, last_used = found
        touch_token(app, actor.id, last_used)
        request.state.token_scopes = scopes
        return actor
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        user = session_user(app, cookie)
        if user is None:
            raise ApiError(401, "unauthorized", "the session has ended; sign in again")
        request.state.token_scopes = None
        return actor_for_user(user)
    raise ApiError(401, "unauthorized", "authentication required: send 'Authorization: Bearer <token>'")


def may(request: Request, actor: Actor, perm: Perm) -> bool:
    """The role allows it and, for a scoped token, so do the token's scopes."""
    if not allowed(actor.role, perm):
        return False
    scopes: frozenset[str] | None = getattr(request.state, "token_scopes", None)
    return scopes is None or perm.value in scopes


def require(perm: Perm) -> Callable[[Request, Actor], Awaitable[Actor]]:
    # Async for the same reason as get_app: it only compares the role and scopes, no I/O.
    async def dep(request: Request, actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if not allowed(actor.role, perm):
            raise ApiError(403, "forbidden", f"role '{actor.role}' may not {perm.value}")
        if not may(request, actor, perm):
            raise ApiError(403, "forbidden", f"this token's scopes do not include {perm.value}")
        return actor

    return dep
