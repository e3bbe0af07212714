"""Signed unsubscribe links (itsdangerous with the app secret): what goes into List-Unsubscribe."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

if TYPE_CHECKING:
    from amity.core.actions import App

MAX_AGE = 400 * 24 * 3600  # a little over a year: people unsubscribe from old mail too
SALT = "amity.consent.unsubscribe"


def _signer(app: App) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app.cache["secret_key"], salt=SALT)


def make_token(app: App, customer_id: str, purpose: str = "marketing", channel: str = "email") -> str:
    return _signer(app).dumps({"c": customer_id, "p": purpose, "ch": channel})


def url_for(app: App, customer_id: str, purpose: str = "marketing", channel: str = "email") -> str:
    return f"{app.settings.base_url}/unsubscribe/{make_token(app, customer_id, purpose, channel)}"


def read_token(app: App, token: str) -> dict[str, str] | None:
    if len(token) > 1000:
        return None
    try:
        data: Any = _signer(app).loads(token, max_age=MAX_AGE)
    except BadSignature:  # SignatureExpired is one too
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("c", "p", "ch")):
        return None
    return {"customer_id": data["c"], "purpose": data["p"], "channel": data["ch"]}
