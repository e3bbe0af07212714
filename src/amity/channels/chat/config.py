"""What an admin configures on a chat channel, and the one rule that uses it at every door: the Origin."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

# scheme://host[:port] exactly as a browser sends it in an Origin header: no path, no trailing slash.
_ORIGIN = re.compile(r"^https?://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$")
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}
ANY_ORIGIN = "*"


def normalise_origin(raw: str) -> str:
    """``HTTPS://Shop.Example:443/`` -> ``https://shop.example``, as browsers spell it in Origin headers."""
    value = raw.strip().lower().rstrip("/")
    scheme = value.partition("://")[0]
    default = _DEFAULT_PORTS.get(scheme)
    if default and value.endswith(default):
        value = value[: -len(default)]
    return value


class ChatConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allowed_origins: list[str] = Field(
        min_length=1,
        max_length=100,
        description="Sites that may embed the widget: 'https://shop.example' (scheme, host, port); '*' for any",
    )
    identity_secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        description="HMAC-SHA256 key the customer's website signs visitor identity tokens with",
    )
    greeting: str | None = Field(default=None, max_length=1000, description="Shown when the widget opens")
    brand_id: str | None = Field(default=None, max_length=32, description="Passed to the widget for theming")

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        out: list[str] = []
        for raw in values:
            if raw.strip() == ANY_ORIGIN:
                value = ANY_ORIGIN
            else:
                value = normalise_origin(raw)
                if not _ORIGIN.match(value):
                    # A path or a wildcard host would never equal what a browser sends: refuse it now.
                    raise ValueError(
                        f"'{raw}' is not an origin; use scheme://host[:port] such as https://shop.example, or '*'"
                    )
            if value not in out:
                out.append(value)
        return out


def origin_allowed(config: dict[str, object], origin: str | None) -> bool:
    """Browsers always send Origin on WebSocket handshakes and cross-origin fetches, so a browser on a
    site that is not listed is refused. A request without Origin is not a browser: anything that is not a
    browser can send whatever Origin it likes, so refusing it would protect nothing, and the visitor
    token (not the Origin) is what authenticates a visitor."""
    if origin is None:
        return True
    allowed = config.get("allowed_origins")
    if not isinstance(allowed, list):
        return False
    return ANY_ORIGIN in allowed or normalise_origin(origin) in allowed
