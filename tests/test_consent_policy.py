"""The one send policy: what may go, on which basis, and what waits for the morning."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amity.consent import actions, policy
from amity.consent.config import ConsentSettings, zone
from amity.consent.policy import Decision, decide, may_profile, quiet_until
from amity.core.actions import SYSTEM, App, perform
from tests.helpers import ev, merge, one

UTC = dt.UTC
NOON = dt.datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # 12:00 in UTC, 21:00 in Tokyo
CFG = ConsentSettings()
SEQ = itertools.count()


def grant(
    app: App, cid: str, purpose: str, status: str = "granted", channel: str | None = None, **kw: Any
) -> None:
    perform(
        app,
        SYSTEM,
        actions.record_consent,
        cid,
        purpose=purpose,
        status=status,
        lawful_basis=kw.pop("basis", "consent"),
        source="api",
        channel=channel,
        **kw,
    )


def ask(app: App, cid: str, purpose: str, channel: str | None, **kw: Any) -> Decision:
    args: dict[str, Any] = {
        "kind": "reply",
        "urgent": False,
        "now": NOON,
        "in_reply_to_customer_conversation": False,
        "config": CFG,
        **kw,
    }
    with app.db.read() as s:
        return decide(s, cid, purpose, channel, **args)


@pytest.fixture
def ana(app: App) -> str:
    return one(app, ev("order.placed", "email:ana@example.com"))


def test_a_reply_in_the_customers_own_conversation_goes_on_a_contract_basis(app: App, ana: str) -> None:
    d = ask(app, ana, "service", "email", in_reply_to_customer_conversation=True, customer_last_wrote_at=NOON)
    assert d.allowed and d.lawful_basis == "contract"


def test_marketing_needs_a_grant_for_that_channel_or_every_channel(app: App, ana: str) -> None:
    d = ask(app, ana, "marketing", "email", kind="campaign")
    assert d.blocked and d.code == "no_consent" and d.reason == "no marketing consent on email"
    grant(app, ana, "marketing", channel="email")
    assert ask(app, ana, "marketing", "email", kind="campaign").allowed
    assert ask(app, ana, "marketing", "sms", kind="campaign").blocked
    grant(app, ana, "marketing")  # every channel
    assert ask(app, ana, "marketing", "sms", kind="campaign").allowed
    grant(app, ana, "marketing", "withdrawn", channel="email")
    d = ask(app, ana, "marketing", "email", kind="campaign")
    assert d.blocked and d.code == "withdrawn" and "withdrew marketing on email" in d.reason
    assert ask(app, ana, "marketing", "sms", kind="campaign").allowed


def test_withdrawing_service_on_a_channel_stops_replies_there_until_the_customer_writes_again(
    app: App, ana: str
) -> None:
    grant(app, ana, "service", "withdrawn", channel="sms", at=NOON - dt.timedelta(days=2))
    long_ago = NOON - dt.timedelta(days=3)
    d = ask(
        app, ana, "service", "sms", in_reply_to_customer_conversation=True, customer_last_wrote_at=long_ago
    )
    assert d.blocked and d.code == "withdrawn"
    assert ask(app, ana, "service", "sms", kind="notification").blocked
    assert ask(app, ana, "service", "email", kind="notification").allowed  # other channels unaffected
    just_now = NOON - dt.timedelta(minutes=5)
    d = ask(
        app, ana, "service", "sms", in_reply_to_customer_conversation=True, customer_last_wrote_at=just_now
    )
    assert d.allowed and "wrote after withdrawing" in d.reason


def test_quiet_hours_hold_proactive_sends_until_morning_in_the_customers_zone(app: App) -> None:
    tokyo = one(app, ev("x", "email:kenji@example.com", traits={"timezone": "Asia/Tokyo"}))
    grant(app, tokyo, "marketing")
    morning = dt.datetime(2026, 6, 10, 23, 0, tzinfo=UTC)  # 08:00 on the 11th in Tokyo
    for kind in ("campaign", "notification", "survey"):
        purpose = "marketing" if kind == "campaign" else "service"
        d = ask(app, tokyo, purpose, "sms", kind=kind)
        assert d.held and d.hold_until == morning and "08:00 Asia/Tokyo" in d.reason, kind
        assert ask(app, tokyo, purpose, "sms", kind=kind, urgent=True).allowed
        assert ask(app, tokyo, purpose, "sms", kind=kind, now=morning).allowed
    # a reply is never held; a customer who is writing now gets proactive messages too
    assert ask(app, tokyo, "service", "sms", in_reply_to_customer_conversation=True).allowed
    writing = ask(app, tokyo, "service", "sms", kind="notification", customer_last_wrote_at=NOON)
    assert writing.allowed
    # without a timezone trait the business default (UTC here) decides: 12:00 is not quiet
    elsewhere = one(app, ev("x", "email:lea@example.com"))
    assert ask(app, elsewhere, "service", "sms", kind="notification").allowed
    lisbon = ConsentSettings(default_timezone="Asia/Tokyo")
    assert ask(app, elsewhere, "service", "sms", kind="notification", config=lisbon).held


def test_personalisation_asks_the_same_policy(app: App, ana: str) -> None:
    with app.db.read() as s:
        assert not may_profile(s, ana)
    grant(app, ana, "personalisation")
    with app.db.read() as s:
        assert may_profile(s, ana)
    grant(app, ana, "personalisation", "withdrawn")
    with app.db.read() as s:
        assert not may_profile(s, ana)


def test_unknown_purposes_and_customers_are_blocked_not_errors(app: App, ana: str) -> None:
    assert ask(app, ana, "astrology", "email").code == "unknown_purpose"
    assert ask(app, "cus_nobody", "service", "email").code == "unknown_customer"
    with pytest.raises(ValueError, match="kind"):
        ask(app, ana, "service", "email", kind="shout")


def test_a_merged_away_profiles_grant_counts_for_the_survivor(app: App, ana: str) -> None:
    other = one(app, ev("x", "phone:+447911123456"))
    grant(app, other, "marketing", channel="sms")
    assert ask(app, ana, "marketing", "sms", kind="campaign").blocked
    merge(app, ana, other)
    assert ask(app, ana, "marketing", "sms", kind="campaign").allowed
    assert ask(app, other, "marketing", "sms", kind="campaign").allowed


def test_an_unlabelled_message_is_a_service_reply_and_labels_say_otherwise(app: App, ana: str) -> None:
    with app.db.read() as s:
        d = policy.for_message(
            s,
            customer_id=ana,
            channel_type="email",
            meta={},
            customer_last_wrote_at=None,
            now=NOON,
            config=CFG,
        )
        assert d.allowed and d.lawful_basis == "contract"
        d = policy.for_message(
            s,
            customer_id=ana,
            channel_type="email",
            meta=policy.label("marketing", "campaign"),
            customer_last_wrote_at=None,
            now=NOON,
            config=CFG,
        )
        assert d.blocked and d.code == "no_consent"


# ---- properties ----------------------------------------------------------------------------------
ZONES = ["UTC", "Europe/Lisbon", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe", "Pacific/Chatham"]
# hypothesis wants naive bounds and attaches the time zone itself
LOW, HIGH = dt.datetime(2020, 1, 1), dt.datetime(2035, 1, 1)  # noqa: DTZ001
instants = st.datetimes(min_value=LOW, max_value=HIGH, timezones=st.just(UTC))
times = st.times().map(lambda t: t.replace(second=0, microsecond=0))


@settings(max_examples=500, deadline=None)
@given(now=instants, name=st.sampled_from(ZONES), start=times, end=times)
def test_quiet_hours_end_after_now_at_the_end_time_and_never_more_than_a_day_away(
    now: dt.datetime, name: str, start: dt.time, end: dt.time
) -> None:
    cfg = ConsentSettings(quiet_start=start, quiet_end=end)
    tz = zone(name)
    until = quiet_until(now, tz, cfg)
    t = now.astimezone(tz).time().replace(tzinfo=None)
    inside = start != end and ((start <= t or t < end) if start > end else (start <= t < end))
    assert (until is not None) == inside
    if until is not None:
        assert now < until <= now + dt.timedelta(hours=26)  # 24 h, plus a DST shift at most
        local_end = until.astimezone(tz).time().replace(tzinfo=None)
        # the wall-clock end, unless a DST jump skipped it (then some instant just after)
        assert local_end == end or abs(
            dt.datetime.combine(dt.date(2000, 1, 3), local_end)
            - dt.datetime.combine(dt.date(2000, 1, 3), end)
        ) <= dt.timedelta(hours=2)


HISTORY = st.lists(
    st.tuples(
        st.sampled_from(["marketing", "service", "personalisation"]),
        st.sampled_from([None, "email", "sms"]),
        st.sampled_from(["granted", "withdrawn", "denied"]),
        st.integers(0, 30),  # days before NOON
    ),
    max_size=6,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=HISTORY,
    purpose=st.sampled_from(["marketing", "service", "personalisation"]),
    channel=st.sampled_from(["email", "sms"]),
    kind=st.sampled_from(["reply", "notification", "campaign"]),
    own_conversation=st.booleans(),
    wrote_days_ago=st.one_of(st.none(), st.integers(0, 31)),
)
def test_nothing_goes_without_a_basis_and_service_replies_only_stop_on_a_refusal(
    app: App,
    history: list[tuple[str, str | None, str, int]],
    purpose: str,
    channel: str,
    kind: str,
    own_conversation: bool,
    wrote_days_ago: int | None,
) -> None:
    cid = one(app, ev("x", f"external:prop:p{next(SEQ)}"))
    at = {i: NOON - dt.timedelta(days=days, minutes=1) for i, (_, _, _, days) in enumerate(history)}
    for i, (p, ch, status, _) in enumerate(history):
        grant(app, cid, p, status, channel=ch, basis="contract" if p == "service" else "consent", at=at[i])
    wrote = NOON - dt.timedelta(days=wrote_days_ago) if wrote_days_ago is not None else None
    d = ask(
        app,
        cid,
        purpose,
        channel,
        kind=kind,
        in_reply_to_customer_conversation=own_conversation,
        customer_last_wrote_at=wrote,
    )
    assert not (d.allowed and d.held)

    # The reference, written apart from the code: the newest record of the purpose on this channel,
    # else on every channel; a newer refusal for every channel overrides the channel's own grant.
    def newest(ch: str | None) -> tuple[dt.datetime, int, str] | None:
        rows = [(at[i], i, h[2]) for i, h in enumerate(history) if h[0] == purpose and h[1] == ch]
        return max(rows) if rows else None

    own, every = newest(channel), newest(None)
    decisive = own if own is not None else every
    if own is not None and every is not None and every[2] != "granted" and every[:2] > own[:2]:
        decisive = every
    if decisive is not None and decisive[2] != "granted":
        answered = purpose == "service" and kind == "reply" and own_conversation and wrote is not None
        assert d.blocked is not (answered and wrote is not None and wrote > decisive[0]), d
    elif decisive is None and purpose != "service":
        assert d.blocked and d.code == "no_consent", d
    else:
        assert not d.blocked, d  # a grant, or service on contract: it goes (now, or when quiet hours end)
