"""HTTP API of the customer core (the contract other systems rely on; see docs/api.md)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from amity.accounts.roles import Perm
from amity.core.actions import Actor, App, perform
from amity.customers import actions, queries, service
from amity.customers.schemas import IngestResponse, MergeIn, TraitIn, TraitOut, TraitPatch, UndoIn
from amity.web.auth import get_app, require
from amity.web.errors import ApiError, error_body
from amity.web.responses import Json

router = APIRouter(prefix="/api/v1", tags=["customers"])

AppDep = Annotated[App, Depends(get_app)]

_EVENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/EventIn"},
                        {
                            "type": "object",
                            "required": ["events"],
                            "properties": {
                                "events": {
                                    "type": "array",
                                    "maxItems": 1000,
                                    "items": {"$ref": "#/components/schemas/EventIn"},
                                }
                            },
                        },
                    ]
                }
            }
        },
    }
}


@router.post(
    "/events",
    response_model=IngestResponse,
    openapi_extra=_EVENT_BODY,
    summary="Ingest one event, or a batch of up to 1,000",
    responses={422: {"description": "The single event was rejected (body lists the errors)"}},
)
async def post_events(
    request: Request, app: AppDep, actor: Annotated[Actor, Depends(require(Perm.EVENTS_WRITE))]
) -> Json:
    body = await request.body()
    if len(body) > app.settings.max_body_bytes:
        raise ApiError(
            413, "too_large", f"body is {len(body)} bytes; at most {app.settings.max_body_bytes}", "body"
        )
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}", "body") from None
    if isinstance(data, dict) and "events" in data and "type" not in data:
        items = data["events"]
        if not isinstance(items, list):
            raise ApiError(422, "validation_error", "must be a list of events", "events")
        if len(items) > app.settings.max_batch:
            raise ApiError(
                413, "too_many", f"{len(items)} events; at most {app.settings.max_batch} a batch", "events"
            )
        extra = set(data) - {"events"}
        if extra:
            raise ApiError(
                422, "validation_error", f"unexpected keys next to events: {sorted(extra)}", "body"
            )
        result = await run_in_threadpool(service.ingest, app, actor, items, prefix="events[{i}].")
        return Json(_fix_prefix(result))
    if not isinstance(data, dict):
        raise ApiError(422, "validation_error", 'expected an event object or {"events": [...]}', "body")
    result = await run_in_threadpool(service.ingest, app, actor, [data])
    if result["rejected"]:
        # The error envelope every 4xx has, plus the per-item result a batch would have given.
        errs = result["results"][0]["errors"]
        return Json({**error_body("rejected", "the event was rejected", errs), **result}, status_code=422)
    return Json(result)


def _fix_prefix(result: dict[str, Any]) -> dict[str, Any]:
    for r in result["results"]:
        for e in r["errors"]:
            e["field"] = e["field"].replace("{i}", str(r["index"]))
    return result


@router.get("/customers", summary="Find customers by identity (TYPE:VALUE) or search text")
def list_customers(
    app: AppDep,
    _: Annotated[Actor, Depends(require(Perm.CUSTOMERS_READ))],
    identity: Annotated[str | None, Query(max_length=400, description="e.g. email:ana@example.com")] = None,
    q: Annotated[str | None, Query(max_length=200, description="name, email or phone prefix")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Json:
    if bool(identity) == bool(q):
        raise ApiError(422, "validation_error", "give exactly one of identity or q", "identity")
    with app.db.read() as s:
        pol = service.policy(app)
        items = (
            queries.find_by_identity(s, pol, identity) if identity else queries.search(s, pol, q or "", limit)
        )
    return Json({"items": items})


@router.get("/customers/{customer_id}", summary="The Customer 360")
def get_customer(
    customer_id: str,
    app: AppDep,
    _: Annotated[Actor, Depends(require(Perm.CUSTOMERS_READ))],
    limit: Annotated[int, Query(ge=1, le=200, description="timeline events per page")] = 20,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Json:
    with app.db.read() as s:
        return Json(queries.customer_360(s, customer_id, limit=limit, cursor=cursor))


@router.get("/customers/{customer_id}/events", summary="A customer's timeline, newest first")
def get_timeline(
    customer_id: str,
    app: AppDep,
    _: Annotated[Actor, Depends(require(Perm.CUSTOMERS_READ))],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    type: Annotated[str | None, Query(max_length=100)] = None,
) -> Json:
    with app.db.read() as s:
        data = queries.customer_360(s, customer_id, limit=1)
        return Json(queries.timeline(s, data["id"], limit=limit, cursor=cursor, type_=type))


@router.get("/customers/{customer_id}/traits/history", summary="Every value each trait has had")
def get_trait_history(
    customer_id: str,
    app: AppDep,
    _: Annotated[Actor, Depends(require(Perm.CUSTOMERS_READ))],
    name: Annotated[str | None, Query(max_length=64)] = None,
) -> Json:
    with app.db.read() as s:
        return Json({"items": queries.trait_history(s, customer_id, name)})


@router.post("/customers/{customer_id}/merge", summary="Fold another customer into this one")
def post_merge(
    customer_id: str,
    body: MergeIn,
    app: AppDep,
    actor: Annotated[Actor, Depends(require(Perm.CUSTOMERS_MERGE))],
) -> Json:
    merge_id = perform(
        app, actor, actions.merge_customers, customer_id, body.other_id, service.policy(app), body.note
    )
    with app.db.read() as s:
        merge = queries.get_merge(s, merge_id)
    return Json(merge, status_code=201)


@router.post("/merges/{merge_id}/undo", summary="Undo a merge (unmerge)")
def post_undo(
    merge_id: str,
    app: AppDep,
    actor: Annotated[Actor, Depends(require(Perm.CUSTOMERS_MERGE))],
    body: UndoIn | None = None,
) -> Json:
    result = perform(app, actor, actions.undo_merge, merge_id, body.reason if body else None)
    return Json(result)


@router.get("/merges/{merge_id}", summary="One merge with its evidence")
def get_merge(merge_id: str, app: AppDep, _: Annotated[Actor, Depends(require(Perm.CUSTOMERS_READ))]) -> Json:
    with app.db.read() as s:
        return Json(queries.get_merge(s, merge_id))


@router.get("/traits", response_model=list[TraitOut], summary="The declared trait schema")
def get_traits(app: AppDep, _: Annotated[Actor, Depends(require(Perm.TRAITS_READ))]) -> Json:
    with app.db.read() as s:
        return Json(queries.list_traits(s))


@router.post("/traits", response_model=TraitOut, status_code=201, summary="Declare a trait")
def post_trait(
    body: TraitIn, app: AppDep, actor: Annotated[Actor, Depends(require(Perm.TRAITS_WRITE))]
) -> Json:
    row = perform(app, actor, actions.declare_trait, body)
    return Json(queries.trait_out(row), status_code=201)


@router.patch(
    "/traits/{name}", response_model=TraitOut, summary="Change a trait's purpose, PII flag, retention…"
)
def patch_trait(
    name: str, body: TraitPatch, app: AppDep, actor: Annotated[Actor, Depends(require(Perm.TRAITS_WRITE))]
) -> Json:
    row = perform(app, actor, actions.update_trait, name, body)
    return Json(queries.trait_out(row))
