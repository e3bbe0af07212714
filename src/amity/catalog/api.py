"""HTTP API of the catalogue (docs/catalog.md, "API"): products, locations, inventory, reservations,
reviews, and the agent actions (stock lookup, size recommendation)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from amity.accounts.roles import Perm
from amity.catalog import actions, agent, bodies, holds, queries, stock_lookup
from amity.catalog.schemas import (
    MAX_STOCK_ROWS,
    DeltasIn,
    InventoryWritten,
    LocationIn,
    LocationOut,
    LocationsIn,
    LocationsOut,
    ProductIn,
    ProductOut,
    ProductsIn,
    ProductsOut,
    ReservationIn,
    ReservationOut,
    ReviewIn,
    ReviewOut,
    SizeRecommendationIn,
    SizeRecommendationOut,
    StockIn,
    StockLookupIn,
    StockOut,
)
from amity.core.actions import Actor, App, Invalid, perform
from amity.customers.queries import profile_ids
from amity.web.auth import get_app, require
from amity.web.errors import ApiError
from amity.web.responses import Json

router = APIRouter(prefix="/api/v1", tags=["catalogue"])
AppDep = Annotated[App, Depends(get_app)]
Reader = Annotated[Actor, Depends(require(Perm.CATALOG_READ))]
Writer = Annotated[Actor, Depends(require(Perm.CATALOG_WRITE))]
Reserver = Annotated[Actor, Depends(require(Perm.STOCK_RESERVE))]
Sku = Annotated[str, Query(min_length=1, max_length=64, description="the variant's SKU")]
Key = Annotated[str, Query(max_length=32)]


# ---- products ----------------------------------------------------------------------------------
@router.post(
    "/products",
    status_code=201,
    response_model=ProductOut | ProductsOut,
    openapi_extra=bodies.one_or_many_body(ProductIn, ProductsIn),
    summary='Add a product with its variants, or up to 1,000 as {"products": [...]}',
)
async def post_products(request: Request, app: AppDep, actor: Writer) -> Json:
    many, body = await bodies.parse(request, "products", ProductIn, ProductsIn)
    items = body.products if many else [body]
    return await run_in_threadpool(_create_products, app, actor, items, many)


def _create_products(app: App, actor: Actor, items: list[ProductIn], many: bool) -> Json:
    ids = perform(app, actor, actions.create_products, items, many)
    with app.db.read() as s:
        out = [queries.product_out(s, i) for i in ids]
    return Json({"items": out} if many else out[0], status_code=201)


@router.get("/products", response_model=ProductsOut, summary="Search products by name prefix, code or SKU")
def search_products(
    app: AppDep,
    _: Reader,
    q: Annotated[str, Query(min_length=1, max_length=200, description="name prefix, product code or SKU")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Json:
    with app.db.read() as s:
        return Json({"items": queries.search_products(s, q, limit)})


@router.get(
    "/products/{product_id}", response_model=ProductOut, summary="One product, its variants and fit summary"
)
def get_product(product_id: str, app: AppDep, _: Reader) -> Json:
    with app.db.read() as s:
        return Json(queries.product_out(s, product_id))


@router.get(
    "/products/{product_id}/reviews",
    response_model=list[ReviewOut],
    summary="A product's reviews, newest first",
)
def list_reviews(
    product_id: str, app: AppDep, _: Reader, limit: Annotated[int, Query(ge=1, le=100)] = 50
) -> Json:
    with app.db.read() as s:
        queries.product_out(s, product_id)  # 404 for an unknown product rather than an empty list
        return Json(queries.reviews_of(s, product_id, limit))


# ---- locations ---------------------------------------------------------------------------------
@router.post(
    "/locations",
    status_code=201,
    response_model=LocationOut | LocationsOut,
    openapi_extra=bodies.one_or_many_body(LocationIn, LocationsIn),
    summary='Add a store or warehouse, or up to 1,000 as {"locations": [...]}',
)
async def post_locations(request: Request, app: AppDep, actor: Writer) -> Json:
    many, body = await bodies.parse(request, "locations", LocationIn, LocationsIn)
    items = body.locations if many else [body]
    return await run_in_threadpool(_create_locations, app, actor, items, many)


def _create_locations(app: App, actor: Actor, items: list[LocationIn], many: bool) -> Json:
    ids = perform(app, actor, actions.create_locations, items, many)
    with app.db.read() as s:
        out = queries.locations_by_ids(s, ids)
    return Json({"items": out, "total": len(out)} if many else out[0], status_code=201)


@router.get("/locations", response_model=LocationsOut, summary="Stores and warehouses by name")
def list_locations(
    app: AppDep,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Json:
    with app.db.read() as s:
        return Json(queries.list_locations(s, limit, offset))


# ---- inventory ---------------------------------------------------------------------------------
@router.put(
    "/inventory",
    response_model=InventoryWritten,
    summary=f"Stock snapshots: a list of {{sku, location_id, quantity}} (at most {MAX_STOCK_ROWS:,})",
)
def put_inventory(body: Annotated[list[StockIn], Body()], app: AppDep, actor: Writer) -> Json:
    if len(body) > MAX_STOCK_ROWS:
        raise ApiError(413, "too_many", f"{len(body)} rows; at most {MAX_STOCK_ROWS} a call", "body")
    written = perform(app, actor, actions.put_inventory, body, "body")
    return Json({"written": written})


@router.post("/inventory/deltas", response_model=InventoryWritten, summary="Stock changes: +received, -sold")
def post_deltas(body: DeltasIn, app: AppDep, actor: Writer) -> Json:
    return Json({"written": perform(app, actor, actions.apply_deltas, body.deltas)})


# The answer is written as JSON bytes straight from the per-process location cache (500 locations make
# ~150 KB): returned as a Response, FastAPI neither re-validates nor re-encodes it; response_model is
# what OpenAPI shows.
@router.get(
    "/inventory", response_model=StockOut, summary="Stock of one SKU per location, nearest first if known"
)
def get_inventory(
    app: AppDep,
    _: Reader,
    sku: Sku,
    near: Annotated[str | None, Query(max_length=64, description="LAT,LON to sort by distance")] = None,
    customer_id: Annotated[
        str | None, Query(max_length=32, description="sort by distance from this customer")
    ] = None,
    in_stock: Annotated[bool, Query(description="only locations with at least one available")] = False,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> Response:
    if near and customer_id:
        raise Invalid("give near or customer_id, not both", field="near")
    point = queries.parse_near(near) if near else None
    with app.db.read() as s:
        origin: dict[str, Any] | None = None
        if point is not None:
            origin = {"latitude": point[0], "longitude": point[1], "source": "near", "detail": "given"}
        elif customer_id:
            origin = agent.customer_origin(s, customer_id)
            point = (float(origin["latitude"]), float(origin["longitude"])) if origin else None
        found = stock_lookup.lookup(s, sku, point, in_stock_only=in_stock, limit=limit)
    return Response(stock_lookup.as_json(found, origin), media_type="application/json")


# ---- reservations ------------------------------------------------------------------------------
@router.post(
    "/reservations",
    status_code=201,
    response_model=ReservationOut,
    summary="Hold one item at a location for a customer (409 when none is left)",
    responses={409: {"description": "No stock left to reserve at that location"}},
)
def post_reservation(body: ReservationIn, app: AppDep, actor: Reserver) -> Json:
    out = perform(
        app,
        actor,
        holds.reserve,
        body.sku,
        body.location_id,
        body.customer_id,
        body.conversation_id,
        body.hold_hours,
    )
    return Json(out, status_code=201)


@router.get(
    "/reservations", response_model=list[ReservationOut], summary="A customer's reservations, newest first"
)
def list_reservations(
    app: AppDep,
    _: Reader,
    customer_id: Key,
    status: Annotated[str | None, Query(pattern="^(held|released|expired)$")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Json:
    with app.db.read() as s:
        return Json(queries.reservations_of(s, profile_ids(s, customer_id), status=status, limit=limit))


@router.get("/reservations/{reservation_id}", response_model=ReservationOut, summary="One reservation")
def get_reservation(reservation_id: str, app: AppDep, _: Reader) -> Json:
    with app.db.read() as s:
        return Json(queries.reservation(s, reservation_id))


@router.delete(
    "/reservations/{reservation_id}",
    response_model=ReservationOut,
    summary="Release a hold: the item is available again (409 if it already ended)",
)
def delete_reservation(reservation_id: str, app: AppDep, actor: Reserver) -> Json:
    return Json(perform(app, actor, holds.release, reservation_id))


# ---- reviews -----------------------------------------------------------------------------------
@router.post(
    "/reviews", status_code=201, response_model=ReviewOut, summary="A product review with its fit signal"
)
def post_review(body: ReviewIn, app: AppDep, actor: Writer) -> Json:
    rid = perform(app, actor, actions.post_review, body)
    with app.db.read() as s:
        return Json(queries.review(s, rid), status_code=201)


# ---- agent actions -----------------------------------------------------------------------------
@router.post(
    "/stock-lookups",
    response_model=StockOut,
    summary="Agent action: find stock nearest the customer (a note on the conversation if given)",
)
def post_stock_lookup(body: StockLookupIn, app: AppDep, actor: Reserver) -> Json:
    point = queries.parse_near(body.near) if body.near else None
    return Json(
        perform(app, actor, agent.find_stock, body.sku, body.conversation_id, body.customer_id, point)
    )


@router.post(
    "/size-recommendations",
    response_model=SizeRecommendationOut,
    summary="Agent action: recommend a size from purchases and fit reviews, with the reason",
)
def post_size_recommendation(body: SizeRecommendationIn, app: AppDep, actor: Reserver) -> Json:
    return Json(
        perform(app, actor, agent.recommend_size, body.product_id, body.customer_id, body.conversation_id)
    )
