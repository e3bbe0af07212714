"""What routing rules and SLA policies share: the conditions a conversation is matched on
(channels, priorities, keywords, customer traits, business hours), as form fields and back."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import select

from amity.channels.models import CHANNEL_TYPES
from amity.service.models import Calendar
from amity.web.ui_admin_kit import (
    Errors,
    Field,
    Form,
    listed,
    split,
    text,
)
from amity.web.ui_base import Page

PRIORITIES = ("low", "normal", "high", "urgent")


def options(page: Page, model: Any, none: str = "— none —") -> list[tuple[str, str]]:
    with page.app.db.read() as s:
        rows = s.execute(select(model.id, model.name).order_by(model.name)).all()
    return [("", none), *((r.id, r.name) for r in rows)]


# ---- conditions (shared by routing rules and SLA policies) -----------------------------------------
def condition_fields(page: Page) -> list[Field]:
    return [
        Field(
            "conditions.channel_types",
            "Channels",
            "checks",
            [(t, t) for t in CHANNEL_TYPES],
            hint="None ticked: any channel",
        ),
        Field(
            "conditions.priorities",
            "Priorities",
            "checks",
            [(p, p) for p in PRIORITIES],
            hint="None ticked: any priority",
        ),
        Field(
            "conditions.keywords",
            "Keywords",
            placeholder="refund, broken",
            hint="Any of these words in the subject or first message; separate with commas",
        ),
        Field(
            "conditions.customer_traits",
            "Customer traits",
            "textarea",
            rows=2,
            placeholder='{"vip": true, "tier": ["gold", "platinum"]}',
            hint="JSON: trait -> value or list of values",
        ),
        Field(
            "conditions.business_hours.calendar_id",
            "Business hours",
            "select",
            options(page, Calendar, "— any time —"),
        ),
        Field(
            "conditions.business_hours.open",
            "…applies",
            "select",
            [("true", "while open"), ("false", "while closed")],
        ),
    ]


CONDITION_MULTI = ("conditions.channel_types", "conditions.priorities")


def parse_conditions(form: Form, errors: Errors) -> dict[str, Any]:
    out: dict[str, Any] = {
        "channel_types": listed(form, "conditions.channel_types"),
        "priorities": listed(form, "conditions.priorities"),
        "keywords": split(form, "conditions.keywords"),
    }
    if traits := text(form, "conditions.customer_traits"):
        try:
            out["customer_traits"] = orjson.loads(traits)
        except orjson.JSONDecodeError:
            errors["conditions.customer_traits"] = 'Not JSON: write an object like {"vip": true}.'
    if calendar := text(form, "conditions.business_hours.calendar_id"):
        open_ = text(form, "conditions.business_hours.open") != "false"
        out["business_hours"] = {"calendar_id": calendar, "open": open_}
    return out


def condition_values(c: dict[str, Any]) -> Form:
    bh = c.get("business_hours") or {}
    return {
        "conditions.channel_types": list(c.get("channel_types", [])),
        "conditions.priorities": list(c.get("priorities", [])),
        "conditions.keywords": ", ".join(c.get("keywords", [])),
        "conditions.customer_traits": orjson.dumps(c["customer_traits"]).decode()
        if c.get("customer_traits")
        else "",
        "conditions.business_hours.calendar_id": bh.get("calendar_id", ""),
        "conditions.business_hours.open": "false" if bh.get("open") is False else "true",
    }


def conditions_text(c: dict[str, Any]) -> str:
    parts = []
    for key, label in (("channel_types", "on"), ("priorities", "priority"), ("keywords", "mentions")):
        if c.get(key):
            parts.append(f"{label} {' or '.join(c[key])}")
    if c.get("customer_traits"):
        parts.append("customer " + orjson.dumps(c["customer_traits"]).decode())
    if bh := c.get("business_hours"):
        parts.append("while open" if bh.get("open", True) else "while closed")
    return "; ".join(parts) or "always"


EMPTY_CONDITIONS: Form = condition_values({})
