"""The service capability's HTTP API, one router the web app includes as a plug-in."""

from __future__ import annotations

from fastapi import APIRouter

from amity.service.api_people import router as people
from amity.service.api_setup import router as setup
from amity.service.api_work import router as work

router = APIRouter()
router.include_router(people)
router.include_router(setup)
router.include_router(work)
