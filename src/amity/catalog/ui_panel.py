"""The console's stock lookup: a card beside the conversation (search by SKU or product) and its page
``/conversations/{id}/stock`` (quantity per location nearest the customer first, Reserve buttons, the
size recommendation for the conversation's customer).

The card is registered with :mod:`amity.web.panels`; the page is this capability's own route, so the
console's conversation page and template stay as they are. Looking at stock is a read; "Check stock"
and "Reserve" are POSTs that run the agent actions (audited, noted on the conversation) and come back
here or to the conversation (post/redirect/get).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from amity.accounts.roles import Perm, allowed
from amity.catalog import agent, holds, queries
from amity.conversations import queries as conversations
from amity.core.actions import ActionError, Actor, perform
from amity.customers.queries import profile_ids
from amity.web import panels
from amity.web.panels import Panel
from amity.web.ui_base import Page, checked, redirect, render, signed_in

router = APIRouter(include_in_schema=False)

MAX_ID = 64
MAX_Q = 200


def card(s: Session, customer_id: str, actor: Actor) -> dict[str, Any] | None:
    if not allowed(actor.role, Perm.CATALOG_READ):
        return None
    held = queries.reservations_of(s, profile_ids(s, customer_id), status="held", limit=10)
    return {"held": held, "can_reserve": allowed(actor.role, Perm.STOCK_RESERVE)}


def register() -> None:
    panels.register(Panel("catalog", "Stock and sizes", "catalog_card.html", card, order=40))


def _stock_url(conversation_id: str, **params: str) -> str:
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items() if v)
    return f"/conversations/{conversation_id}/stock" + (f"?{query}" if query else "")


def _page(
    page: Page, conversation_id: str, q: str, sku: str, *, status: int = 200, error: str = ""
) -> Response:
    if len(conversation_id) > MAX_ID:
        return render(page.request, "error.html", 404, page=page, title="No such conversation", message="")
    q, sku = q.strip()[:MAX_Q], sku.strip()[:MAX_Q]
    try:
        with page.app.db.read() as s:
            conv = conversations.get_conversation(s, conversation_id)
    except ActionError:
        return render(
            page.request,
            "error.html",
            404,
            page=page,
            title="No such conversation",
            message=f"There is no conversation with id {conversation_id}.",
        )
    products: list[dict[str, Any]] = []
    stock: dict[str, Any] | None = None
    advice: dict[str, Any] | None = None
    with page.app.db.read() as s:
        try:
            if q:
                products = queries.search_products(s, q, 20)
            if sku:
                origin = agent.customer_origin(s, conv["customer_id"])
                point = (float(origin["latitude"]), float(origin["longitude"])) if origin else None
                stock = queries.stock_for(s, sku, point)
                stock["origin"] = origin
                advice = agent.size_advice(s, stock["product_id"], conv["customer_id"])
                advice["product"] = queries.product_out(s, stock["product_id"])
            elif len(products) == 1:
                advice = agent.size_advice(s, products[0]["id"], conv["customer_id"])
                advice["product"] = products[0]
        except ActionError as exc:
            error, status = error or exc.message, exc.status
    return render(
        page.request,
        "catalog_stock.html",
        status,
        page=page,
        title="Stock lookup",
        conv=conv,
        q=q,
        sku=sku,
        products=products,
        stock=stock,
        advice=advice,
        error=error or None,
        can_reserve=page.can(Perm.STOCK_RESERVE),
    )


@router.get("/conversations/{conversation_id}/stock")
def stock_page(request: Request, conversation_id: str, q: str = "", sku: str = "") -> Response:
    page = signed_in(request, Perm.CATALOG_READ)
    if isinstance(page, Response):
        return page
    return _page(page, conversation_id, q, sku)


@router.post("/conversations/{conversation_id}/stock/lookup")
def stock_lookup(
    request: Request,
    conversation_id: str,
    sku: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    # Fields default to empty and are checked after sign-in and CSRF: a stranger is sent to sign in,
    # never told which fields a form has.
    page = checked(request, Perm.STOCK_RESERVE, csrf)
    if isinstance(page, Response):
        return page
    if not sku.strip():
        return _page(page, conversation_id, "", "", status=422, error="sku: choose a size to look up")
    try:
        perform(page.app, page.actor, agent.find_stock, sku.strip(), conversation_id[:MAX_ID])
    except ActionError as exc:
        return _page(page, conversation_id, "", sku, status=exc.status, error=exc.message)
    return redirect(_stock_url(conversation_id, sku=sku.strip()))


@router.post("/conversations/{conversation_id}/stock/reserve")
def stock_reserve(
    request: Request,
    conversation_id: str,
    sku: Annotated[str, Form(max_length=64)] = "",
    location_id: Annotated[str, Form(max_length=32)] = "",
    csrf: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    page = checked(request, Perm.STOCK_RESERVE, csrf)
    if isinstance(page, Response):
        return page
    if not sku.strip() or not location_id.strip():
        field = "sku" if not sku.strip() else "location_id"
        return _page(page, conversation_id, "", sku, status=422, error=f"{field}: required to reserve")
    try:
        with page.app.db.read() as s:
            customer_id = conversations.get_conversation(s, conversation_id[:MAX_ID])["customer_id"]
        perform(page.app, page.actor, holds.reserve, sku.strip(), location_id, customer_id, conversation_id)
    except ActionError as exc:
        return _page(page, conversation_id, "", sku, status=exc.status, error=exc.message)
    return redirect(f"/conversations/{conversation_id}?notice=noted")


@router.post("/conversations/{conversation_id}/stock/advice")
def size_note(
    request: Request,
    conversation_id: str,
    product_id: Annotated[str, Form(max_length=32)] = "",
    sku: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    page = checked(request, Perm.STOCK_RESERVE, csrf)
    if isinstance(page, Response):
        return page
    if not product_id.strip():
        return _page(page, conversation_id, "", sku, status=422, error="product_id: choose a product")
    try:
        with page.app.db.read() as s:
            customer_id = conversations.get_conversation(s, conversation_id[:MAX_ID])["customer_id"]
        perform(page.app, page.actor, agent.recommend_size, product_id, customer_id, conversation_id)
    except ActionError as exc:
        return _page(page, conversation_id, "", sku, status=exc.status, error=exc.message)
    return redirect(f"/conversations/{conversation_id}?notice=noted")
