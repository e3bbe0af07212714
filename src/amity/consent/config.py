"""Quiet hours and the customer's time zone: read from the environment (``AMITY_CONSENT_*``)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AMITY_CONSENT_", extra="ignore")

    quiet_start: dt.time = Field(
        default=dt.time(21, 0), description="Local time from which non-urgent proactive sends wait."
    )
    quiet_end: dt.time = Field(default=dt.time(8, 0), description="Local time they go out again.")
    default_timezone: str = Field(
        default="UTC", description="The business's time zone, for customers without a timezone trait."
    )
    active_minutes: int = Field(
        default=60,
        ge=0,
        description="A customer who wrote in the conversation this recently is writing now: replies "
        "to them are never held for quiet hours.",
    )

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        zone(v)  # raises for an unknown zone, so a typo fails at start-up, not at 21:00
        return v


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone '{name}'") from None


@lru_cache(maxsize=1)
def get_config() -> ConsentSettings:
    return ConsentSettings()
