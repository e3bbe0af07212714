"""Admin pages for people: tiers and their authority limits, teams and their members, sign-in accounts
and agent profiles (tier, skills, capacity, availability)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from amity.accounts.actions import create_user
from amity.accounts.models import User
from amity.accounts.roles import Perm, Role
from amity.service import people
from amity.service.models import AgentProfile, Team, TeamMember, Tier
from amity.service.schemas import AgentPatch, TeamIn, TeamPatch, TierIn, TierPatch
from amity.service.sla import now_of
from amity.web.ui_admin_crud import Resource, edit_page, load, not_found, register
from amity.web.ui_admin_kit import (
    Errors,
    Field,
    Form,
    Row,
    admin_page,
    attempt,
    flag,
    listed,
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
from amity.web.ui_base import Page, redirect, signed_in

router = APIRouter(include_in_schema=False)
PERM = Perm.SERVICE_MANAGE
ANSWERING = ("admin", "supervisor", "agent")  # roles that answer customers (accounts.assignable_user)
STRATEGIES = [
    ("round_robin", "Round robin"),
    ("least_loaded", "Least loaded"),
    ("skill", "By skill"),
    ("manual", "Manual (nobody is assigned automatically)"),
]
AVAILABILITY = [("online", "Online"), ("away", "Away"), ("offline", "Offline")]


def tier_options(page: Page) -> list[tuple[str, str]]:
    with page.app.db.read() as s:
        tiers = s.execute(select(Tier.id, Tier.name, Tier.level).order_by(Tier.level)).all()
    return [("", "— none —"), *((t.id, f"{t.name} (level {t.level})") for t in tiers)]


def people_options(page: Page) -> list[tuple[str, str]]:
    with page.app.db.read() as s:
        users = s.execute(
            select(User.id, User.email, User.name)
            .where(User.role.in_(ANSWERING), User.disabled_at.is_(None))
            .order_by(User.email)
        ).all()
    return [(u.id, f"{u.name} <{u.email}>" if u.name else u.email) for u in users]


# ---- tiers --------------------------------------------------------------------------------------------
LIMIT_LINE = re.compile(r"^\s*(\S+)\s+(\S+)\s+(\d{1,16})\s*$")


def limits_text(limits: dict[str, dict[str, int]]) -> str:
    return "\n".join(f"{kind} {cur} {amount}" for kind, by in limits.items() for cur, amount in by.items())


def parse_limits(form: Form, errors: Errors) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for n, line in enumerate(text(form, "limits").splitlines(), 1):
        if not line.strip():
            continue
        m = LIMIT_LINE.match(line)
        if m is None:
            errors["limits"] = f"Line {n}: write kind CURRENCY amount, e.g. refund EUR 10000 (minor units)."
            return {}
        out.setdefault(m.group(1), {})[m.group(2)] = int(m.group(3))
    return out


def _tier_fields(page: Page, row: Any) -> list[Field]:
    return [
        Field("name", "Name", placeholder="Tier 2"),
        Field("level", "Level", "number", hint="Higher is more senior; escalation goes up"),
        Field(
            "limits",
            "Authority limits",
            "textarea",
            rows=3,
            placeholder="refund EUR 10000",
            hint="One per line: kind (refund, credit, goodwill, other), currency, amount in minor units "
            "(cents). A request above the limit needs an approval.",
        ),
        Field("may_approve", "May approve requests from lower tiers", "checkbox"),
    ]


def _tier_parse(form: Form, errors: Errors) -> dict[str, Any]:
    return {
        "name": text(form, "name"),
        "level": whole(form, "level", errors, required=True),
        "limits": parse_limits(form, errors),
        "may_approve": flag(form, "may_approve"),
    }


TIERS = Resource(
    slug="tiers",
    title="Tiers",
    noun="tier",
    intro="Levels of seniority. Each says how much its people may refund or credit without an approval.",
    model=Tier,
    fields=_tier_fields,
    values=lambda t: {
        "name": t.name,
        "level": str(t.level),
        "limits": limits_text(t.limits),
        "may_approve": "on" if t.may_approve else "",
    },
    parse=_tier_parse,
    create_model=TierIn,
    patch_model=TierPatch,
    create=people.create_tier,
    update=people.update_tier,
    delete=people.delete_tier,
    columns=["Name", "Level", "Limits", "May approve"],
    cells=lambda s, t: [
        t.name,
        str(t.level),
        limits_text(t.limits).replace("\n", "; ") or "—",
        "yes" if t.may_approve else "no",
    ],
    empty_form={"name": "", "level": "", "limits": "", "may_approve": ""},
)


# ---- teams --------------------------------------------------------------------------------------------
def _team_fields(page: Page, row: Any) -> list[Field]:
    fields = [
        Field("name", "Name", placeholder="Returns"),
        Field("tier_id", "Tier", "select", tier_options(page), hint="The tier this team serves"),
        Field("strategy", "Assignment", "select", STRATEGIES, hint="How new work is shared out"),
    ]
    if row is None:  # members of an existing team are added and removed one at a time, on its page
        fields.append(Field("members", "Members", "checks", people_options(page)))
    return fields


def _team_parse(form: Form, errors: Errors) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": text(form, "name"),
        "tier_id": optional(form, "tier_id"),
        "strategy": text(form, "strategy"),
    }
    if members := listed(form, "members"):
        data["members"] = members
    return data


def _team_cells(s: Session, t: Team) -> list[str]:
    tier = s.get(Tier, t.tier_id) if t.tier_id else None
    count = len(s.scalars(select(TeamMember.user_id).where(TeamMember.team_id == t.id)).all())
    return [t.name, tier.name if tier else "—", dict(STRATEGIES).get(t.strategy, t.strategy), str(count)]


def _team_side(page: Page, team: Team) -> dict[str, Any]:
    with page.app.db.read() as s:
        members = s.execute(
            select(User.id, User.email, User.name, User.role)
            .join(TeamMember, TeamMember.user_id == User.id)
            .where(TeamMember.team_id == team.id)
            .order_by(User.email)
        ).all()
    inside = {m.id for m in members}
    candidates = [o for o in people_options(page) if o[0] not in inside]
    return {"team_id": team.id, "members": members, "candidates": candidates}


TEAMS = Resource(
    slug="teams",
    title="Teams",
    noun="team",
    intro="Queues of people. Routing rules send conversations to a team; its strategy picks the person.",
    model=Team,
    fields=_team_fields,
    values=lambda t: {"name": t.name, "tier_id": t.tier_id or "", "strategy": t.strategy},
    parse=_team_parse,
    create_model=TeamIn,
    patch_model=TeamPatch,
    create=people.create_team,
    update=people.update_team,
    delete=people.delete_team,
    columns=["Name", "Tier", "Assignment", "Members"],
    cells=_team_cells,
    empty_form={"name": "", "tier_id": "", "strategy": "round_robin", "members": []},
    multi=("members",),
    edit_template="admin_team.html",
    side=_team_side,
)


@router.post("/admin/teams/{team_id}/members")
async def add_member(request: Request, team_id: str) -> Response:
    page, form = await posted(request, PERM)
    if isinstance(page, Response):
        return page
    return _member_change(page, team_id, people.add_member, text(form, "user_id"), now_of(page.app))


@router.post("/admin/teams/{team_id}/members/{user_id}/remove")
async def remove_member(request: Request, team_id: str, user_id: str) -> Response:
    page, _ = await posted(request, PERM)
    if isinstance(page, Response):
        return page
    return _member_change(page, team_id, people.remove_member, user_id)


def _member_change(page: Page, team_id: str, fn: Any, *args: Any) -> Response:
    team = load(page, TEAMS, team_id)
    if team is None:
        return not_found(page, f"There is no team {team_id}.")
    errors: Errors = {}
    if attempt(page, ["user_id"], errors, fn, team_id, *args) is None and errors:
        status = status_of(errors)
        return edit_page(page, TEAMS, team, status=status, member_errors=errors)
    return redirect(f"/admin/teams/{team_id}?notice=saved")


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
    errors: Errors | None = None,
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
    errors: Errors = {}
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
    errors: Errors | None = None,
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
    return admin_page(
        page,
        "admin_edit.html",
        status,
        title=user.name or user.email,
        intro=f"{user.email} · {user.role} · {user.id}",
        back=("/admin/people", "People"),
        form_title="Agent profile",
        fields=_agent_fields(page) if answers else [],
        form=form,
        errors=errors or {},
        action=f"/admin/people/{user.id}",
        submit="Save profile",
        buttons=[],
        notice=notice,
    )


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
    message = {"created": "Person added. Set their tier and skills below.", "saved": "Profile saved."}
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
    errors: Errors = {}
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


register(router, TIERS)
register(router, TEAMS)
