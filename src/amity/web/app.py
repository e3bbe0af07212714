"""Assembling the web application: routers, middleware, error handling, health."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from amity import __version__, jobs
from amity.channels.api import router as channels_router
from amity.channels.api import webhook_routers
from amity.channels.registry import adapter_module
from amity.config import Settings, get_settings
from amity.conversations.api import router as conversations_router
from amity.core.actions import App
from amity.customers.api import router as customers_router
from amity.db import Database
from amity.privacy.api import router as audit_router
from amity.web import errors, openapi, stream
from amity.web.auth import get_app
from amity.web.middleware import RequestContext
from amity.web.responses import Json
from amity.web.session import router as session_router
from amity.web.ui import STATIC_DIR
from amity.web.ui import router as ui_router


def load_secret_key(settings: Settings) -> str:
    """AMITY_SECRET_KEY if set; else a random key kept in AMITY_HOME (never in the repository)."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.home) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


# Capabilities that plug in by themselves: each may expose ``install(app)`` (bus subscriptions, jobs)
# and an API ``router``. Listing them here is all the wiring they need.
PLUG_INS = (
    "amity.service",
    "amity.service.api",
    "amity.channels.outgoing",
    "amity.consent",  # consent ledger, the send policy, unsubscribe, consent pages
    "amity.privacy",  # data-subject requests, erasure, retention, the preference centre
    "amity.catalog",  # products, stock per location, reservations, reviews, stock lookup in the console
    "amity.commerce",  # orders, shipments, subscriptions, devices, loyalty, coupons, agent actions
    "amity.web.ui_console",  # the agent console: inbox, conversation page, approvals
    "amity.web.ui_admin",  # admin pages
    "amity.web.ui_public",  # the chat widget script, help-centre and privacy shells
    "amity.accounts.api",  # disabling people, two-factor resets, API tokens with scopes
)


def _plug_ins() -> list[ModuleType]:
    return [m for m in (adapter_module(name) for name in PLUG_INS) if m is not None]


def build_app(settings: Settings | None = None, db: Database | None = None) -> App:
    settings = settings or get_settings()
    app = App(db or Database(settings.resolved_database_url), settings)
    app.cache["secret_key"] = load_secret_key(settings)
    jobs.install(app)
    stream.install(app)
    for plug in _plug_ins():
        install = getattr(plug, "install", None)
        if callable(install):
            install(app)
    return app


@asynccontextmanager
async def _lifespan(api: FastAPI) -> AsyncIterator[None]:
    # ``amity serve`` asks for the embedded worker; tests and ``amity worker`` set-ups do not.
    amity: App = api.state.amity
    worker = jobs.jobs_of(amity) if amity.cache.get("run_worker") else None
    if worker is not None:
        worker.start()
    try:
        yield
    finally:
        if worker is not None:
            worker.stop()


def create_app(amity: App | None = None) -> FastAPI:
    amity = amity or build_app()
    api = FastAPI(
        lifespan=_lifespan,
        title="Amity",
        version=__version__,
        description="Connected customer service: one customer, every channel, one conversation.",
        default_response_class=Json,
    )
    api.state.amity = amity
    errors.install(api)
    openapi.install(api)
    api.include_router(customers_router)
    api.include_router(conversations_router)
    api.include_router(channels_router)
    for hooks in webhook_routers():
        api.include_router(hooks)
    for plug in _plug_ins():
        if isinstance(router := getattr(plug, "router", None), APIRouter):
            api.include_router(router)
    api.include_router(audit_router)
    api.include_router(session_router)
    api.include_router(ui_router)
    api.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @api.get("/healthz", tags=["ops"], summary="Liveness and database check (no auth)")
    def healthz(app: Annotated[App, Depends(get_app)]) -> Json:
        try:
            with app.db.read() as s:
                s.execute(text("SELECT 1"))
        except Exception as exc:  # any driver error means the same thing to a load balancer
            return Json({"status": "unavailable", "database": str(exc)[:200]}, status_code=503)
        return Json({"status": "ok", "database": "ok", "version": __version__})

    api.add_middleware(
        RequestContext, max_body=amity.settings.max_body_bytes, max_upload=amity.settings.max_upload_bytes
    )
    return api
