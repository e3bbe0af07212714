"""Bodies that are one item or ``{"<key>": [items]}`` (products, locations): parsed here so a refusal
names the field of the form that was sent, not both forms of a union, and documented in the OpenAPI
document as exactly that choice."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from amity.web.errors import ApiError

M = TypeVar("M", bound=BaseModel)


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """The schema with every ``#/$defs/X`` reference replaced by X itself (our models are not recursive)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})
    return dict(_inline(schema, defs))


def one_or_many_body(one: type[BaseModel], many: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a route that takes either body."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"oneOf": [schema_of(one), schema_of(many)]}}},
        }
    }


async def parse(request: Request, key: str, one: type[M], many: type[BaseModel]) -> tuple[bool, Any]:
    """(is it the bulk form, the validated model)."""
    try:
        data = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}", "body") from None
    is_many = isinstance(data, dict) and key in data
    model = many if is_many else one
    if not isinstance(data, dict):
        raise ApiError(422, "validation_error", f'expected an object or {{"{key}": [...]}}', "body")
    try:
        return is_many, model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False, include_context=False)]
        ) from None
