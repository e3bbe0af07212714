"""HTTP API of data-subject requests and retention rules (docs/privacy.md, "API")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from starlette.responses import FileResponse, Response

from amity.accounts.roles import Perm
from amity.core.actions import Actor, App, perform
from amity.db import utcnow
from amity.privacy import queries, requests, retention
from amity.privacy.schemas import DenyIn, ExtendIn, RequestIn, RetentionIn, VerifyIn
from amity.web.auth import get_app, require
from amity.web.errors import ApiError
from amity.web.responses import Json

router = APIRouter(prefix="/api/v1/privacy", tags=["privacy"])

AppDep = Annotated[App, Depends(get_app)]
Filer = Annotated[Actor, Depends(require(Perm.PRIVACY_REQUEST))]
Manager = Annotated[Actor, Depends(require(Perm.PRIVACY_MANAGE))]
Keeper = Annotated[Actor, Depends(require(Perm.RETENTION_MANAGE))]


def _one(app: App, request_id: str, status: int = 200) -> Json:
    now = utcnow()
    with app.db.read() as s:
        r = queries.get(s, request_id)
        return Json(queries.request_out(r, Path(app.settings.home), now), status_code=status)


@router.post("/requests", status_code=201, summary="File a data-subject request on a customer's behalf")
def post_request(body: RequestIn, app: AppDep, actor: Filer) -> Json:
    r = perform(app, actor, requests.file_request, body, utcnow())
    return _one(app, r.id, 201)


@router.get("/requests", summary="Data-subject requests, soonest due first")
def list_requests(
    app: AppDep,
    _: Manager,
    status: Literal[
        "open", "received", "identity_verified", "in_progress", "completed", "denied", "all"
    ] = "open",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Json:
    now = utcnow()
    home = Path(app.settings.home)
    with app.db.read() as s:
        rows, total = queries.listing(s, status, limit, offset)
        return Json({"items": [queries.request_out(r, home, now) for r in rows], "total": total})


@router.get("/requests/{request_id}", summary="One request: status, due date, download link when ready")
def get_request(request_id: str, app: AppDep, _: Filer) -> Json:
    return _one(app, request_id)


@router.post("/requests/{request_id}/verify", summary="Record who verified the customer, and how")
def post_verify(request_id: str, body: VerifyIn, app: AppDep, actor: Filer) -> Json:
    perform(
        app, actor, requests.verify_request, request_id, body.verified_by, body.verification_method, utcnow()
    )
    return _one(app, request_id)


@router.post("/requests/{request_id}/approve", summary="Let an erasure filed by an agent run")
def post_approve(request_id: str, app: AppDep, actor: Manager) -> Json:
    perform(app, actor, requests.approve_request, request_id, utcnow())
    return _one(app, request_id)


@router.post("/requests/{request_id}/extend", summary="Extend the due date, with the reason recorded")
def post_extend(request_id: str, body: ExtendIn, app: AppDep, actor: Manager) -> Json:
    perform(app, actor, requests.extend_request, request_id, body.reason, body.months, utcnow())
    return _one(app, request_id)


@router.post("/requests/{request_id}/deny", summary="Deny a request, with the reason recorded")
def post_deny(request_id: str, body: DenyIn, app: AppDep, actor: Manager) -> Json:
    perform(app, actor, requests.deny_request, request_id, body.reason, utcnow())
    return _one(app, request_id)


@router.get(
    "/requests/{request_id}/export",
    summary="Download a completed access request's export (a zip)",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def get_export(request_id: str, app: AppDep, actor: Manager) -> Response:
    now = utcnow()
    home = Path(app.settings.home)
    with app.db.read() as s:
        r = queries.get(s, request_id)
        ready = queries.export_ready(r, home, now)
        path = r.export_path
    if r.type != "access" or r.status != "completed":
        raise ApiError(409, "conflict", "only a completed access request has an export", "request_id")
    if not ready or not path:
        raise ApiError(
            410, "gone", "the export has expired or was erased; file a new access request", "request_id"
        )
    perform(app, actor, requests.record_download, r.id, r.customer_id)
    return FileResponse(
        home / path,
        media_type="application/zip",
        filename=f"amity-data-{r.customer_id}.zip",
        headers={"Cache-Control": "no-store"},
    )


@router.get("/retention", summary="Retention rules for events and messages")
def get_retention(app: AppDep, _: Keeper) -> Json:
    with app.db.read() as s:
        return Json({"rules": retention.rules(s)})


@router.put("/retention", summary="Replace the retention rules")
def put_retention(body: RetentionIn, app: AppDep, actor: Keeper) -> Json:
    rules = perform(app, actor, retention.replace_rules, [r.model_dump() for r in body.rules], utcnow())
    return Json({"rules": rules})
