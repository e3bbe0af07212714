"""Every route of data-subject requests, retention and the preference centre, as one ``router``."""

from __future__ import annotations

from fastapi import APIRouter

from amity.privacy import api_requests, ui_centre, ui_console

router = APIRouter()
for _part in (api_requests.router, ui_centre.router, ui_console.router):
    router.include_router(_part)
