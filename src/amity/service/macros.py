"""Saved replies: Jinja templates rendered in a sandbox over plain copies of the customer and conversation.

Templates are written by admins but rendered into messages to customers, so a template must never
reach beyond the data it is given: the environment is Jinja's immutable sandbox (no ``_``-prefixed
attributes, no mutating calls), its globals are emptied (no ``range``, ``lipsum``, ``cycler``…), the
context holds only dicts, lists and strings (no ORM object, no settings), repetition operators are
capped so ``'x' * 10**9`` cannot exhaust memory, and the output is bounded.
"""

from __future__ import annotations

import operator
from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError, Undefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from amity.channels.models import Channel
from amity.conversations.actions import add_message
from amity.conversations.models import Message
from amity.core.actions import ActionContext, Actor, Invalid, NotFound
from amity.customers import queries as customers
from amity.service.facts import display_name, gather
from amity.service.models import Brand, Macro

MAX_OUTPUT = 20_000
MAX_REPEAT = 10_000


class _Env(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        if op == "**" and (not isinstance(right, int | float) or abs(right) > 64):
            raise SecurityError("exponents above 64 are not allowed in a macro")
        if op == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(n, int) and n * len(seq) > MAX_REPEAT:
                    raise SecurityError(f"repeating to more than {MAX_REPEAT} items is not allowed")
        return {"*": operator.mul, "**": operator.pow}[op](left, right)


def _finalize(value: Any) -> Any:
    return "" if value is None else value


ENV = _Env(autoescape=False, undefined=Undefined, finalize=_finalize, keep_trailing_newline=False)
ENV.globals.clear()


def check_template(body: str) -> str:
    try:
        ENV.parse(body)
    except TemplateSyntaxError as exc:
        raise Invalid(f"template error on line {exc.lineno}: {exc.message}", field="body") from None
    return body


def render(body: str, context: dict[str, Any]) -> str:
    try:
        out = ENV.from_string(body).render(context)
    except SecurityError as exc:
        raise Invalid(f"the template tried something macros may not do: {exc}", field="body") from None
    except TemplateError as exc:
        raise Invalid(f"the template could not be rendered: {exc}", field="body") from None
    except (TypeError, ValueError, ArithmeticError, LookupError, RecursionError) as exc:
        raise Invalid(f"the template failed on its data: {exc}", field="body") from None
    if len(out) > MAX_OUTPUT:
        raise Invalid(f"renders to {len(out)} characters; at most {MAX_OUTPUT}", field="body")
    return out.strip()


def brand_of(session: Session, conversation_id: str) -> Brand | None:
    """The conversation's brand, else the brand of the channel the customer last wrote on."""
    facts = gather(session, conversation_id)
    brand_id = facts.brand_id
    if brand_id is None:
        last = session.scalar(
            select(Channel.brand_id)
            .join(Message, Message.channel_id == Channel.id)
            .where(Message.conversation_id == conversation_id, Message.direction == "in")
            .order_by(Message.created_at.desc())
            .limit(1)
        )
        brand_id = last
    return session.get(Brand, brand_id) if brand_id else None


def brand_out(b: Brand | None) -> dict[str, Any]:
    if b is None:
        return {"name": "", "signature": "", "from_address": ""}
    return {"name": b.name, "signature": b.signature, "from_address": b.from_address or ""}


def context(session: Session, conversation_id: str, actor: Actor | None = None) -> dict[str, Any]:
    """Plain data only: whatever a template can name is in here, and nothing else is reachable."""
    f = gather(session, conversation_id)
    name = str(f.traits.get("name") or "")
    contacts = {
        i["type"]: i["value"]
        for i in reversed(customers.identities_of(session, f.customer_id, ("email", "phone")))
    }
    return {
        "customer": {
            "id": f.customer_id,
            "name": name,
            "first_name": name.split()[0] if name.split() else "",
            "email": contacts.get("email", ""),
            "phone": contacts.get("phone", ""),
            "traits": _plain(f.traits),
        },
        "conversation": {
            "id": f.conversation_id,
            "subject": f.subject,
            "status": f.status,
            "priority": f.priority,
            "tags": list(f.tags),
            "channel_type": f.channel_type or "",
        },
        "brand": brand_out(brand_of(session, conversation_id)),
        "agent": {"name": display_name(session, actor) if actor and actor.kind == "user" else ""},
    }


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def get_macro(session: Session, macro_id: str, field: str = "macro_id") -> Macro:
    m = session.get(Macro, macro_id)
    if m is None:
        raise NotFound(f"no macro {macro_id}", field=field)
    return m


def render_macro(session: Session, macro_id: str, conversation_id: str, actor: Actor | None = None) -> str:
    return render(get_macro(session, macro_id).body, context(session, conversation_id, actor))


def send_macro(ctx: ActionContext, conversation_id: str, macro_id: str) -> Message:
    """Reply with a macro on the customer's channel (routing's auto-reply)."""
    text = render_macro(ctx.session, macro_id, conversation_id, ctx.actor)
    msg = add_message(ctx, conversation_id, text=text)
    ctx.audit("macro.sent", "conversation", conversation_id, macro_id=macro_id, message_id=msg.id)
    return msg
