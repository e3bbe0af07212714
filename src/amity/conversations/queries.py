"""Reading conversations: the inbox lists (filtered, cursor-paged) and one conversation whole."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import orjson
from sqlalchemy import String, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from amity.channels.models import Channel
from amity.conversations.models import Attachment, Conversation, Message
from amity.core.actions import Invalid, NotFound
from amity.customers import queries as customers


def _iso(t: dt.datetime | None) -> str | None:
    return t.isoformat() if t else None


def conversation_out(c: Conversation, customer: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": c.id,
        "customer_id": c.customer_id,
        "customer": customer,
        "subject": c.subject,
        "status": c.status,
        "priority": c.priority,
        "assignee_id": c.assignee_id,
        "team_id": c.team_id,
        "brand_id": c.brand_id,
        "tags": c.tags,
        "custom_fields": c.custom_fields,
        "links": c.links,
        "last_channel_id": c.last_channel_id,
        "merged_into_id": c.merged_into_id,
        "created_at": _iso(c.created_at),
        "updated_at": _iso(c.updated_at),
        "last_message_at": _iso(c.last_message_at),
        "last_inbound_at": _iso(c.last_inbound_at),
        "first_response_at": _iso(c.first_response_at),
        "awaiting_reply_since": _iso(c.awaiting_reply_since),
        "solved_at": _iso(c.solved_at),
        "closed_at": _iso(c.closed_at),
        "sla": {
            "policy_id": c.sla_policy_id,
            "first_response_due_at": _iso(c.first_response_due_at),
            "next_response_due_at": _iso(c.next_response_due_at),
            "resolution_due_at": _iso(c.resolution_due_at),
            "next_due_at": _iso(c.next_due_at),
        },
    }


def attachment_out(a: Attachment) -> dict[str, Any]:
    return {
        "id": a.id,
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "url": f"/api/v1/attachments/{a.id}",
    }


def message_out(m: Message, attachments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "id": m.id,
        "conversation_id": m.conversation_id,
        "direction": m.direction,
        "channel_id": m.channel_id,
        "channel_type": m.channel_type,
        "author_type": m.author_type,
        "author_id": m.author_id,
        "address": m.address,
        "subject": m.subject,
        "text": m.text,
        "html": m.html,
        "is_note": m.is_note,
        "external_id": m.external_id,
        "delivery_status": m.delivery_status,
        "delivery_error": m.delivery_error,
        "meta": m.meta,
        "attachments": attachments or [],
        "created_at": _iso(m.created_at),
        "sent_at": _iso(m.sent_at),
        "delivered_at": _iso(m.delivered_at),
    }


def _briefs(session: Session, convs: list[Conversation]) -> dict[str, dict[str, Any]]:
    roots = customers.resolve_many(session, [c.customer_id for c in convs])
    briefs = {b["id"]: b for b in customers.customer_brief(session, sorted(set(roots.values())))}
    return {asked: briefs[root] for asked, root in roots.items() if root in briefs}


def messages(session: Session, conversation_ids: list[str]) -> list[dict[str, Any]]:
    rows = list(
        session.scalars(
            select(Message)
            .where(Message.conversation_id.in_(conversation_ids))
            .order_by(Message.created_at, Message.id)
        )
    )
    files: dict[str, list[dict[str, Any]]] = {}
    if rows:
        for a in session.scalars(
            select(Attachment).where(Attachment.message_id.in_([m.id for m in rows])).order_by(Attachment.id)
        ):
            files.setdefault(a.message_id, []).append(attachment_out(a))
    return [message_out(m, files.get(m.id)) for m in rows]


def get_conversation(session: Session, conversation_id: str) -> dict[str, Any]:
    c = session.get(Conversation, conversation_id)
    if c is None:
        raise NotFound(f"no conversation {conversation_id}", field="conversation_id")
    out = conversation_out(c, _briefs(session, [c]).get(c.customer_id))
    out["messages"] = messages(session, [c.id])
    out["reachable_channels"] = reachable_channels(session, c)
    return out


def reachable_channels(session: Session, c: Conversation) -> list[dict[str, Any]]:
    """Channels a reply could go out on: the customer has an identity of a type the channel reaches."""
    from amity.channels import registry

    people = customers.profile_ids(session, c.customer_id)
    have = {
        i["type"]
        for i in customers.identities_of(
            session, people[0], ("email", "phone", "social:telegram", "device", "external:api")
        )
    }
    wrote_on = set(
        session.scalars(
            select(Message.channel_id).where(Message.conversation_id == c.id, Message.direction == "in")
        )
    )
    out = []
    for ch in session.scalars(select(Channel).where(Channel.enabled.is_(True)).order_by(Channel.created_at)):
        kind = registry.kind(ch.type)
        if kind.transport is None:
            continue
        if ch.id in wrote_on or have & set(kind.reaches):
            out.append(
                {"id": ch.id, "type": ch.type, "name": ch.name, "last_used": ch.id == c.last_channel_id}
            )
    return out


# ---- lists ------------------------------------------------------------------------------------------
SORTS = {
    "last_message": Conversation.last_message_at,
    "due": Conversation.next_due_at,
    "created": Conversation.created_at,
}


def _cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def _uncursor(cursor: str) -> tuple[dt.datetime | None, str]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(data, list) or len(data) != 2:
            raise ValueError
        ts_s, cid = data
        if not isinstance(cid, str) or "\x00" in cid or not (ts_s is None or isinstance(ts_s, str)):
            raise ValueError
        ts = dt.datetime.fromisoformat(ts_s) if ts_s else None
        if ts is not None and ts.tzinfo is None:
            raise ValueError
        return ts, cid
    except (ValueError, TypeError):
        raise Invalid("not a cursor this API gave out", field="cursor") from None


def list_conversations(
    session: Session,
    *,
    status: list[str] | None = None,
    assignee_id: str | None = None,
    unassigned: bool = False,
    team_id: str | None = None,
    channel_type: str | None = None,
    tag: str | None = None,
    brand_id: str | None = None,
    customer_id: str | None = None,
    q: str | None = None,
    sort: str = "last_message",
    limit: int = 25,
    cursor: str | None = None,
) -> dict[str, Any]:
    query = select(Conversation).where(Conversation.merged_into_id.is_(None))
    if status:
        query = query.where(Conversation.status.in_(status))
    if assignee_id:
        query = query.where(Conversation.assignee_id == assignee_id)
    if unassigned:
        query = query.where(Conversation.assignee_id.is_(None))
    if team_id:
        query = query.where(Conversation.team_id == team_id)
    if brand_id:
        query = query.where(Conversation.brand_id == brand_id)
    if channel_type:
        query = query.where(
            Conversation.last_channel_id.in_(select(Channel.id).where(Channel.type == channel_type))
        )
    if customer_id:
        query = query.where(Conversation.customer_id.in_(customers.profile_ids(session, customer_id)))
    if tag:
        # Tags are a small JSON list; matching its text form works on both backends without a join table.
        query = query.where(func.lower(_json_text(Conversation.tags)).contains(f'"{tag.lower()}"'))
    if q:
        like = f"%{q.lower()}%"
        query = query.where(
            or_(
                func.lower(Conversation.subject).like(like),
                Conversation.id.in_(
                    select(Message.conversation_id).where(func.lower(Message.text).like(like))
                ),
            )
        )
    col = SORTS.get(sort)
    if col is None:
        raise Invalid(f"one of {', '.join(SORTS)}", field="sort")
    after = _uncursor(cursor) if cursor else None
    if sort == "due":
        # Soonest due first; conversations with nothing due come after all that have a due time.
        query = query.order_by(col.is_(None), col.asc(), Conversation.id.asc())
        if after is not None:
            ts, cid = after
            if ts is None:
                query = query.where(col.is_(None), Conversation.id > cid)
            else:
                query = query.where(or_(col > ts, and_(col == ts, Conversation.id > cid), col.is_(None)))
    else:
        query = query.order_by(col.desc(), Conversation.id.desc())
        if after is not None:
            ts, cid = after
            query = query.where(or_(col < ts, and_(col == ts, Conversation.id < cid)))
    rows = list(session.scalars(query.limit(limit + 1)))
    page = rows[:limit]
    briefs = _briefs(session, page)
    nxt = None
    if len(rows) > limit:
        last = page[-1]
        value = getattr(last, col.key)
        nxt = _cursor([value.isoformat() if value else None, last.id])
    return {"items": [conversation_out(c, briefs.get(c.customer_id)) for c in page], "next_cursor": nxt}


def _json_text(col: Any) -> Any:
    return cast(col, String)
