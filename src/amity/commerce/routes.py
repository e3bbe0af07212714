"""Every route of the capability in one router: the loading API, the agent actions, the card's forms."""

from __future__ import annotations

from fastapi import APIRouter

from amity.commerce import api, api_actions, ui

router = APIRouter()
router.include_router(api.router)
router.include_router(api_actions.router)
router.include_router(ui.router)
