"""Who is calling and may they: Bearer API tokens for systems, a signed session cookie for people."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from amity.accounts.models import User
from amity.accounts.queries import actor_for_token, actor_for_user
from amity.accounts.roles import Perm, allowed
from amity.core.actions import Actor, App
from amity.web.errors import ApiError

SESSION_COOKIE = "amity_session"
SESSION_MAX_AGE = 12 * 3600  # a working day and then some


def get_app(request: Request) -> App:
    app: App = request.app.state.amity
    return app


def session_signer(app: App) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app.cache["secret_key"], salt="amity.session")


def current_actor(request: Request, app: Annotated[App, Depends(get_app)]) -> Actor:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "unauthorized", "use 'Authorization: Bearer <token>'")
        with app.db.read() as s:
            actor = actor_for_token(s, token.strip())
        if actor is None:
            raise ApiError(401, "unauthorized", "the token is unknown or revoked")
        return actor
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        try:
            user_id = session_signer(app).loads(cookie, max_age=SESSION_MAX_AGE)
        except BadSignature:
            raise ApiError(401, "unauthorized", "the session has expired; sign in again") from None
        with app.db.read() as s:
            user = s.get(User, user_id)
            if user is not None and user.disabled_at is None:
                return actor_for_user(user)
        raise ApiError(401, "unauthorized", "the session's user no longer exists")
    raise ApiError(401, "unauthorized", "authentication required: send 'Authorization: Bearer <token>'")


def require(perm: Perm) -> Callable[[Actor], Actor]:
    def dep(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if not allowed(actor.role, perm):
            raise ApiError(403, "forbidden", f"role '{actor.role}' may not {perm.value}")
        return actor

    return dep
