"""Every route of the consent capability, as the one ``router`` the web app includes."""

from __future__ import annotations

from fastapi import APIRouter

from amity.consent import api, ui, ui_admin, unsubscribe

router = APIRouter()
for _part in (api.router, ui.router, ui_admin.router, unsubscribe.router):
    router.include_router(_part)
