"""Approvals for approvers: pending requests to approve or deny with a comment, and recent decisions.

Who may open the page: a role with ``approvals:decide`` (supervisor, admin), or a person whose tier
``may_approve``. The action (``decide_approval``) checks again, per request: nobody decides their own,
and a tier approver only up to their own limit; its refusal is shown on the request's row.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from amity.accounts.roles import Perm
from amity.core.actions import ActionError, NotFound, perform
from amity.service import queries as service
from amity.service.approvals import decide_approval
from amity.service.models import AgentProfile, Tier
from amity.service.sla import now_of
from amity.web import ui_console_data as data
from amity.web.ui_base import Page, checked, forbidden, redirect, render, signed_in

router = APIRouter(include_in_schema=False)

NOTICES = {"approved": "Approved. The customer is told on their own channel.", "denied": "Denied."}


def is_approver(page: Page) -> bool:
    if page.can(Perm.APPROVALS_DECIDE):
        return True
    if page.actor.kind != "user":
        return False
    with page.app.db.read() as s:
        try:
            profile = service.one(s, AgentProfile, page.actor.id)
            return bool(profile["tier_id"]) and bool(service.one(s, Tier, profile["tier_id"])["may_approve"])
        except NotFound:
            return False


def _refuse(page: Page) -> Response:
    return forbidden(
        page, f"Your role ({page.actor.role}) may not decide approvals, and your tier may not either."
    )


def approvals_view(
    page: Page, *, status: int = 200, errors: dict[str, str] | None = None, notice: str | None = None
) -> Response:
    with page.app.db.read() as s:
        pending = service.list_approvals(
            s, status="pending", conversation_id=None, requested_by=None, limit=100, offset=0
        )["items"]
        decided = [
            a
            for a in service.list_approvals(
                s, status=None, conversation_id=None, requested_by=None, limit=40, offset=0
            )["items"]
            if a["status"] != "pending"
        ][:20]
        names = data.lookups(s)
    errors = errors or {}
    # A refusal about a request no longer pending (decided meanwhile) has no row to sit on.
    shown = {a["id"] for a in pending}
    elsewhere = [message for key, message in errors.items() if key not in shown]
    return render(
        page.request,
        "approvals.html",
        status,
        page=page,
        title="Approvals",
        pending=pending,
        decided=decided,
        names=names,
        errors=errors,
        error=" ".join(elsewhere) or None,
        notice=notice,
    )


@router.get("/approvals")
def approvals_page(request: Request, notice: str = "") -> Response:
    page = signed_in(request, Perm.CONVERSATIONS_READ)
    if isinstance(page, Response):
        return page
    if not is_approver(page):
        return _refuse(page)
    return approvals_view(page, notice=NOTICES.get(notice))


@router.post("/approvals/{approval_id}/decide")
def decide_submit(
    request: Request,
    approval_id: str,
    decision: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    page = checked(request, Perm.CONVERSATIONS_READ, csrf)
    if isinstance(page, Response):
        return page
    if not is_approver(page):
        return _refuse(page)
    key = approval_id[:64]
    if decision not in ("approved", "denied"):
        return approvals_view(page, status=422, errors={key: "Choose approve or deny."})
    if len(comment) > 2000:
        return approvals_view(page, status=422, errors={key: "A comment is at most 2,000 characters."})
    try:
        perform(
            page.app, page.actor, decide_approval, key, decision, comment.strip() or None, now_of(page.app)
        )
    except ActionError as exc:
        return approvals_view(page, status=exc.status, errors={key: exc.message})
    return redirect(f"/approvals?notice={decision}")
