"""Admin pages for tiers (levels, authority limits, approving) and teams (tier, assignment
strategy, members)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from amity.accounts.models import User
from amity.accounts.roles import Perm
from amity.service import people
from amity.service.models import Team, TeamMember, Tier
from amity.service.schemas import TeamIn, TeamPatch, TierIn, TierPatch
from amity.service.sla import now_of
from amity.web.ui_admin_crud import Resource, edit_page, load, not_found, register
from amity.web.ui_admin_kit import (
    Errors,
    Field,
    Form,
    attempt,
    flag,
    listed,
    optional,
    posted,
    status_of,
    text,
    whole,
)
from amity.web.ui_base import Page, redirect

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
    errors = Errors()
    if attempt(page, ["user_id"], errors, fn, team_id, *args) is None and errors:
        status = status_of(errors)
        return edit_page(page, TEAMS, team, status=status, member_errors=errors)
    return redirect(f"/admin/teams/{team_id}?notice=saved")


register(router, TIERS)
register(router, TEAMS)
