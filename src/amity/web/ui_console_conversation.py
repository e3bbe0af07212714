"""One conversation: the thread across channels, the reply box (channel picker, note toggle, macros),
assign / status / priority / tags, escalate and request approval, beside the customer's side panel.

Every form is a CSRF-checked POST that calls the same action the API calls; a refusal re-renders the
page with the message under the field it names (``errors`` keys are ``<form>-<field>``).
"""

from __future__ import annotations

import decimal
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.responses import Response

from amity.accounts.roles import Perm
from amity.conversations import actions
from amity.conversations import changes as conversation_changes
from amity.conversations import queries as conversations
from amity.conversations.files import StoredFile
from amity.core.actions import ActionError, Actor, perform
from amity.customers.queries import customer_360
from amity.service import queries as service
from amity.service.approvals import request_approval
from amity.service.escalation import escalate
from amity.service.macros import render_macro
from amity.service.models import APPROVAL_KINDS, Macro, Tier
from amity.service.sla import now_of
from amity.web import panels
from amity.web import ui_console_data as data
from amity.web import ui_console_files as uploads
from amity.web.ui_base import Page, checked, redirect, render, signed_in

router = APIRouter(include_in_schema=False)

MAX_ID = 64
NOTICES = {
    "sent": "Reply queued for delivery.",
    "noted": "Note added. The customer does not see it.",
    "updated": "Conversation updated.",
    "escalated": "Escalated to the next tier.",
    "requested": "Approval requested.",
}
# Which form a field belongs to, so a refusal from an action lands under the right input.
FORM_FIELDS = {
    "reply": ("text", "files", "channel_id", "status", "macro"),
    "update": ("assignee_id", "team_id", "status", "priority", "tags"),
    "escalate": ("reason", "to_team", "to_tier"),
    "approval": ("kind", "amount", "currency", "reason"),
}


def _refusal(form: str, exc: ActionError) -> dict[str, str]:
    field = exc.field or ""
    if field == "amount_minor":
        field = "amount"
    if field == "to_tier":
        field = "to_team"
    return {f"{form}-{field if field in FORM_FIELDS[form] else 'form'}": exc.message}


def _not_found(page: Page, conversation_id: str) -> Response:
    return render(
        page.request,
        "error.html",
        404,
        page=page,
        title="No such conversation",
        message=f"There is no conversation with id {conversation_id[:MAX_ID]}.",
    )


def _side_panel(s: Any, conv: dict[str, Any], actor: Actor) -> dict[str, Any]:
    c360 = customer_360(s, conv["customer_id"], limit=10)
    previous = conversations.list_conversations(s, customer_id=conv["customer_id"], limit=11)["items"]
    grouped: dict[str, list[dict[str, Any]]] = {}
    for i in c360["identities"]:
        grouped.setdefault(i["type"], []).append(i)
    return {
        "c": c360,
        "identities": grouped,
        "previous": [p for p in previous if p["id"] != conv["id"]][:10],
        "cards": panels.load_all(s, conv["customer_id"], actor),
    }


def thread_page(
    page: Page,
    conversation_id: str,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    notice: str | None = None,
    macro_id: str = "",
) -> Response:
    if len(conversation_id) > MAX_ID:
        return _not_found(page, conversation_id)
    errors = dict(errors or {})
    form = dict(form or {})
    try:
        with page.app.db.read() as s:
            conv = conversations.get_conversation(s, conversation_id)
            panel = _side_panel(s, conv, page.actor)
            names = data.lookups(s)
            macros = service.list_of(s, Macro, 200, 0)["items"]
            tiers = {t["id"]: t["name"] for t in service.list_of(s, Tier, 100, 0)["items"]}
            approvals = service.list_approvals(
                s, status=None, conversation_id=conv["id"], requested_by=None, limit=20, offset=0
            )["items"]
            escalations = service.escalations_of(s, conv["id"])
            if macro_id:
                try:
                    form["text"] = render_macro(s, macro_id[:MAX_ID], conv["id"], page.actor)
                except ActionError as exc:
                    status, errors["reply-macro"] = exc.status, exc.message
    except ActionError:
        return _not_found(page, conversation_id)
    channel_default = next((c["id"] for c in conv["reachable_channels"] if c["last_used"]), "")
    return render(
        page.request,
        "conversation.html",
        status,
        page=page,
        title=conv["subject"] or "Conversation",
        conv=conv,
        panel=panel,
        names=names,
        macros=macros,
        tiers=tiers,
        approvals=approvals,
        escalations=escalations,
        errors=errors,
        form=form,
        channel_default=form.get("channel_id") or channel_default,
        notice=notice,
        statuses=data.STATUSES,
        priorities=data.PRIORITIES,
        kinds=APPROVAL_KINDS,
        can_write=page.can(Perm.CONVERSATIONS_WRITE),
        upload_limit=uploads.upload_limit(page.app),
        max_files=uploads.MAX_FILES,
    )


@router.get("/conversations/{conversation_id}")
def conversation_page(request: Request, conversation_id: str, notice: str = "", macro: str = "") -> Response:
    page = signed_in(request, Perm.CONVERSATIONS_READ)
    if isinstance(page, Response):
        return page
    return thread_page(page, conversation_id, notice=NOTICES.get(notice), macro_id=macro.strip())


@router.post("/conversations/{conversation_id}/reply")
def reply_submit(
    request: Request,
    conversation_id: str,
    text: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    channel_id: Annotated[str, Form()] = "",
    status: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    files: Annotated[list[UploadFile], File()] = [],  # noqa: B006 -- FastAPI copies defaults per request
) -> Response:
    page = checked(request, Perm.CONVERSATIONS_WRITE, csrf)
    if isinstance(page, Response):
        return page
    is_note = note == "on"
    form = {"text": text, "channel_id": channel_id, "status": status, "note": "on" if is_note else ""}
    if len(text) > 100_000:
        return thread_page(
            page, conversation_id, status=422, form=form, errors={"reply-text": "At most 100,000 characters."}
        )
    got = uploads.check_uploads(page.app, files)
    if got.error:
        return thread_page(page, conversation_id, status=422, form=form, errors={"reply-files": got.error})
    if not text.strip() and not got.files:
        return thread_page(
            page, conversation_id, status=422, form=form, errors={"reply-text": "Write something first."}
        )
    chosen = (channel_id.strip()[:MAX_ID] or None) if not is_note else None
    if got.files and not is_note:
        carried = _carry_files(page, conversation_id[:MAX_ID], chosen, text, got.files)
        if isinstance(carried, str):
            return thread_page(page, conversation_id, status=422, form=form, errors={"reply-files": carried})
        chosen, text = carried
    try:
        perform(
            page.app,
            page.actor,
            actions.add_message,
            conversation_id[:MAX_ID],
            text=text,
            note=is_note,
            channel_id=chosen,
            files=got.files,
            status=status.strip() or None,
        )
    except ActionError as exc:
        if exc.field == "conversation_id" and exc.status == 404:
            return _not_found(page, conversation_id)
        return thread_page(page, conversation_id, status=exc.status, form=form, errors=_refusal("reply", exc))
    return redirect(f"/conversations/{conversation_id}?notice={'noted' if is_note else 'sent'}#thread-end")


def _carry_files(
    page: Page, conversation_id: str, channel_id: str | None, text: str, files: list[StoredFile]
) -> tuple[str | None, str] | str:
    """(channel, text) for a reply with files, or why that channel cannot carry them. With no channel
    chosen the one the page offers first (the last used) is named, so the check and the send agree."""
    with page.app.db.read() as s:
        names = data.lookups(s)
        if channel_id is None:
            try:
                conv = conversations.get_conversation(s, conversation_id)
            except ActionError:
                return channel_id, text  # the action says what is wrong with the conversation
            offered = sorted(conv["reachable_channels"], key=lambda c: not c["last_used"])
            channel_id = offered[0]["id"] if offered else None
    kind = names.channel_type(channel_id)
    if not kind or kind in uploads.FILE_CHANNELS:
        return channel_id, text  # an unknown channel is the action's to refuse
    if kind in uploads.LINK_CHANNELS:
        return channel_id, uploads.with_links(
            page.app, uploads.public_base(page.request, page.app), text, files
        )
    return f"{kind} replies cannot carry files; send them by email or chat, or attach them to a note."


def _tags(text: str) -> list[str]:
    return [t for t in text.replace(",", " ").split() if t]


@router.post("/conversations/{conversation_id}/update")
def update_submit(
    request: Request,
    conversation_id: str,
    which: Annotated[str, Form()] = "",
    assignee_id: Annotated[str, Form()] = "",
    team_id: Annotated[str, Form()] = "",
    status: Annotated[str, Form()] = "",
    priority: Annotated[str, Form()] = "",
    tags: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    page = checked(request, Perm.CONVERSATIONS_WRITE, csrf)
    if isinstance(page, Response):
        return page
    # Each small form says which field it changes (``which``): an empty value then has a meaning
    # (no tags), where a missing one would be indistinguishable from "leave it alone".
    changes: dict[str, Any] = {}
    if which == "assign":
        who = assignee_id.strip()[:MAX_ID]
        changes["assignee_id"] = page.actor.id if who == "me" else (None if who in ("", "none") else who)
    elif which == "team":
        team = team_id.strip()[:MAX_ID]
        changes["team_id"] = None if team in ("", "none") else team
    elif which == "status":
        changes["status"] = status.strip()
    elif which == "priority":
        changes["priority"] = priority.strip()
    elif which == "tags":
        changes["tags"] = _tags(tags)
        if len(changes["tags"]) > 50:
            return thread_page(page, conversation_id, status=422, errors={"update-tags": "At most 50 tags."})
    else:
        return thread_page(page, conversation_id, status=422, errors={"update-form": "Nothing to change."})
    if changes.get("team_id") is not None:
        with page.app.db.read() as s:
            if changes["team_id"] not in data.lookups(s).teams:
                return thread_page(
                    page, conversation_id, status=422, errors={"update-team_id": "No such team."}
                )
    try:
        perform(
            page.app,
            page.actor,
            conversation_changes.update_conversation,
            conversation_id[:MAX_ID],
            **changes,
        )
    except ActionError as exc:
        if exc.field == "conversation_id" and exc.status == 404:
            return _not_found(page, conversation_id)
        return thread_page(page, conversation_id, status=exc.status, errors=_refusal("update", exc))
    return redirect(f"/conversations/{conversation_id}?notice=updated")


@router.post("/conversations/{conversation_id}/escalate")
def escalate_submit(
    request: Request,
    conversation_id: str,
    reason: Annotated[str, Form()] = "",
    to_team: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    page = checked(request, Perm.CONVERSATIONS_WRITE, csrf)
    if isinstance(page, Response):
        return page
    form = {"esc_reason": reason, "to_team": to_team}
    if not reason.strip() or len(reason) > 2000:
        message = "Say why it needs a higher tier." if not reason.strip() else "At most 2,000 characters."
        return thread_page(page, conversation_id, status=422, form=form, errors={"escalate-reason": message})
    try:
        perform(
            page.app,
            page.actor,
            escalate,
            conversation_id[:MAX_ID],
            reason,
            now_of(page.app),
            to_team=to_team.strip()[:MAX_ID] or None,
        )
    except ActionError as exc:
        if exc.field == "conversation_id" and exc.status == 404:
            return _not_found(page, conversation_id)
        return thread_page(
            page, conversation_id, status=exc.status, form=form, errors=_refusal("escalate", exc)
        )
    return redirect(f"/conversations/{conversation_id}?notice=escalated")


def _minor_units(amount: str) -> int | None:
    """'120', '120.5', '120.50' -> 12050. Amounts are entered in the currency's major unit with at most
    two decimals (the demo and the limits are in EUR/GBP/USD cents)."""
    try:
        value = decimal.Decimal(amount.strip().replace(",", ""))
    except decimal.InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -2 or value > 10**13:  # type: ignore[operator]
        return None
    return int(value * 100)


@router.post("/conversations/{conversation_id}/approval")
def approval_submit(
    request: Request,
    conversation_id: str,
    kind: Annotated[str, Form()] = "",
    amount: Annotated[str, Form()] = "",
    currency: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    page = checked(request, Perm.CONVERSATIONS_WRITE, csrf)
    if isinstance(page, Response):
        return page
    form = {"kind": kind, "amount": amount, "currency": currency, "apr_reason": reason}
    problems: dict[str, str] = {}
    if kind not in APPROVAL_KINDS:
        problems["approval-kind"] = f"One of {', '.join(APPROVAL_KINDS)}."
    minor = _minor_units(amount)
    if minor is None:
        problems["approval-amount"] = "An amount such as 120 or 120.50 (at most two decimals)."
    cur = currency.strip().upper()
    if len(cur) != 3 or not cur.isascii() or not cur.isalpha():
        problems["approval-currency"] = "A three-letter currency code, such as EUR."
    if not reason.strip() or len(reason) > 2000:
        problems["approval-reason"] = "Say why (at most 2,000 characters)."
    if problems:
        return thread_page(page, conversation_id, status=422, form=form, errors=problems)
    assert minor is not None
    try:
        perform(
            page.app,
            page.actor,
            request_approval,
            conversation_id[:MAX_ID],
            kind,
            minor,
            cur,
            reason,
            None,
            now_of(page.app),
        )
    except ActionError as exc:
        if exc.field == "conversation_id" and exc.status == 404:
            return _not_found(page, conversation_id)
        return thread_page(
            page, conversation_id, status=exc.status, form=form, errors=_refusal("approval", exc)
        )
    return redirect(f"/conversations/{conversation_id}?notice=requested")
