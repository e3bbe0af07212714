"""Restriction of processing (GDPR art. 18), carried out through the consent ledger.

Restricting means Amity keeps the data but uses it for nothing beyond serving the person's own
requests: every purpose except ``service`` gets a withdrawal on all channels, so the one send policy
and the profiling checks that ask the consent layer stop at once, and the history shows why.
"""

from __future__ import annotations

from amity.core.actions import ActionContext, Actor, App, perform

KEEP = frozenset({"service"})


def _withdraw_all(ctx: ActionContext, customer_id: str, source: str) -> list[str]:
    from amity.consent import actions as consent
    from amity.consent import purposes

    done = []
    for key in purposes.catalogue(ctx.session):
        if key in KEEP:
            continue
        consent.record_consent(
            ctx, customer_id, purpose=key, status="withdrawn", lawful_basis="consent", source=source
        )
        done.append(key)
    return done


def restrict(app: App, actor: Actor, ids: list[str], request_id: str, source: str = "agent") -> list[str]:
    return perform(app, actor, _withdraw_all, ids[0], source)
