"""Business hours: weekly opening times in one time zone, minus holidays, and time measured inside them.

Pure functions over aware datetimes (no database, no clock), so SLA arithmetic is tested with fixed
times. Opening times are local wall-clock times: 09:00 in Europe/Lisbon is 08:00 UTC in summer and
09:00 UTC in winter, and a daylight-saving change is handled by ``zoneinfo``, not by us.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import zoneinfo
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
# Far enough for any real target (a resolution target of weeks, across a long holiday season) while
# bounding the walk for a calendar that is almost never open.
MAX_DAYS = 3 * 366


class CalendarError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message, self.field = message, field


def zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise CalendarError(
            f"unknown time zone '{name}'; use an IANA name like Europe/Lisbon", "timezone"
        ) from None


def _minutes(text: str, where: str) -> int:
    m = _HHMM.match(text)
    if m is None:
        raise CalendarError(f"'{text}' is not a time HH:MM (00:00 to 24:00)", where)
    return 1440 if text == "24:00" else int(m.group(1)) * 60 + int(m.group(2))


@dataclass(frozen=True)
class BusinessHours:
    tz: dt.tzinfo
    # weekday (0 = Monday) -> sorted, non-overlapping (open, close) in minutes after local midnight
    weekly: Mapping[int, tuple[tuple[int, int], ...]]
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    always: bool = False

    @classmethod
    def around_the_clock(cls) -> BusinessHours:
        return cls(tz=dt.UTC, weekly={}, always=True)

    @classmethod
    def parse(
        cls, timezone: str, hours: Mapping[str, Sequence[Sequence[str]]], holidays: Sequence[str] = ()
    ) -> BusinessHours:
        """Checks a calendar as an admin wrote it; errors name the field (``hours.mon[0]``)."""
        tz = zone(timezone)
        weekly: dict[int, tuple[tuple[int, int], ...]] = {}
        for day, spans in hours.items():
            if day not in DAYS:
                raise CalendarError(f"'{day}' is not a day; one of {', '.join(DAYS)}", f"hours.{day}")
            parsed = []
            for i, span in enumerate(spans):
                where = f"hours.{day}[{i}]"
                if len(span) != 2:
                    raise CalendarError('an opening is [open, close], e.g. ["09:00", "17:00"]', where)
                start, end = _minutes(span[0], where), _minutes(span[1], where)
                if end <= start:
                    raise CalendarError("closes before it opens (an overnight shift is two spans)", where)
                parsed.append((start, end))
            parsed.sort()
            for (_, end), (start, _) in itertools.pairwise(parsed):
                if start < end:
                    raise CalendarError("openings overlap", f"hours.{day}")
            weekly[DAYS.index(day)] = tuple(parsed)
        if not any(weekly.values()):
            raise CalendarError("a calendar needs at least one opening in the week", "hours")
        days = set()
        for i, text in enumerate(holidays):
            try:
                days.add(dt.date.fromisoformat(text))
            except ValueError:
                raise CalendarError(f"'{text}' is not a date YYYY-MM-DD", f"holidays[{i}]") from None
        return cls(tz=tz, weekly=weekly, holidays=frozenset(days))

    # ---- walking the open windows ----------------------------------------------------------------
    def windows(self, start: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Open intervals (UTC) in time order, the first one clipped to begin no earlier than ``start``."""
        _aware(start)
        if self.always:
            yield start.astimezone(dt.UTC), dt.datetime.max.replace(tzinfo=dt.UTC)
            return
        day = start.astimezone(self.tz).date()
        for _ in range(MAX_DAYS + 1):
            if day not in self.holidays:
                midnight = dt.datetime.combine(day, dt.time(), tzinfo=self.tz)
                for open_m, close_m in self.weekly.get(day.weekday(), ()):
                    a = _wall(midnight, open_m)
                    b = _wall(midnight, close_m)
                    if b <= start or b <= a:
                        continue
                    yield max(a, start.astimezone(dt.UTC)), b
            day += dt.timedelta(days=1)

    def is_open(self, at: dt.datetime) -> bool:
        first = next(self.windows(at), None)
        return first is not None and first[0] <= at.astimezone(dt.UTC) < first[1]

    def add(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The moment ``duration`` of business time after ``start`` has passed (UTC)."""
        remaining = duration
        for a, b in self.windows(start):
            if remaining <= b - a:
                return a + remaining
            remaining -= b - a
        raise CalendarError(f"the calendar is not open for {duration} within {MAX_DAYS} days", "hours")

    def between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Business time inside [start, end)."""
        _aware(end)
        total = dt.timedelta()
        if end <= start:
            return total
        for a, b in self.windows(start):
            if a >= end:
                break
            total += min(b, end) - a
        return total


def _wall(midnight: dt.datetime, minutes: int) -> dt.datetime:
    """Local wall-clock time ``minutes`` after midnight, in UTC. Aware arithmetic in one zone is
    wall-clock arithmetic, and zoneinfo picks the offset in force at that wall time."""
    return (midnight + dt.timedelta(minutes=minutes)).astimezone(dt.UTC)


def _aware(t: dt.datetime) -> None:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError("business-hours arithmetic needs timezone-aware datetimes")
