"""ASGI middleware: a request id on every request and log line, a hard cap on body size, security
headers on every answer (error pages and public pages too), and the access log of customer views."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from amity.core.actions import Actor, App, perform, request_id_var
from amity.privacy import access_log

log = logging.getLogger("amity.http")


# Console replies carrying files (multipart): the only bodies allowed past max_body.
UPLOAD_ROUTE = re.compile(r"^/conversations/[A-Za-z0-9_]{1,64}/reply$")


class RequestContext:
    def __init__(self, app: ASGIApp, max_body: int, max_upload: int | None = None) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max(max_upload or max_body, max_body)

    def _cap(self, scope: Scope, headers: dict[bytes, bytes]) -> int:
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
        if multipart and scope.get("method") == "POST" and UPLOAD_ROUTE.match(scope.get("path", "")):
            return self.max_upload
        return self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        cap = self._cap(scope, headers)
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = given if 0 < len(given) <= 64 and given.isprintable() else uuid.uuid4().hex
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 500
        try:
            nul_field = _nul_in_url(scope)
            if nul_field is not None:
                # PostgreSQL cannot compare text with U+0000; refuse it here for every route at once.
                status = 422
                await _reject(send, rid, 422, "must not contain a NUL (%00) character", nul_field, "invalid")
                return
            length = headers.get(b"content-length")
            if length is not None and (not length.isdigit() or int(length) > cap):
                status = 413
                await _reject(send, rid, 413, f"body larger than {cap} bytes")
                return
            app_receive = receive
            if length is None and scope.get("method") in ("POST", "PUT", "PATCH", "DELETE"):
                # A chunked body announces no size: read it here, up to the cap, so an oversized one
                # is a 413 naming the body rather than a parse error somewhere inside the route.
                buffered = await _read_capped(receive, cap)
                if buffered is None:
                    status = 413
                    await _reject(send, rid, 413, f"body larger than {cap} bytes")
                    return
                app_receive = _replay(buffered, receive)
            received = 0

            async def limited_receive() -> Message:
                nonlocal received
                msg = await app_receive()
                if msg["type"] == "http.request":
                    received += len(msg.get("body", b""))
                    if received > cap:
                        raise _TooLarge
                return msg

            refused = False

            async def send_with_id(msg: Message) -> None:
                nonlocal status, refused
                if refused:
                    return  # the view could not be logged, so its body is not sent (see below)
                if msg["type"] == "http.response.start":
                    status = msg["status"]
                    if 200 <= status < 300 and not await _log_view(scope, rid):
                        # Fail closed: customer data nobody can account for is not shown.
                        refused, status = True, 503
                        await _reject(
                            send, rid, 503, "the access log is unavailable; try again", code="unavailable"
                        )
                        return
                    msg["headers"] = _with_security_headers(
                        [*msg.get("headers", []), (b"x-request-id", rid.encode())], scope.get("path", "")
                    )
                await send(msg)

            try:
                await self.app(scope, limited_receive, send_with_id)
            except _TooLarge:
                status = 413
                await _reject(send, rid, 413, f"body larger than {cap} bytes")
        finally:
            log.info(
                "%s %s %s",
                scope.get("method"),
                scope.get("path"),
                status,
                extra={"status": status, "duration_ms": round((time.perf_counter() - started) * 1000, 2)},
            )
            request_id_var.reset(token)


class _TooLarge(Exception):
    pass


async def _read_capped(receive: Receive, cap: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        msg = await receive()
        if msg["type"] != "http.request":
            break
        chunk = msg.get("body", b"")
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
        if not msg.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: http.disconnect, as the server reports it

    return replay


def _nul_in_url(scope: Scope) -> str | None:
    """The name of the URL part (``path`` or a query parameter) that holds a NUL, if any."""
    if "\x00" in scope.get("path", ""):
        return "path"
    qs: bytes = scope.get("query_string", b"")
    if b"%00" in qs or b"\x00" in qs:
        for name, value in parse_qsl(qs.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                return name.replace("\x00", "") or "query"
    return None


async def _reject(
    send: Send, rid: str, status: int, message: str, field: str = "body", code: str = "too_large"
) -> None:
    body: dict[str, Any] = {
        "error": code,
        "message": f"{field}: {message}" if field != "body" else message,
        "errors": [{"field": field, "message": message}],
    }
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": _with_security_headers(
                [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"x-request-id", rid.encode()),
                ],
                "",
            ),
        }
    )
    await send({"type": "http.response.body", "body": payload})


# ---- security headers ----------------------------------------------------------------------------
# Pages set their own (amity.web.ui_base.SECURITY_HEADERS); these fill in what a response lacks, so
# error pages, the public pages and JSON get them too. A page that needs another policy (the public
# pages name the widget's origins) sets its own header, which wins.
HTML_HEADERS = {
    b"content-security-policy": (
        b"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        b"form-action 'self'; frame-ancestors 'none'"
    ),
    b"x-frame-options": b"DENY",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",
}
# JSON is never a document to render or frame; and API answers carry customer data.
JSON_HEADERS = {
    b"content-security-policy": b"default-src 'none'; frame-ancestors 'none'",
    b"x-frame-options": b"DENY",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"cache-control": b"no-store",
}
OTHER_HEADERS = {b"x-content-type-options": b"nosniff"}
# FastAPI's interactive docs load Swagger UI / ReDoc with inline script; they hold no customer data.
DOC_PAGES = ("/docs", "/redoc")


def _with_security_headers(headers: list[tuple[bytes, bytes]], path: str) -> list[tuple[bytes, bytes]]:
    have = {k.lower() for k, _ in headers}
    ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"").lower()
    if ctype.startswith(b"text/html"):
        wanted = dict(HTML_HEADERS)
        if path.startswith(DOC_PAGES):
            wanted.pop(b"content-security-policy")
    elif b"json" in ctype:
        wanted = JSON_HEADERS
    else:
        wanted = OTHER_HEADERS
    return headers + [(k, v) for k, v in wanted.items() if k not in have]


# ---- the access log ------------------------------------------------------------------------------
async def _log_view(scope: Scope, rid: str) -> bool:
    """Record the view if this answer shows one of the watched routes; False if that failed."""
    hit = access_log.match(scope.get("method", ""), scope.get("path", ""))
    if hit is None:
        return True
    watched, subject_id = hit
    asgi_app = scope.get("app")
    amity: App | None = getattr(getattr(asgi_app, "state", None), "amity", None)
    if amity is None:
        return True
    try:
        await run_in_threadpool(_record, amity, scope, watched, subject_id, rid)
    except Exception:
        log.exception("could not write the access log for %s", scope.get("path"))
        return False
    return True


def _record(amity: App, scope: Scope, watched: access_log.Watched, subject_id: str, rid: str) -> None:
    from amity.web.auth import identify  # the auth layer imports this package's neighbours

    headers = Headers(scope=scope)
    who = identify(amity, headers, cookie_parser(headers.get("cookie", "")))
    # A 2xx from a watched route means the caller was let in; if they cannot be named again now
    # (their session ended in between) the view is still recorded.
    actor = who[0] if who else Actor(kind="unknown", id="unknown", role="none")
    route = f"{watched.method} {watched.template}"
    perform(amity, actor, access_log.record_view, watched.subject_type, subject_id, route, rid)
