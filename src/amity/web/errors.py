"""Every error is JSON naming the problem, and nothing is ever answered with a bare 500 page."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from amity.core.actions import ActionError
from amity.web.responses import Json

log = logging.getLogger(__name__)


def error_body(code: str, message: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    return body


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "header")] or list(loc[:1])
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _validation_error(e: Any) -> dict[str, str]:
    if e.get("type") == "json_invalid":  # its loc is a character offset, not a field
        return {
            "field": "body",
            "message": f"the body is not valid JSON ({e['msg']} at character {e['loc'][-1]})",
        }
    return {"field": _loc(tuple(e["loc"])), "message": e["msg"]}


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Json:
        errs = [_validation_error(e) for e in exc.errors()]
        return Json(error_body("validation_error", "the request is not valid", errs), status_code=422)

    @app.exception_handler(ActionError)
    async def _action(_: Request, exc: ActionError) -> Json:
        errs = [{"field": exc.field, "message": exc.message}] if exc.field else None
        return Json(error_body(exc.code, exc.message, errs), status_code=exc.status)

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> Json:
        errs = [{"field": exc.field, "message": exc.message}] if exc.field else None
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return Json(error_body(exc.code, exc.message, errs), status_code=exc.status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Json:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}.get(
            exc.status_code, "http_error"
        )
        return Json(error_body(code, str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> Json:
        # perform() already retried a race; what is left is a uniqueness or reference the checks in
        # the action missed. It is the caller's conflict, not our crash (and logged so we add a check).
        log.warning("integrity error reached the edge: %s", str(exc.orig)[:300])
        return Json(error_body("conflict", "this conflicts with data that already exists"), status_code=409)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> Json:
        log.exception("unhandled error")
        return Json(error_body("internal_error", "something went wrong on our side; it is logged"), 500)
