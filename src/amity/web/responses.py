"""A JSON response rendered by orjson: dict answers skip FastAPI's slow jsonable_encoder (RECIPES.md)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


# A JSONResponse subclass so FastAPI documents routes by their response_model, not as a string.
class Json(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
