"""Reads the agent console shares: inbox views and their counts, names of people, channels and teams.

The lists themselves come from ``conversations.queries.list_conversations``. Counting is the one read
that query does not offer (it pages, it does not count), so the count here applies the same filters to
the same table; it belongs in ``conversations.queries`` once that module grows a count.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import String, case, cast, false, func, or_, select, true
from sqlalchemy.orm import Session

from amity.accounts.models import User
from amity.channels.models import Channel
from amity.conversations import queries as conversations
from amity.conversations.models import PRIORITIES, STATUSES, Conversation, Message
from amity.core.actions import Actor
from amity.service import queries as service
from amity.service.models import Brand, Team
from amity.web.ui_base import templates

LIVE = ("open", "pending", "on_hold")
VIEWS = (
    ("mine", "Mine"),
    ("unassigned", "Unassigned"),
    ("teams", "My teams"),
    ("breaching", "Breaching soon"),
    ("all", "All"),
)
VIEW_NAMES = dict(VIEWS)
BREACHING_WINDOW = dt.timedelta(hours=1)
PAGE_SIZE = 50
# A page link carries the cursor of its page and the cursors of the pages before it (the "trail"), so
# "Newer" needs no reverse query. Cursors are url-safe base64; anything else is refused, not decoded.
CURSOR_RE = re.compile(r"^[A-Za-z0-9_-]{1,300}$")
MAX_TRAIL = 200  # pages back: 10,000 rows, a URL well under 64 KB
__all__ = [
    "LIVE",
    "PRIORITIES",
    "STATUSES",
    "VIEWS",
    "Filters",
    "Listing",
    "Lookups",
    "counts",
    "listing",
    "lookups",
]


@dataclass(frozen=True)
class Filters:
    """One inbox view with its narrowing filters, as the query string carries them."""

    view: str = "mine"
    status: str = ""  # "" live (open, pending, on hold); "any"; or one status
    channel: str = ""  # a channel type
    tag: str = ""
    brand: str = ""  # a brand id
    q: str = ""
    cursor: str = ""  # where this page starts ("" the first page)
    trail: tuple[str, ...] = field(default=())  # the cursors of the pages before this one, oldest first

    @classmethod
    def parse(cls, params: Any) -> tuple[Filters, dict[str, str]]:
        """From request query params; unknown values are refused per field instead of ignored."""

        def get(key: str) -> str:
            return str(params.get(key) or "").strip()

        errors: dict[str, str] = {}
        view = get("view") or "mine"
        if view not in VIEW_NAMES:
            errors["view"] = f"one of {', '.join(VIEW_NAMES)}"
            view = "mine"
        status = get("status")
        if status and status != "any" and status not in STATUSES:
            errors["status"] = f"one of any, {', '.join(STATUSES)}"
            status = ""
        tag, q = get("tag")[:50].lower(), get("q")[:200]
        cursor = get("cursor")
        trail = tuple(t for t in get("trail").split(".") if t)
        if (
            (cursor and not CURSOR_RE.match(cursor))
            or len(trail) > MAX_TRAIL
            or not all(CURSOR_RE.match(t) for t in trail)
        ):
            errors["cursor"] = "this page link is damaged; start again from the first page"
            cursor, trail = "", ()
        if trail and not cursor:
            trail = ()  # the first page has nothing before it
        filters = cls(view, status, get("channel")[:20], tag, get("brand")[:32], q, cursor, trail)
        return filters, errors

    def statuses(self) -> list[str] | None:
        if self.status == "any":
            return None
        return [self.status] if self.status else list(LIVE)

    def query(self, **override: str) -> str:
        """The query string of this view with some values replaced (for links between views). Never
        the page: a link to another view, the counts and live rows are about the whole view."""
        values = {"view": self.view, "status": self.status, "channel": self.channel, "tag": self.tag}
        values |= {"brand": self.brand, "q": self.q, **override}
        return urlencode({k: v for k, v in values.items() if v})

    @property
    def page_number(self) -> int:
        return len(self.trail) + 2 if self.cursor else 1

    def next_query(self, next_cursor: str) -> str:
        trail = (*self.trail, self.cursor) if self.cursor else ()
        return self.query(cursor=next_cursor, trail=".".join(trail[-MAX_TRAIL:]))

    def previous_query(self) -> str | None:
        if not self.cursor:
            return None
        if not self.trail:
            return self.query()
        return self.query(cursor=self.trail[-1], trail=".".join(self.trail[:-1]))


def my_teams(session: Session, actor: Actor) -> list[str]:
    teams = service.list_of(session, Team, 500, 0)["items"]
    return [t["id"] for t in teams if actor.id in t["members"]]


def _common(f: Filters) -> dict[str, Any]:
    return {
        "status": f.statuses(),
        "channel_type": f.channel or None,
        "tag": f.tag or None,
        "brand_id": f.brand or None,
        "q": f.q or None,
    }


def _due_key(c: dict[str, Any]) -> tuple[bool, str, str]:
    due = c["sla"]["next_due_at"]
    return (due is None, due or "", c["id"])


@dataclass(frozen=True)
class Listing:
    """One page of a view: its rows and the cursor of the page after it (None: this is the last)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


def _cursor_of(c: dict[str, Any]) -> str:
    # The list query's own keyset format (due time, id), so a merged page continues where it stopped.
    return conversations._cursor([c["sla"]["next_due_at"], c["id"]])


def listing(session: Session, actor: Actor, f: Filters, now: dt.datetime, size: int = PAGE_SIZE) -> Listing:
    """One page of the view's conversations, soonest SLA due first (nothing due last), keyset-paged
    in that same order, so a conversation changing meanwhile never makes a row appear twice."""
    common = _common(f)
    lc = conversations.list_conversations
    at = {"sort": "due", "limit": size, "cursor": f.cursor or None, **common}
    if f.view == "mine":
        got = lc(session, assignee_id=actor.id, **at)
        return Listing(got["items"], got["next_cursor"])
    if f.view == "unassigned":
        got = lc(session, unassigned=True, **at)
        return Listing(got["items"], got["next_cursor"])
    if f.view == "teams":
        # One page per team from the same cursor (people sit in a few teams), merged in due order:
        # the cursor is a position in one global order, so it means the same in every team.
        rows: dict[str, dict[str, Any]] = {}
        more = False
        for team in my_teams(session, actor):
            got = lc(session, team_id=team, **at)
            more = more or got["next_cursor"] is not None
            for c in got["items"]:
                rows[c["id"]] = c
        merged = sorted(rows.values(), key=_due_key)
        page = merged[:size]
        more = more or len(merged) > size
        return Listing(page, _cursor_of(page[-1]) if more and page else None)
    got = lc(session, **at)
    items: list[dict[str, Any]] = got["items"]
    if f.view == "breaching":
        # Sorted soonest first, so everything due within the hour is at the head of the list: once a
        # row is beyond the window, so is every row after it.
        limit = now + BREACHING_WINDOW
        due = [
            c
            for c in items
            if c["sla"]["next_due_at"] and dt.datetime.fromisoformat(c["sla"]["next_due_at"]) <= limit
        ]
        return Listing(due, got["next_cursor"] if len(due) == len(items) else None)
    return Listing(items, got["next_cursor"])


def counts(session: Session, actor: Actor, f: Filters, now: dt.datetime) -> dict[str, int]:
    """How many conversations each view holds under the same narrowing filters (status, channel,
    brand, tag, text) as ``list_conversations``: one query, a conditional sum per view."""
    teams = my_teams(session, actor)
    views = {
        "mine": Conversation.assignee_id == actor.id,
        "unassigned": Conversation.assignee_id.is_(None),
        "teams": Conversation.team_id.in_(teams) if teams else false(),
        "breaching": Conversation.next_due_at <= now + BREACHING_WINDOW,
        "all": true(),
    }
    q = select(*(func.coalesce(func.sum(case((cond, 1), else_=0)), 0) for cond in views.values()))
    q = q.select_from(Conversation).where(Conversation.merged_into_id.is_(None))
    if (statuses := f.statuses()) is not None:
        q = q.where(Conversation.status.in_(statuses))
    if f.channel:
        q = q.where(Conversation.last_channel_id.in_(select(Channel.id).where(Channel.type == f.channel)))
    if f.brand:
        q = q.where(Conversation.brand_id == f.brand)
    if f.tag:
        q = q.where(func.lower(cast(Conversation.tags, String)).contains(f'"{f.tag}"'))
    if f.q:
        like = f"%{f.q.lower()}%"
        q = q.where(
            or_(
                func.lower(Conversation.subject).like(like),
                Conversation.id.in_(
                    select(Message.conversation_id).where(func.lower(Message.text).like(like))
                ),
            )
        )
    row = session.execute(q).one()
    return {view: int(n) for view, n in zip(views, row, strict=True)}


def matches(session: Session, actor: Actor, f: Filters, conv: dict[str, Any], now: dt.datetime) -> bool:
    """Whether one conversation belongs in the view: decides if a live update inserts or drops a row."""
    if conv["merged_into_id"]:
        return False
    statuses = f.statuses()
    if statuses is not None and conv["status"] not in statuses:
        return False
    if f.view == "mine" and conv["assignee_id"] != actor.id:
        return False
    if f.view == "unassigned" and conv["assignee_id"] is not None:
        return False
    if f.view == "teams" and conv["team_id"] not in my_teams(session, actor):
        return False
    if f.view == "breaching":
        due = conv["sla"]["next_due_at"]
        if not due or dt.datetime.fromisoformat(due) > now + BREACHING_WINDOW:
            return False
    if f.tag and f.tag not in conv["tags"]:
        return False
    if f.brand and conv["brand_id"] != f.brand:
        return False
    if f.channel or f.q:
        # The channel and the text search are the list query's business: ask it about this customer.
        found = conversations.list_conversations(
            session, customer_id=conv["customer_id"], limit=100, **_common(f)
        )["items"]
        return any(c["id"] == conv["id"] for c in found)
    return True


@dataclass(frozen=True)
class Lookups:
    """Names for the ids a page shows: people, channels, teams, brands (all short tables)."""

    users: dict[str, str]
    channels: dict[str, dict[str, str]]
    teams: dict[str, str]
    brands: dict[str, str]

    def channel_type(self, channel_id: str | None) -> str:
        return self.channels.get(channel_id or "", {}).get("type", "")


def lookups(session: Session) -> Lookups:
    users = {
        uid: name or email
        for uid, name, email in session.execute(
            select(User.id, User.name, User.email)
            .where(User.disabled_at.is_(None), User.role.in_(("admin", "supervisor", "agent")))
            .order_by(User.name, User.email)
        )
    }
    channels = {
        cid: {"type": type_, "name": name}
        for cid, type_, name in session.execute(
            select(Channel.id, Channel.type, Channel.name).order_by(Channel.name)
        )
    }
    teams: dict[str, str] = dict(session.execute(select(Team.id, Team.name).order_by(Team.name)).all())
    brands: dict[str, str] = dict(session.execute(select(Brand.id, Brand.name).order_by(Brand.name)).all())
    return Lookups(users, channels, teams, brands)


# ---- template filters ----------------------------------------------------------------------------
def _due(value: str | None, now: dt.datetime | None = None) -> str:
    """'in 42 min', '3 h overdue': how an agent reads an SLA deadline at a glance."""
    if not value:
        return "—"
    left = dt.datetime.fromisoformat(value) - (now or dt.datetime.now(dt.UTC))
    minutes = int(abs(left.total_seconds()) // 60)
    span = (
        f"{minutes} min"
        if minutes < 120
        else f"{minutes // 60} h"
        if minutes < 2880
        else f"{minutes // 1440} d"
    )
    return f"in {span}" if left.total_seconds() >= 0 else f"{span} overdue"


def _due_class(value: str | None) -> str:
    if not value:
        return "due-none"
    left = dt.datetime.fromisoformat(value) - dt.datetime.now(dt.UTC)
    return "due-late" if left.total_seconds() < 0 else "due-soon" if left <= BREACHING_WINDOW else "due-ok"


def _money(minor: int, currency: str) -> str:
    return f"{minor / 100:,.2f} {currency}"


templates.env.filters["due"] = _due
templates.env.filters["due_class"] = _due_class
templates.env.filters["money"] = _money
