"""Who may open which page (docs/ui.md, docs/admin.md, docs/security.md): the console, admin pages,
signing in and the public pages. tests/test_ui_auth_matrix.py reads every ``tests/authz/ui_*.py``:

- ``UI_ALLOWED`` ((method, path) -> roles among admin, supervisor, agent; SIGNED_IN for anyone
  signed in): the others get the 403 page, and nobody signed in is sent to /login.
- ``UI_PUBLIC``: answers without a session on purpose (sign-in, the widget, help and privacy pages,
  signed links); each one says why in a comment. A public POST must still refuse a form without its
  CSRF token (400 or 403) unless it is in
- ``UI_NO_CSRF`` ((method, path) -> why): a POST that takes no CSRF token by design (RFC 8058
  one-click unsubscribe, where a mail client posts with the token in the URL as the credential).

Pages are for people: an API token (even an admin's) opens none of them.
"""

from __future__ import annotations

from tests.authz import ADMIN, LEADS, SIGNED_IN, STAFF


def _crud(path: str) -> dict[tuple[str, str], frozenset[str]]:
    return {
        ("GET", f"/admin/{path}"): ADMIN,
        ("POST", f"/admin/{path}"): ADMIN,
        ("GET", f"/admin/{path}/{{key}}"): ADMIN,
        ("POST", f"/admin/{path}/{{key}}"): ADMIN,
        ("POST", f"/admin/{path}/{{key}}/delete"): ADMIN,
    }


UI_ALLOWED: dict[tuple[str, str], frozenset[str]] = {
    # the console
    ("GET", "/inbox"): STAFF,
    ("GET", "/inbox/rows/{conversation_id}"): STAFF,
    ("GET", "/inbox/counts"): STAFF,
    ("GET", "/conversations/{conversation_id}"): STAFF,
    ("POST", "/conversations/{conversation_id}/reply"): STAFF,
    ("POST", "/conversations/{conversation_id}/update"): STAFF,
    ("POST", "/conversations/{conversation_id}/escalate"): STAFF,
    ("POST", "/conversations/{conversation_id}/approval"): STAFF,
    # Supervisors decide; so do agents whose tier may approve (tests/test_ui_console.py), not others.
    ("GET", "/approvals"): LEADS,
    ("POST", "/approvals/{approval_id}/decide"): LEADS,
    # customers and the trait schema
    ("GET", "/customers"): STAFF,
    ("GET", "/customers/{customer_id}"): STAFF,
    ("GET", "/customers/{customer_id}/traits"): STAFF,
    ("POST", "/customers/{customer_id}/merge"): LEADS,
    ("POST", "/merges/{merge_id}/undo"): LEADS,
    ("GET", "/traits"): STAFF,
    ("POST", "/traits"): ADMIN,
    # a person's own account
    ("POST", "/logout"): SIGNED_IN,
    ("GET", "/account/security"): SIGNED_IN,
    ("POST", "/account/security/totp"): SIGNED_IN,
    ("POST", "/account/security/totp/confirm"): SIGNED_IN,
    # admin pages
    ("GET", "/admin"): ADMIN,
    ("GET", "/admin/channels"): ADMIN,
    ("GET", "/admin/channels/new"): ADMIN,
    ("POST", "/admin/channels/new"): ADMIN,
    ("GET", "/admin/channels/{channel_id}"): ADMIN,
    ("POST", "/admin/channels/{channel_id}"): ADMIN,
    ("POST", "/admin/channels/{channel_id}/enable"): ADMIN,
    ("POST", "/admin/channels/{channel_id}/disable"): ADMIN,
    **_crud("tiers"),
    **_crud("teams"),
    ("POST", "/admin/teams/{team_id}/members"): ADMIN,
    ("POST", "/admin/teams/{team_id}/members/{user_id}/remove"): ADMIN,
    ("GET", "/admin/people"): ADMIN,
    ("POST", "/admin/people"): ADMIN,
    ("GET", "/admin/people/{user_id}"): ADMIN,
    ("POST", "/admin/people/{user_id}"): ADMIN,
    ("POST", "/admin/people/{user_id}/{what}"): ADMIN,  # disable, enable
    ("POST", "/admin/people/{user_id}/two-factor/reset"): ADMIN,
    **_crud("routing"),
    ("POST", "/admin/routing/{rule_id}/up"): ADMIN,
    ("POST", "/admin/routing/{rule_id}/down"): ADMIN,
    ("POST", "/admin/routing/{rule_id}/enable"): ADMIN,
    ("POST", "/admin/routing/{rule_id}/disable"): ADMIN,
    **_crud("sla"),
    **_crud("calendars"),
    **_crud("macros"),
    ("POST", "/admin/macros/preview"): ADMIN,
    ("POST", "/admin/macros/{macro_id}/preview"): ADMIN,
    **_crud("brands"),
    ("GET", "/admin/tokens"): ADMIN,
    ("POST", "/admin/tokens"): ADMIN,
    ("POST", "/admin/tokens/{token_id}/revoke"): ADMIN,
    ("GET", "/admin/webhooks"): ADMIN,
    ("POST", "/admin/webhooks"): ADMIN,
    ("GET", "/admin/webhooks/{webhook_id}"): ADMIN,
    ("POST", "/admin/webhooks/{webhook_id}"): ADMIN,
    ("POST", "/admin/webhooks/{webhook_id}/rotate"): ADMIN,
    ("POST", "/admin/webhooks/{webhook_id}/delete"): ADMIN,
    ("GET", "/admin/access-log"): ADMIN,
    ("GET", "/admin/access-log.csv"): ADMIN,
}

UI_PUBLIC: set[tuple[str, str]] = {
    ("GET", "/"),  # sends a visitor to /login and a signed-in person to the inbox
    # signing in, its second step, and the forgotten-password flow (CSRF by a signed nonce cookie)
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/login/code"),
    ("GET", "/login/forgot"),
    ("POST", "/login/forgot"),
    ("GET", "/login/reset"),
    ("POST", "/login/reset"),
    # what customers see: the widget, its channel settings, brand colours, help centre, privacy shell
    ("GET", "/widget.js"),
    ("GET", "/widget/channels/{channel_id}"),
    ("GET", "/public/brand.css"),
    ("GET", "/help"),
    ("GET", "/help/search"),
    ("GET", "/privacy"),
    # attachments by signed, expiring link (the link is the credential; a bad one is a 404)
    ("GET", "/files/{token}/{name}"),
}
