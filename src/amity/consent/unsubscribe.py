"""One-click unsubscribe (RFC 8058) from marketing email: a signed link that writes a withdrawal.

Marketing email carries ``List-Unsubscribe: <https://…/unsubscribe/TOKEN>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``. A mail provider POSTs to the URL without
cookies or a prompt (that POST is the unsubscribe); a person who opens the link gets a page with one
button that POSTs the same. The token is signed with the app secret (itsdangerous), names the customer,
the purpose and the channel type, and expires; a tampered or expired one gets a plain page that says
so and discloses nothing (no name, no address, not even whether the person exists).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from amity.consent import actions, queries, state
from amity.consent.links import read_token
from amity.core.actions import SYSTEM, ActionError, App, perform
from amity.web.auth import app_of

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


def withdraw(app: App, claim: dict[str, str]) -> None:
    """Append a withdrawal unless the person is already withdrawn there (providers retry POSTs)."""
    try:
        with app.db.read() as s:
            current = state.latest(queries.entries(s, _people(s, claim["customer_id"]), claim["purpose"]))
        eff = state.effective(current, claim["purpose"], claim["channel"])
        if eff is not None and eff.status != "granted":
            return
        perform(
            app,
            SYSTEM,
            actions.record_consent,
            claim["customer_id"],
            purpose=claim["purpose"],
            status="withdrawn",
            lawful_basis="consent",
            source="email_link",
            channel=claim["channel"],
        )
    except ActionError as exc:
        # An erased customer or a purpose that no longer exists: nothing to withdraw, and the person
        # clicking must not learn which (the page says the same as for a real withdrawal).
        log.info("unsubscribe link for nothing withdrawable: %s", exc.message)


def _people(s: Any, customer_id: str) -> list[str]:
    from amity.customers import queries as customers

    return customers.profile_ids(s, customer_id)


def _page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    from amity.web.ui_base import render
    from amity.web.ui_public import site

    here = site(request, app_of(request))
    version = hashlib.sha256(repr(sorted(here.look.colours.items())).encode()).hexdigest()[:12]
    resp = render(
        request, template, status, look=here.look, chat_channel_id=None, css_v=version, nav="", **context
    )
    return resp


def _invalid(request: Request) -> Response:
    return _page(
        request, "consent_unsubscribe.html", 400, title="Link not valid", outcome="invalid", token=""
    )


@router.get("/unsubscribe/{token}")
async def unsubscribe_page(token: str, request: Request) -> Response:
    app = app_of(request)
    if read_token(app, token) is None:
        return await run_in_threadpool(_invalid, request)
    return await run_in_threadpool(
        _page, request, "consent_unsubscribe.html", title="Unsubscribe", outcome="confirm", token=token
    )


@router.post("/unsubscribe/{token}")
async def unsubscribe_post(token: str, request: Request) -> Response:
    """The one-click POST (body ``List-Unsubscribe=One-Click``) and the confirm page's button alike."""
    app = app_of(request)
    claim = read_token(app, token)
    if claim is None:
        return await run_in_threadpool(_invalid, request)
    await run_in_threadpool(withdraw, app, claim)
    return await run_in_threadpool(
        _page, request, "consent_unsubscribe.html", title="Unsubscribed", outcome="done", token=""
    )
