"""Configuration, read from the environment (``AMITY_*``) so one container image serves every install."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that systems send when they have no real identifier. Matching on them would merge strangers
# into one "customer", which is the classic CDP failure, so they are kept on the event but never matched.
DEFAULT_BLOCKED_VALUES = (
    "",
    "null",
    "none",
    "nil",
    "undefined",
    "anonymous",
    "unknown",
    "n/a",
    "na",
    "-",
    "0",
    "test",
)
# Shared mailboxes are not people: a merge through them would join every customer who wrote to them.
DEFAULT_BLOCKED_EMAIL_LOCALPARTS = (
    "noreply",
    "no-reply",
    "donotreply",
    "do-not-reply",
    "mailer-daemon",
    "postmaster",
)
# Upper bounds per identifier type (CDPs call these "identity limits"): one person rarely has more.
DEFAULT_IDENTITY_LIMITS = {
    "email": 5,
    "phone": 5,
    "loyalty": 1,
    "device": 50,
    "social:*": 3,
    "external:*": 1,
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AMITY_", extra="ignore")

    home: Path = Field(default=Path(".amity"), description="Where Amity keeps its SQLite file and uploads.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is SQLite at $AMITY_HOME/amity.db."
    )
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_format: str = Field(default="json", description="json (one object a line) or text.")
    default_phone_region: str = Field(default="GB", description="Region for phone numbers without +country.")
    blocked_identifiers: list[str] = Field(
        default_factory=list,
        description="Extra values never used to match, as 'value' or 'type:value' (e.g. role addresses).",
    )
    identity_limits: dict[str, int] = Field(default_factory=dict, description="Overrides of the defaults.")
    max_future_skew_seconds: int = Field(default=3600, description="How far ahead an event timestamp may be.")
    max_properties_bytes: int = 32 * 1024
    max_body_bytes: int = 1024 * 1024
    # The one route that takes files from people, a console reply, may carry this much (its files
    # are still held to max_attachment_bytes each); every other body stays under max_body_bytes.
    max_upload_bytes: int = 25 * 1024 * 1024
    max_batch: int = 1000
    secret_key: str | None = Field(
        default=None, description="Signs sessions; generated into AMITY_HOME if unset."
    )
    public_url: str | None = Field(
        default=None,
        description="How the outside world reaches Amity (webhook URLs); default http://host:port.",
    )
    conversation_window_hours: int = Field(
        default=72, ge=0, description="An inbound message joins the customer's open conversation this recent."
    )
    max_attachment_bytes: int = Field(default=10 * 1024 * 1024, description="Larger attachments are refused.")
    redis_url: str | None = Field(
        default=None, description="Redis for background jobs and live-update fan-out between processes."
    )
    jobs_immediate: bool = Field(
        default=False, description="Run background jobs inline (tests and one-off scripts only)."
    )
    delivery_lease_seconds: float = Field(
        default=120, gt=0, description="A worker that has not finished a send by then is presumed dead."
    )
    sweep_seconds: float = Field(
        default=10, gt=0, description="How often a worker looks for lost jobs and expired claims."
    )
    delivery_max_attempts: int = Field(default=8, ge=1, description="Outbound sends tried this often.")
    smtp_host: str = Field(default="127.0.0.1", description="Where the inbound SMTP listener binds.")
    smtp_port: int = Field(default=2525, description="Port of the inbound SMTP listener (0: do not listen).")
    smtp_relay: str | None = Field(default=None, description="host:port of the SMTP relay for outbound mail.")
    mail_from: str = Field(
        default="amity@localhost", description="From address of Amity's own mail (password reset links)."
    )

    @field_validator("default_phone_region")
    @classmethod
    def _upper_region(cls, v: str) -> str:
        return v.upper()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'amity.db').resolve()}"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def all_identity_limits(self) -> dict[str, int]:
        return {**DEFAULT_IDENTITY_LIMITS, **self.identity_limits}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
