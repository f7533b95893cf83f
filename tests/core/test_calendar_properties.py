"""Business-time arithmetic: properties that hold for any start, duration and calendar.

Starts are drawn from 2024-2028 at microsecond resolution, with extra weight
on the days clocks change in New York, London and Jerusalem.
"""

from __future__ import annotations

import datetime as dt
import functools

import holidays
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from portal_social.core.calendar import add_business_time as add
from portal_social.core.calendar import business_time_between as between
from portal_social.core.calendar.schedule import wall_time_instant
from tests.core.test_calendar_schedules import ALL_SCHEDULES, DST_DAYS, LONDON_CLINIC, NY_OFFICE

UTC = dt.UTC
ZERO = dt.timedelta(0)

settings = hypothesis_settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])

schedules = st.sampled_from(ALL_SCHEDULES)

anywhen = st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2028, 12, 31), timezones=st.just(UTC))
near_a_change = st.builds(
    lambda day, offset: dt.datetime.combine(day, dt.time(), tzinfo=UTC) + offset,
    st.sampled_from(DST_DAYS),
    st.timedeltas(min_value=dt.timedelta(hours=-30), max_value=dt.timedelta(hours=30)),
)
on_the_quarter_hour = anywhen.map(lambda value: value.replace(minute=value.minute // 15 * 15, second=0, microsecond=0))
on_the_hour = anywhen.map(lambda value: value.replace(minute=0, second=0, microsecond=0))
starts = st.one_of(anywhen, on_the_quarter_hour, on_the_hour, near_a_change)
durations = st.one_of(
    st.timedeltas(min_value=ZERO, max_value=dt.timedelta(hours=12)),
    st.timedeltas(min_value=ZERO, max_value=dt.timedelta(days=60)),
    st.integers(min_value=0, max_value=200).map(lambda minutes: dt.timedelta(minutes=minutes)),
    st.integers(min_value=0, max_value=300).map(lambda quarters: quarters * dt.timedelta(minutes=15)),
    # Whole hours from whole hours often end exactly at a closing time.
    st.integers(min_value=0, max_value=60).map(lambda hours: hours * dt.timedelta(hours=1)),
)
#: Pauses, as offsets from the start: (begins after, lasts).
pause_offsets = st.lists(
    st.tuples(
        st.timedeltas(min_value=dt.timedelta(hours=-10), max_value=dt.timedelta(days=10)),
        st.timedeltas(min_value=ZERO, max_value=dt.timedelta(days=3)),
    ),
    max_size=4,
)


@functools.cache
def public_holidays(country, subdivision, year):
    return frozenset(holidays.country_holidays(country, subdiv=subdivision or None, years=year))


def counts(schedule, instant, pauses=()) -> bool:
    """Whether ``instant`` is business time, from the calendar's definition and no arithmetic."""
    local = instant.astimezone(schedule.time_zone)
    day = local.date()
    if schedule.country and day in public_holidays(schedule.country, schedule.subdivision, day.year):
        return False
    if any(start <= instant < end for start, end in schedule.closures):
        return False
    if any(start <= instant < end for start, end in pauses):
        return False
    return any(
        wall_time_instant(day, opens, schedule.time_zone)
        <= instant
        < wall_time_instant(day, closes, schedule.time_zone)
        for opens, closes in schedule.hours[day.weekday()]
    )


def inside_posted_hours(schedule, instant) -> bool:
    """On a day the clocks do not change, the local wall time is within the posted hours."""
    local = instant.astimezone(schedule.time_zone)
    minutes = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
    return any(opens <= minutes < closes for opens, closes in schedule.hours[local.weekday()])


def clocks_change_on(schedule, day) -> bool:
    zone = schedule.time_zone
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    return midnight.utcoffset() != (midnight + dt.timedelta(days=1)).replace(tzinfo=zone).utcoffset() or (
        midnight.utcoffset() != midnight.replace(hour=23, minute=59).utcoffset()
    )


@settings
@given(schedules, starts, durations)
def test_business_time_to_the_result_is_the_duration(schedule, start, duration):
    assert between(start, add(start, duration, schedule), schedule) == duration


@settings
@given(schedules, starts, durations)
def test_result_is_a_moment_that_counts(schedule, start, duration):
    result = add(start, duration, schedule)
    assert result >= start
    assert counts(schedule, result)
    if not clocks_change_on(schedule, result.astimezone(schedule.time_zone).date()):
        assert inside_posted_hours(schedule, result)


@settings
@given(schedules, starts, durations, durations)
def test_adding_in_two_steps_is_adding_once(schedule, start, first, second):
    assert add(add(start, first, schedule), second, schedule) == add(start, first + second, schedule)


@settings
@given(schedules, starts, durations, durations)
def test_longer_durations_end_no_earlier(schedule, start, one, other):
    shorter, longer = sorted((one, other))
    assert add(start, shorter, schedule) <= add(start, longer, schedule)


@settings
@given(schedules, starts, st.timedeltas(min_value=ZERO, max_value=dt.timedelta(days=20)), durations)
def test_later_starts_end_no_earlier(schedule, start, delay, duration):
    assert add(start, duration, schedule) <= add(start + delay, duration, schedule)


@settings
@given(schedules, starts, st.timedeltas(min_value=ZERO, max_value=dt.timedelta(days=20)))
def test_business_time_never_exceeds_elapsed_time(schedule, start, elapsed):
    measured = between(start, start + elapsed, schedule)
    assert ZERO <= measured <= elapsed
    assert between(start + elapsed, start, schedule) == -measured


@settings
@given(
    schedules,
    starts,
    st.timedeltas(min_value=ZERO, max_value=dt.timedelta(days=10)),
    st.timedeltas(min_value=ZERO, max_value=dt.timedelta(days=10)),
)
def test_business_time_adds_up_over_consecutive_spans(schedule, start, first, second):
    middle, end = start + first, start + first + second
    assert between(start, end, schedule) == between(start, middle, schedule) + between(middle, end, schedule)


@settings
@given(schedules, starts, durations, pause_offsets)
def test_pauses_do_not_count(schedule, start, duration, offsets):
    pauses = [(start + begins, start + begins + lasts) for begins, lasts in offsets]
    result = add(start, duration, schedule, pauses=pauses)
    assert between(start, result, schedule, pauses=pauses) == duration
    assert counts(schedule, result, pauses)
    # The unpaused business time is the paused business time plus the business time inside the pauses.
    inside = ZERO
    covered = []
    for begins, ends in sorted(pauses):
        begins, ends = max(begins, start), min(ends, result)
        if covered and begins <= covered[-1][1]:
            covered[-1] = (covered[-1][0], max(covered[-1][1], ends))
        elif begins < ends:
            covered.append((begins, ends))
    for begins, ends in covered:
        inside += max(between(begins, ends, schedule), ZERO)
    assert between(start, result, schedule) == duration + inside


@hypothesis_settings(deadline=None, max_examples=40)
@given(
    st.sampled_from((NY_OFFICE, LONDON_CLINIC)),
    anywhen.map(lambda value: value.replace(second=0, microsecond=0)),
    st.integers(min_value=0, max_value=3 * 24 * 60),
)
def test_business_minutes_match_a_minute_by_minute_count(schedule, start, minutes):
    """On calendars whose hours never contain a clock change, counting each minute gives the same answer."""
    expected = sum(
        1 for minute in range(minutes) if counts(schedule, start + dt.timedelta(minutes=minute))
    ) * dt.timedelta(minutes=1)
    assert between(start, start + dt.timedelta(minutes=minutes), schedule) == expected
