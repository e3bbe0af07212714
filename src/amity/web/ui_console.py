"""The agent console: the inbox, one conversation with the customer beside it, and approvals.

A plug-in (``PLUG_INS`` in web/app.py): the app includes ``router``. The pages are split by concept:
``ui_console_inbox`` (views, counts, live row fragments), ``ui_console_conversation`` (the thread and
its forms), ``ui_console_approvals`` (deciding requests), ``ui_console_files`` (files in replies and
their chat links), ``ui_console_data`` (shared reads). Live updates and keyboard shortcuts are in
``static/console.js`` and ``static/console-keys.js``.
"""

from __future__ import annotations

from fastapi import APIRouter

from amity.web.ui_console_approvals import router as approvals_router
from amity.web.ui_console_conversation import router as conversation_router
from amity.web.ui_console_files import router as files_router
from amity.web.ui_console_inbox import router as inbox_router

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
router.include_router(inbox_router)
router.include_router(conversation_router)
router.include_router(approvals_router)
router.include_router(files_router)
