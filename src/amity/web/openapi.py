"""The OpenAPI document: FastAPI's, plus what it cannot infer from our hand-parsed routes.

``POST /api/v1/events`` parses its own body (one event or a batch, each item judged alone), so FastAPI
never sees ``EventIn``; we add its schema to the components. And every route but the public ones is
authenticated, which FastAPI only knows about when a security dependency is used, so the bearer scheme
is declared here once for the whole API.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from amity.customers.schemas import EventIn

BEARER = "bearerAuth"
# Answer without credentials: the load balancer's probe, and signing in.
PUBLIC_OPERATIONS = {("get", "/healthz"), ("post", "/api/v1/session")}
EXTRA_MODELS: list[type[BaseModel]] = [EventIn]


def install(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for model in EXTRA_MODELS:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
        doc["components"]["securitySchemes"] = {
            BEARER: {
                "type": "http",
                "scheme": "bearer",
                "description": "an API token from `amity token create`; people may use the session cookie",
            }
        }
        doc["security"] = [{BEARER: []}]
        for path, ops in doc.get("paths", {}).items():
            for method, op in ops.items():
                if (method, path) in PUBLIC_OPERATIONS:
                    op["security"] = []
        app.openapi_schema = doc
        return doc

    app.openapi = build  # type: ignore[method-assign]
