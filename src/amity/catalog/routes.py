"""The catalogue's routes as one router for the web app: the JSON API and the console's stock page."""

from __future__ import annotations

from fastapi import APIRouter

from amity.catalog.api import router as api_router
from amity.catalog.ui_panel import router as ui_router

router = APIRouter()
router.include_router(api_router)
router.include_router(ui_router)
