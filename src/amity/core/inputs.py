"""The base of every request model: unknown keys refused, and no NUL characters anywhere.

PostgreSQL cannot store U+0000 in text or JSONB, so a NUL that got past the edge would surface as a
driver error (a 500) deep inside a transaction. Refusing it here names the field instead, on SQLite
too, so both backends behave alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

NUL = "\x00"
NUL_MESSAGE = "must not contain a NUL (U+0000) character"


def nul_paths(value: Any, path: str = "") -> Iterator[str]:
    """Field paths (``a.b[2].c``) of every string or key under ``value`` that holds a NUL.

    A key with a NUL is reported at its parent's path: the key itself is not addressable.
    """
    if isinstance(value, str):
        if NUL in value:
            yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            key = str(k)
            if NUL in key:
                yield path
                continue
            yield from nul_paths(v, f"{path}.{key}" if path else key)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from nul_paths(v, f"{path}[{i}]")


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if next(nul_paths(value), None) is not None:
            raise ValueError(NUL_MESSAGE)
        return value
