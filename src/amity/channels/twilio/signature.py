"""Twilio's webhook signature, as Twilio documents it (``X-Twilio-Signature``).

Twilio takes the full URL it requested (scheme, host, path and query string), appends every POST
parameter as ``name + value`` with the names in case-sensitive byte order (a repeated name contributes
each of its distinct values, sorted), signs that string with HMAC-SHA1 keyed by the account's Auth
Token and sends the base64 digest. Twilio's own validators accept the URL with and without the
default port (``:443``/``:80``) because Twilio has signed both forms; we accept both too.

Written here rather than imported from the ``twilio`` package: it is twenty lines, and the runtime
should not depend on a vendor SDK (the tests sign with Twilio's RequestValidator to prove we agree).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit, urlunsplit

HEADER = "X-Twilio-Signature"
_DEFAULT_PORTS = {"https": 443, "http": 80}


def compute(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    payload = url + "".join(name + v for name in sorted(values) for v in sorted(values[name]))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> list[str]:
    """The URL as given, without its port and with its default port."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets in a netloc
        host = f"[{host}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    bare = urlunsplit(SplitResult(parts.scheme, prefix + host, parts.path, parts.query, parts.fragment))
    ported = (
        urlunsplit(
            SplitResult(parts.scheme, f"{prefix}{host}:{port}", parts.path, parts.query, parts.fragment)
        )
        if port
        else bare
    )
    return list(dict.fromkeys([url, bare, ported]))


def valid(auth_token: str, url: str, params: list[tuple[str, str]], given: str | None) -> bool:
    if not given or not auth_token:
        return False
    expected = given.strip().encode()
    ok = False
    for candidate in _url_variants(url):
        # Every variant is compared (no early exit), so the time taken says nothing about which matched.
        ok |= hmac.compare_digest(compute(auth_token, candidate, params).encode(), expected)
    return ok
