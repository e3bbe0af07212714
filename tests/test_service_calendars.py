"""Business hours: time is counted only while a calendar is open, in its own time zone, minus holidays."""

from __future__ import annotations

import datetime as dt

import pytest

from amity.service.calendars import BusinessHours, CalendarError

UTC = dt.UTC
WEEKDAYS = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def t(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def london() -> BusinessHours:
    return BusinessHours.parse("Europe/London", WEEKDAYS, ["2026-12-25", "2026-12-28"])


def test_inside_opening_hours_time_passes_as_on_the_wall() -> None:
    # Monday 2 March 2026, 10:00 in London is 10:00 UTC (winter time).
    assert london().add(t(2026, 3, 2, 10), dt.timedelta(hours=2)) == t(2026, 3, 2, 12)


def test_what_does_not_fit_today_continues_at_the_next_opening() -> None:
    # 16:00 + 3 business hours: one hour on Monday, two from Tuesday 09:00.
    assert london().add(t(2026, 3, 2, 16), dt.timedelta(hours=3)) == t(2026, 3, 3, 11)


def test_a_message_at_night_starts_counting_when_the_office_opens() -> None:
    assert london().add(t(2026, 3, 2, 22), dt.timedelta(minutes=30)) == t(2026, 3, 3, 9, 30)


def test_the_weekend_does_not_count() -> None:
    # Friday 6 March 16:30 + 1 h: 30 min on Friday, 30 min on Monday.
    assert london().add(t(2026, 3, 6, 16, 30), dt.timedelta(hours=1)) == t(2026, 3, 9, 9, 30)


def test_holidays_do_not_count() -> None:
    # Thursday 24 Dec 16:00 + 2 h: 1 h on the 24th; the 25th (holiday), weekend, 28th (holiday) skipped.
    assert london().add(t(2026, 12, 24, 16), dt.timedelta(hours=2)) == t(2026, 12, 29, 10)


def test_opening_hours_are_local_time_so_summer_time_moves_them_in_utc() -> None:
    lisbon = BusinessHours.parse("Europe/Lisbon", WEEKDAYS)
    # Winter: 09:00 Lisbon is 09:00 UTC. Summer (WEST, UTC+1): 09:00 Lisbon is 08:00 UTC.
    assert lisbon.add(t(2026, 1, 12, 3), dt.timedelta()) == t(2026, 1, 12, 9)
    assert lisbon.add(t(2026, 7, 13, 3), dt.timedelta()) == t(2026, 7, 13, 8)


def test_a_calendar_far_from_utc_counts_in_its_own_day() -> None:
    ny = BusinessHours.parse("America/New_York", WEEKDAYS)
    # Monday 2 March 2026 23:00 UTC is 18:00 in New York: closed; opens Tuesday 09:00 EST = 14:00 UTC.
    assert ny.add(t(2026, 3, 2, 23), dt.timedelta(hours=1)) == t(2026, 3, 3, 15)
    # Tokyo has no summer time and is 9 hours ahead: Monday 09:00 JST is Monday 00:00 UTC.
    tokyo = BusinessHours.parse("Asia/Tokyo", WEEKDAYS)
    assert tokyo.add(t(2026, 3, 1, 20), dt.timedelta(minutes=15)) == t(2026, 3, 2, 0, 15)


def test_the_day_the_clocks_go_forward_has_23_hours() -> None:
    london_ = BusinessHours.parse("Europe/London", {"sun": [["00:00", "24:00"]]})
    # Sunday 29 March 2026 has 23 hours in London; the whole day is open, so 23 hours are counted.
    day = london_.between(t(2026, 3, 28, 12), t(2026, 3, 30, 12))
    assert day == dt.timedelta(hours=23)


def test_business_time_between_two_moments() -> None:
    cal = london()
    assert cal.between(t(2026, 3, 2, 8), t(2026, 3, 2, 10)) == dt.timedelta(hours=1)
    assert cal.between(t(2026, 3, 6, 16), t(2026, 3, 9, 10)) == dt.timedelta(hours=2)
    assert cal.between(t(2026, 3, 9, 10), t(2026, 3, 6, 16)) == dt.timedelta()


def test_split_shifts_and_is_open() -> None:
    cal = BusinessHours.parse("UTC", {"mon": [["13:00", "17:00"], ["08:00", "12:00"]]})
    assert cal.add(t(2026, 3, 2, 11), dt.timedelta(hours=2)) == t(2026, 3, 2, 14)
    assert cal.is_open(t(2026, 3, 2, 8)) and not cal.is_open(t(2026, 3, 2, 12, 30))
    assert not cal.is_open(t(2026, 3, 3, 9))


def test_around_the_clock_counts_every_hour() -> None:
    always = BusinessHours.around_the_clock()
    assert always.add(t(2026, 3, 7, 23), dt.timedelta(hours=2)) == t(2026, 3, 8, 1)
    assert always.between(t(2026, 3, 7), t(2026, 3, 8)) == dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("tz", "hours", "holidays", "field"),
    [
        ("Mars/Olympus", WEEKDAYS, [], "timezone"),
        ("UTC", {"funday": [["09:00", "17:00"]]}, [], "hours.funday"),
        ("UTC", {"mon": [["9am", "17:00"]]}, [], "hours.mon[0]"),
        ("UTC", {"mon": [["17:00", "09:00"]]}, [], "hours.mon[0]"),
        ("UTC", {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}, [], "hours.mon"),
        ("UTC", {"mon": []}, [], "hours"),
        ("UTC", WEEKDAYS, ["25/12/2026"], "holidays[0]"),
    ],
)
def test_a_wrong_calendar_is_refused_naming_the_field(
    tz: str, hours: dict[str, list[list[str]]], holidays: list[str], field: str
) -> None:
    with pytest.raises(CalendarError) as err:
        BusinessHours.parse(tz, hours, holidays)
    assert err.value.field == field


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        london().add(dt.datetime(2026, 3, 2, 10), dt.timedelta(hours=1))  # noqa: DTZ001
