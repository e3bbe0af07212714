"""What service levels, escalations and approvals hold about a person, for access and erasure.

Approvals name the customer and carry free text (reason, comment) and a payload (what was asked for);
escalations carry the reason an agent gave; SLA clocks are timings of the person's conversations.
Erasure keeps amounts, statuses, tiers and times (approval rates and SLA results stay right) and
removes the words.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from amity.conversations.privacy import conversation_ids
from amity.privacy.holders import DataHolder, register
from amity.privacy.rows import as_dicts
from amity.service.models import Approval, Escalation, SlaClock

ERASED = "[erased]"


def export(session: Session, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    convs = conversation_ids(session, ids)
    return {
        "service_approvals": as_dicts(
            session.scalars(
                select(Approval).where(
                    or_(Approval.customer_id.in_(ids), Approval.conversation_id.in_(convs))
                )
            )
        ),
        "service_escalations": as_dicts(
            session.scalars(select(Escalation).where(Escalation.conversation_id.in_(convs)))
        ),
        "service_sla_clocks": as_dicts(
            session.scalars(select(SlaClock).where(SlaClock.conversation_id.in_(convs)))
        ),
    }


def erase(session: Session, ids: list[str]) -> None:
    convs = conversation_ids(session, ids)
    session.execute(
        update(Approval)
        .where(or_(Approval.customer_id.in_(ids), Approval.conversation_id.in_(convs)))
        .values(reason=ERASED, payload={}, comment=None)
    )
    session.execute(update(Escalation).where(Escalation.conversation_id.in_(convs)).values(reason=ERASED))
    # SLA clocks hold only timings: nothing personal to remove.


HOLDER = DataHolder(
    name="service",
    tables=("service_approvals", "service_escalations", "service_sla_clocks"),
    export=export,
    erase=erase,
)
register(HOLDER)
