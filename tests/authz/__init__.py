"""Who may call what, written from docs/api.md (not imported from accounts/roles.py), one file per
capability so each capability's table sits beside the others without one file everyone edits.

Each module defines ``ALLOWED`` ((method, path) -> roles) and may define ``PUBLIC`` (answer without
credentials on purpose) and ``SIGNED`` (webhooks that authenticate by a signature over the body, not by
a bearer token: without a valid signature they answer 401).
"""

from __future__ import annotations

import importlib
import pkgutil

ROLES = frozenset({"admin", "supervisor", "agent", "integration"})
ANY = ROLES
SIGNED_IN = frozenset({"*"})  # any caller who is who they say they are; no permission needed
STAFF = frozenset({"admin", "supervisor", "agent"})
ADMIN = frozenset({"admin"})
LEADS = frozenset({"admin", "supervisor"})

ALLOWED: dict[tuple[str, str], frozenset[str]] = {}
PUBLIC: set[tuple[str, str]] = set()
SIGNED: set[tuple[str, str]] = set()

for _info in pkgutil.iter_modules(__path__):
    _mod = importlib.import_module(f"{__name__}.{_info.name}")
    for _route, _roles in getattr(_mod, "ALLOWED", {}).items():
        assert _route not in ALLOWED, f"{_route} is in two authz tables"
        ALLOWED[_route] = _roles
    PUBLIC |= set(getattr(_mod, "PUBLIC", set()))
    SIGNED |= set(getattr(_mod, "SIGNED", set()))
