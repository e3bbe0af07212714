"""Current consent derived from the history: pure functions, shared by the queries and the policy.

Per purpose and channel type the latest record wins (ties: the later-written row). Between a
channel's own record and a record for every channel:

- the channel's own record wins (specific beats "all") ...
- ... unless the all-channels record is newer *and* a withdrawal or denial: "stop marketing to me"
  covers the SMS marketing granted last year. A newer all-channels *grant* never lifts an older
  refusal of one channel: the customer who said no to SMS said so on purpose.

So the answer is never more permissive than the strict "specific beats all" reading.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    customer_id: str
    purpose: str
    channel: str | None
    status: str
    lawful_basis: str
    source: str
    at: dt.datetime
    policy_version: str | None = None


def latest(entries: Iterable[Entry]) -> dict[tuple[str, str | None], Entry]:
    """The newest record per (purpose, channel)."""
    out: dict[tuple[str, str | None], Entry] = {}
    for e in entries:
        key = (e.purpose, e.channel)
        cur = out.get(key)
        if cur is None or (e.at, e.id) > (cur.at, cur.id):
            out[key] = e
    return out


def effective(
    current: dict[tuple[str, str | None], Entry], purpose: str, channel: str | None
) -> Entry | None:
    """The record that decides ``purpose`` on ``channel`` (None: every channel only)."""
    general = current.get((purpose, None))
    if channel is None:
        return general
    own = current.get((purpose, channel))
    if own is None:
        return general
    if general is None or general.status == "granted" or (own.at, own.id) >= (general.at, general.id):
        return own
    return general
