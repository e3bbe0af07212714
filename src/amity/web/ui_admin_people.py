"""Admin pages for people: sign-in accounts (email, name, role, password) and agent profiles
(tier, skills, capacity, availability)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from amity.accounts import totp
from amity.accounts.actions import create_user, disable_user, enable_user
from amity.accounts.models import User
from amity.accounts.roles import Perm, Role
from amity.core.actions import ActionContext, ActionError, perform
from amity.service import people
from amity.service.models import AgentProfile, Tier
from amity.service.schemas import AgentPatch
from amity.service.sla import now_of
from amity.web.ui_admin_crud import not_found
from amity.web.ui_admin_kit import (
    Button,
    Errors,
    Field,
    Form,
    Row,
    admin_page,
    attempt,
    names,
    optional,
    parse_skills,
    posted,
    skills_text,
    status_of,
    text,
    validate,
    whole,
)
from amity.web.ui_admin_teams import ANSWERING, AVAILABILITY, tier_options
from amity.web.ui_base import Page, redirect, render, signed_in

router = APIRouter(include_in_schema=False)
PERM = Perm.SERVICE_MANAGE


# ---- people and agent profiles --------------------------------------------------------------------------
USER_FIELDS = [
    Field("email", "Email", placeholder="ana@example.com"),
    Field("name", "Name", placeholder="Ana Silva"),
    Field(
        "role",
        "Role",
        "select",
        [(r.value, r.value) for r in Role if r is not Role.INTEGRATION],
        hint="Agents answer; supervisors also approve and merge; admins set Amity up",
    ),
    Field("password", "Password", "password", hint="At least 10 characters; they sign in with it"),
]
EMPTY_USER: Form = {"email": "", "name": "", "role": "agent", "password": ""}


def _people_page(
    page: Page,
    form: Form | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Response:
    with page.app.db.read() as s:
        rows = []
        for u in s.scalars(select(User).order_by(User.email)):
            p = s.get(AgentProfile, u.id)
            tier = s.get(Tier, p.tier_id) if p and p.tier_id else None
            rows.append(
                Row(
                    [
                        u.email,
                        u.name or "—",
                        u.role,
                        tier.name if tier else "—",
                        p.availability if p else "—",
                        "no cap" if not p or p.capacity is None else str(p.capacity),
                    ],
                    href=f"/admin/people/{u.id}",
                    muted=u.disabled_at is not None,
                )
            )
    return admin_page(
        page,
        "admin_list.html",
        status,
        title="People",
        intro="Everyone who signs in, and how work reaches those who answer customers.",
        list_title=f"{len(rows)} people",
        columns=["Email", "Name", "Role", "Tier", "Availability", "Capacity"],
        rows=rows,
        empty="Nobody yet.",
        form_title="Add a person",
        fields=USER_FIELDS,
        form=form or dict(EMPTY_USER),
        errors=errors or {},
        action="/admin/people",
        submit="Add person",
        notice=notice,
    )


@router.get("/admin/people")
def people_page(request: Request, notice: str = "") -> Response:
    page = signed_in(request, PERM)
    if isinstance(page, Response):
        return page
    return _people_page(page)


@router.post("/admin/people")
async def people_submit(request: Request) -> Response:
    page, form = await posted(request, PERM)
    if isinstance(page, Response):
        return page
    errors = Errors()
    if len(text(form, "name")) > 200:
        errors["name"] = "At most 200 characters."
    user = (
        None
        if errors
        else attempt(
            page,
            names(USER_FIELDS),
            errors,
            create_user,
            text(form, "email"),
            str(form.get("password", "")),
            text(form, "role"),
            text(form, "name"),
        )
    )
    if user is None:
        form["password"] = ""  # a password is never sent back to the browser, even a refused one
        return _people_page(page, form, errors, status_of(errors))
    return redirect(f"/admin/people/{user.id}?notice=created")


def _agent_fields(page: Page) -> list[Field]:
    return [
        Field("tier_id", "Tier", "select", tier_options(page)),
        Field(
            "skills",
            "Skills",
            "textarea",
            rows=3,
            placeholder="language: en, pt\nproduct: shoes",
            hint="One per line: skill: value, value (skill in lower_snake_case). Skill routing matches these.",
        ),
        Field("capacity", "Capacity", "number", hint="Most open conversations at once; empty for no cap"),
        Field("availability", "Availability", "select", AVAILABILITY),
    ]


def _person_page(
    page: Page,
    user: User,
    form: Form | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Response:
    if form is None:
        with page.app.db.read() as s:
            p = s.get(AgentProfile, user.id)
        form = {
            "tier_id": (p.tier_id or "") if p else "",
            "skills": skills_text(p.skills) if p else "",
            "capacity": "" if p is None or p.capacity is None else str(p.capacity),
            "availability": p.availability if p else "offline",
        }
    answers = user.role in ANSWERING
    with page.app.db.read() as s:
        two_factor = totp.enabled(s, user.id)
    return admin_page(
        page,
        "admin_edit.html",
        status,
        title=user.name or user.email,
        intro=f"{user.email} · {user.role} · {user.id}"
        + (" · disabled" if user.disabled_at else "")
        + (" · two-factor on" if two_factor else ""),
        back=("/admin/people", "People"),
        form_title="Agent profile",
        fields=_agent_fields(page) if answers else [],
        form=form,
        errors=errors or {},
        action=f"/admin/people/{user.id}",
        submit="Save profile",
        buttons=_account_buttons(page, user, two_factor),
        notice=notice,
    )


def _account_buttons(page: Page, user: User, two_factor: bool) -> list[Button]:
    if not page.can(Perm.ACCOUNTS_MANAGE):
        return []
    base = f"/admin/people/{user.id}"
    buttons = []
    if two_factor:
        buttons.append(
            Button(
                f"{base}/two-factor/reset", "Reset two-factor", confirm="Turn their two-factor sign-in off?"
            )
        )
    if user.disabled_at is None:
        buttons.append(
            Button(
                f"{base}/disable",
                "Disable",
                danger=True,
                confirm=f"Disable {user.email}? They are signed out and their API tokens stop working.",
            )
        )
    else:
        buttons.append(Button(f"{base}/enable", "Enable"))
    return buttons


def _user(page: Page, user_id: str) -> User | None:
    with page.app.db.read() as s:
        return s.get(User, user_id)


@router.get("/admin/people/{user_id}")
def person_page(request: Request, user_id: str, notice: str = "") -> Response:
    page = signed_in(request, PERM)
    if isinstance(page, Response):
        return page
    user = _user(page, user_id)
    if user is None:
        return not_found(page, f"There is nobody with id {user_id}.")
    message = {
        "created": "Person added. Set their tier and skills below.",
        "saved": "Profile saved.",
        "disabled": "Disabled: they are signed out everywhere and cannot sign in.",
        "enabled": "Enabled: they can sign in again.",
        "two-factor-reset": "Two-factor sign-in is off for them; they can set it up again.",
    }
    return _person_page(page, user, notice=message.get(notice))


@router.post("/admin/people/{user_id}")
async def person_submit(request: Request, user_id: str) -> Response:
    page, form = await posted(request, PERM)
    if isinstance(page, Response):
        return page
    user = _user(page, user_id)
    if user is None:
        return not_found(page, f"There is nobody with id {user_id}.")
    fields = names(_agent_fields(page))
    errors = Errors()
    data = {
        "tier_id": optional(form, "tier_id"),
        "skills": parse_skills(form, "skills", errors, many=True),
        "capacity": whole(form, "capacity", errors),
        "availability": text(form, "availability"),
    }
    body = validate(AgentPatch, data, fields, errors)
    done = (
        None
        if body is None
        else attempt(
            page,
            fields,
            errors,
            people.update_agent,
            user_id,
            body.model_dump(exclude_unset=True),
            now_of(page.app),
        )
    )
    if done is None:
        return _person_page(page, user, form, errors, status_of(errors))
    return redirect(f"/admin/people/{user_id}?notice=saved")


ACCOUNT_ACTIONS = {
    "disable": (disable_user, "disabled"),
    "enable": (enable_user, "enabled"),
}


@router.post("/admin/people/{user_id}/{what}")
async def person_account(request: Request, user_id: str, what: str) -> Response:
    """Disable, enable, or reset two-factor (``two-factor/reset`` is routed below)."""
    page, _ = await posted(request, Perm.ACCOUNTS_MANAGE)
    if isinstance(page, Response):
        return page
    if what not in ACCOUNT_ACTIONS:
        return not_found(page, "There is no such action.")
    fn, done = ACCOUNT_ACTIONS[what]
    return _account_action(page, user_id, fn, done)


@router.post("/admin/people/{user_id}/two-factor/reset")
async def person_two_factor_reset(request: Request, user_id: str) -> Response:
    page, _ = await posted(request, Perm.ACCOUNTS_MANAGE)
    if isinstance(page, Response):
        return page
    return _account_action(page, user_id, totp.reset, "two-factor-reset")


def _account_action(
    page: Page, user_id: str, fn: Callable[[ActionContext, str], object], done: str
) -> Response:
    user = _user(page, user_id)
    if user is None:
        return not_found(page, f"There is nobody with id {user_id}.")
    try:
        perform(page.app, page.actor, fn, user_id)
    except ActionError as exc:
        return render(
            page.request, "error.html", exc.status, page=page, title="Not done", message=exc.message
        )
    return redirect(f"/admin/people/{user_id}?notice={done}")
