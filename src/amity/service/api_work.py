"""HTTP API of escalations, approvals and a conversation's SLA clocks (docs/service-levels.md, "API")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from amity.conversations.queries import get_conversation
from amity.core.actions import perform
from amity.service import queries
from amity.service.api_common import AppDep, Approver, Limit, Offset, Reader, Writer
from amity.service.approvals import decide_approval, request_approval
from amity.service.escalation import escalate
from amity.service.schemas import ApprovalIn, DecideIn, EscalateIn
from amity.service.sla import now_of
from amity.web.responses import Json

router = APIRouter(prefix="/api/v1", tags=["service: escalations and approvals"])


@router.post(
    "/conversations/{conversation_id}/escalate",
    status_code=201,
    summary="Move the conversation to a higher tier's team, with the reason noted",
)
def post_escalate(conversation_id: str, body: EscalateIn, app: AppDep, actor: Writer) -> Json:
    row = perform(
        app,
        actor,
        escalate,
        conversation_id,
        body.reason,
        now_of(app),
        to_tier=body.to_tier,
        to_team=body.to_team,
    )
    with app.db.read() as s:
        return Json(
            {
                "escalation": queries.escalation_out(s, row),
                "conversation": get_conversation(s, conversation_id),
            },
            status_code=201,
        )


@router.get("/conversations/{conversation_id}/escalations", summary="Every escalation of a conversation")
def list_escalations(conversation_id: str, app: AppDep, _: Reader) -> Json:
    with app.db.read() as s:
        get_conversation(s, conversation_id)  # 404 for an unknown conversation, not an empty list
        return Json({"items": queries.escalations_of(s, conversation_id)})


@router.get("/conversations/{conversation_id}/service-levels", summary="The SLA clocks of a conversation")
def get_service_levels(conversation_id: str, app: AppDep, _: Reader) -> Json:
    with app.db.read() as s:
        conv = get_conversation(s, conversation_id)
        return Json({"sla": conv["sla"], "clocks": queries.clocks_of(s, conversation_id)})


@router.post(
    "/approvals", status_code=201, summary="Ask for a refund, credit or goodwill beyond your authority"
)
def post_approval(body: ApprovalIn, app: AppDep, actor: Writer) -> Json:
    row = perform(
        app,
        actor,
        request_approval,
        body.conversation_id,
        body.kind,
        body.amount_minor,
        body.currency,
        body.reason,
        body.payload,
        now_of(app),
    )
    with app.db.read() as s:
        return Json(queries.get_approval(s, row.id), status_code=201)


@router.get("/approvals", summary="Approval requests, newest first")
def list_approvals(
    app: AppDep,
    actor: Writer,
    status: Annotated[str | None, Query(max_length=20, description="pending, approved or denied")] = None,
    conversation_id: Annotated[str | None, Query(max_length=32)] = None,
    mine: Annotated[bool, Query(description="only the requests I made")] = False,
    limit: Limit = 25,
    offset: Offset = 0,
) -> Json:
    with app.db.read() as s:
        return Json(
            queries.list_approvals(
                s,
                status=status,
                conversation_id=conversation_id,
                requested_by=actor.label if mine else None,
                limit=limit,
                offset=offset,
            )
        )


@router.get("/approvals/{approval_id}", summary="One approval request")
def get_approval(approval_id: str, app: AppDep, _: Writer) -> Json:
    with app.db.read() as s:
        return Json(queries.get_approval(s, approval_id))


@router.post("/approvals/{approval_id}/decide", summary="Approve or deny (not your own request)")
def post_decide(approval_id: str, body: DecideIn, app: AppDep, actor: Approver) -> Json:
    perform(app, actor, decide_approval, approval_id, body.decision, body.comment, now_of(app))
    with app.db.read() as s:
        return Json(queries.get_approval(s, approval_id))
