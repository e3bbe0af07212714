"""HTTP API of tiers, teams and their members, and agent profiles (docs/service-levels.md, "API")."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from amity.core.actions import Invalid, perform
from amity.service import people
from amity.service.api_common import (
    AppDep,
    Limit,
    Manager,
    Offset,
    Reader,
    Writer,
    created,
    deleted,
    listed,
    shown,
    updated,
)
from amity.service.models import AgentProfile, Team, Tier
from amity.service.schemas import AgentPatch, AvailabilityIn, TeamIn, TeamPatch, TierIn, TierPatch
from amity.service.sla import now_of
from amity.web.responses import Json

router = APIRouter(prefix="/api/v1", tags=["service: people"])


@router.get("/tiers", summary="Tiers, lowest level first")
def list_tiers(app: AppDep, _: Reader, limit: Limit = 50, offset: Offset = 0) -> Json:
    return listed(app, Tier, limit, offset)


@router.post("/tiers", status_code=201, summary="Add a tier with its authority limits")
def post_tier(body: TierIn, app: AppDep, actor: Manager) -> Json:
    return created(app, actor, people.create_tier, body, Tier)


@router.get("/tiers/{tier_id}", summary="One tier")
def get_tier(tier_id: str, app: AppDep, _: Reader) -> Json:
    return shown(app, Tier, tier_id)


@router.patch("/tiers/{tier_id}", summary="Rename, re-level, change limits or approving")
def patch_tier(tier_id: str, body: TierPatch, app: AppDep, actor: Manager) -> Json:
    return updated(app, actor, people.update_tier, tier_id, body, Tier)


@router.delete("/tiers/{tier_id}", status_code=204, summary="Remove a tier no team or agent is in")
def delete_tier(tier_id: str, app: AppDep, actor: Manager) -> Response:
    return deleted(app, actor, people.delete_tier, tier_id)


@router.get("/teams", summary="Teams with their members")
def list_teams(app: AppDep, _: Reader, limit: Limit = 50, offset: Offset = 0) -> Json:
    return listed(app, Team, limit, offset)


@router.post("/teams", status_code=201, summary="Add a team")
def post_team(body: TeamIn, app: AppDep, actor: Manager) -> Json:
    return created(app, actor, people.create_team, body, Team)


@router.get("/teams/{team_id}", summary="One team")
def get_team(team_id: str, app: AppDep, _: Reader) -> Json:
    return shown(app, Team, team_id)


@router.patch("/teams/{team_id}", summary="Rename, change tier or assignment strategy")
def patch_team(team_id: str, body: TeamPatch, app: AppDep, actor: Manager) -> Json:
    return updated(app, actor, people.update_team, team_id, body, Team)


@router.delete("/teams/{team_id}", status_code=204, summary="Remove a team with no live conversations")
def delete_team(team_id: str, app: AppDep, actor: Manager) -> Response:
    return deleted(app, actor, people.delete_team, team_id)


@router.put("/teams/{team_id}/members/{user_id}", summary="Add a member (idempotent)")
def put_member(team_id: str, user_id: str, app: AppDep, actor: Manager) -> Json:
    perform(app, actor, people.add_member, team_id, user_id, now_of(app))
    return shown(app, Team, team_id)


@router.delete("/teams/{team_id}/members/{user_id}", summary="Remove a member")
def delete_member(team_id: str, user_id: str, app: AppDep, actor: Manager) -> Json:
    perform(app, actor, people.remove_member, team_id, user_id)
    return shown(app, Team, team_id)


@router.get("/agents", summary="Agent profiles: tier, skills, capacity, availability")
def list_agents(app: AppDep, _: Reader, limit: Limit = 50, offset: Offset = 0) -> Json:
    return listed(app, AgentProfile, limit, offset)


@router.get("/agents/{user_id}", summary="One agent profile")
def get_agent(user_id: str, app: AppDep, _: Reader) -> Json:
    return shown(app, AgentProfile, user_id)


@router.patch("/agents/{user_id}", summary="Set tier, skills, capacity or availability (creates the profile)")
def patch_agent(user_id: str, body: AgentPatch, app: AppDep, actor: Manager) -> Json:
    return updated(app, actor, people.update_agent, user_id, body, AgentProfile)


@router.put("/me/availability", summary="Say whether you are online, away or offline")
def put_availability(body: AvailabilityIn, app: AppDep, actor: Writer) -> Json:
    if actor.kind != "user":
        raise Invalid("only a signed-in person has an availability", field="availability")
    perform(app, actor, people.set_availability, actor.id, body.availability, now_of(app))
    return shown(app, AgentProfile, actor.id)
