"""HTTP API of consent (docs/consent.md, "API")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from amity.accounts.roles import Perm
from amity.consent import actions, queries
from amity.consent.proof import make_proof
from amity.consent.schemas import ConsentIn, PurposeIn
from amity.core.actions import Actor, App, perform
from amity.web.auth import get_app, require
from amity.web.responses import Json

router = APIRouter(prefix="/api/v1", tags=["consent"])

AppDep = Annotated[App, Depends(get_app)]
Reader = Annotated[Actor, Depends(require(Perm.CONSENT_READ))]
Writer = Annotated[Actor, Depends(require(Perm.CONSENT_WRITE))]
Manager = Annotated[Actor, Depends(require(Perm.PURPOSES_MANAGE))]
MAX_ID = 64


def _state(app: App, customer_id: str) -> dict[str, object]:
    with app.db.read() as s:
        current = queries.current_state(s, customer_id)
        history = queries.history(s, customer_id)
    return {"customer_id": customer_id, "current": current, "history": history}


@router.get(
    "/customers/{customer_id}/consents", summary="Current consent per purpose and channel, and the history"
)
def get_consents(customer_id: str, app: AppDep, _: Reader) -> Json:
    return Json(_state(app, customer_id[: MAX_ID + 1]))


@router.post(
    "/customers/{customer_id}/consents",
    status_code=201,
    summary="Record a consent change (appended to the ledger; nothing is overwritten)",
)
def post_consent(customer_id: str, body: ConsentIn, app: AppDep, actor: Writer) -> Json:
    # The customer's IP and user agent come from the system that saw them (the widget's backend);
    # this request's own are the caller's, not the customer's. Only keyed hashes are kept.
    proof = make_proof(
        app, policy_version=body.policy_version, text=body.text, ip=body.ip, user_agent=body.user_agent
    )
    record = perform(
        app,
        actor,
        actions.record_consent,
        customer_id[: MAX_ID + 1],
        purpose=body.purpose,
        status=body.status,
        lawful_basis=body.lawful_basis,
        source=body.source,
        channel=body.channel,
        proof=proof,
    )
    return Json(record, status_code=201)


@router.get("/consent/purposes", summary="The purposes catalogue with each purpose's lawful bases")
def get_purposes(app: AppDep, _: Reader) -> Json:
    with app.db.read() as s:
        return Json({"items": queries.purposes_list(s)})


@router.post("/consent/purposes", status_code=201, summary="Add a purpose (admin)")
def post_purpose(body: PurposeIn, app: AppDep, actor: Manager) -> Json:
    out = perform(
        app,
        actor,
        actions.add_purpose,
        key=body.key,
        name=body.name,
        description=body.description,
        lawful_bases=list(body.lawful_bases),
        default_basis=body.default_basis,
    )
    return Json(out, status_code=201)
