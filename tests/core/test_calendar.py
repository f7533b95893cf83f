"""Business-time arithmetic: worked examples (the property tests are in test_calendar_properties.py)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import override_settings

from portal_social.core import calendar
from portal_social.core.calendar.hours import format_day, parse_day
from portal_social.core.calendar.schedule import wall_time_instant
from tests.core.test_calendar_schedules import (
    JERUSALEM,
    JERUSALEM_OFFICE,
    LONDON,
    LONDON_CLINIC,
    NEW_YORK,
    NY_ALWAYS,
    NY_NIGHTS,
    NY_OFFICE,
    WEEKDAYS_9_TO_5,
    local,
    make_schedule,
)

HOUR = dt.timedelta(hours=1)
add = calendar.add_business_time
between = calendar.business_time_between


def ny(*args, fold=0):
    return local(NEW_YORK, *args, fold=fold)


# --------------------------------------------------------------------------- weekly hours


def test_friday_afternoon_plus_two_hours_is_monday_ten():
    assert add(ny(2026, 11, 20, 16), 2 * HOUR, NY_OFFICE) == ny(2026, 11, 23, 10)


def test_time_used_up_at_closing_rolls_forward_to_the_next_opening():
    assert add(ny(2026, 11, 20, 16), HOUR, NY_OFFICE) == ny(2026, 11, 23, 9)
    assert between(ny(2026, 11, 20, 16), ny(2026, 11, 23, 9), NY_OFFICE) == HOUR


def test_start_outside_hours_counts_from_the_next_opening():
    assert add(ny(2026, 11, 21, 12), HOUR, NY_OFFICE) == ny(2026, 11, 23, 10)  # Saturday
    assert add(ny(2026, 11, 23, 7), dt.timedelta(0), NY_OFFICE) == ny(2026, 11, 23, 9)
    assert add(ny(2026, 11, 23, 11), dt.timedelta(0), NY_OFFICE) == ny(2026, 11, 23, 11)


def test_split_day_skips_the_lunch_closure():
    london = local(LONDON, 2026, 6, 3, 11, 30)
    assert add(london, HOUR, LONDON_CLINIC) == local(LONDON, 2026, 6, 3, 13, 30)
    assert between(london, local(LONDON, 2026, 6, 3, 14), LONDON_CLINIC) == 90 * dt.timedelta(minutes=1)


def test_sunday_is_a_working_day_where_the_calendar_says_so():
    friday = local(JERUSALEM, 2026, 6, 5, 12)
    assert add(friday, HOUR, JERUSALEM_OFFICE) == local(JERUSALEM, 2026, 6, 7, 9)


def test_result_is_in_the_calendars_time_zone():
    result = add(dt.datetime(2026, 6, 3, 14, tzinfo=dt.UTC), HOUR, NY_OFFICE)
    assert result.tzinfo == NEW_YORK
    assert result == ny(2026, 6, 3, 11)


# --------------------------------------------------------------------------- holidays and closures


def test_us_thanksgiving_is_skipped():
    wednesday = ny(2026, 11, 25, 16)
    assert add(wednesday, 2 * HOUR, NY_OFFICE) == ny(2026, 11, 27, 10)
    assert between(wednesday, ny(2026, 11, 27, 17), NY_OFFICE) == 9 * HOUR


def test_english_bank_holiday_is_skipped():
    assert add(local(LONDON, 2026, 4, 2, 17, 30), HOUR, LONDON_CLINIC) == local(
        LONDON, 2026, 4, 7, 9
    )  # Good Friday, Easter Monday


def test_local_closure_is_skipped():
    # Closed from Wednesday 10:00 to Friday 12:00 (a snowstorm).
    assert add(local(LONDON, 2026, 1, 14, 9), 2 * HOUR, LONDON_CLINIC) == local(LONDON, 2026, 1, 16, 14)
    assert between(local(LONDON, 2026, 1, 14, 8), local(LONDON, 2026, 1, 16, 17, 30), LONDON_CLINIC) == 6.5 * HOUR


# --------------------------------------------------------------------------- daylight saving


def test_spring_forward_day_counts_real_elapsed_time():
    # 8 March 2026: New York clocks jump from 02:00 to 03:00.
    assert between(ny(2026, 3, 8), ny(2026, 3, 9), NY_ALWAYS) == 23 * HOUR
    assert add(ny(2026, 3, 8, 1, 30), HOUR, NY_ALWAYS) == ny(2026, 3, 8, 3, 30)


def test_spring_forward_outside_hours_leaves_the_day_whole():
    sunday_office = make_schedule(NEW_YORK, {"sun": "08:00-17:00"})
    assert between(ny(2026, 3, 8), ny(2026, 3, 9), sunday_office) == 9 * HOUR


def test_opening_time_the_clock_skips_opens_at_the_jump():
    # NY_NIGHTS opens 02:30, which does not exist on 8 March 2026.
    assert add(ny(2026, 3, 8, 1, 45), dt.timedelta(0), NY_NIGHTS) == ny(2026, 3, 8, 3)
    assert between(ny(2026, 3, 8, 1, 30), ny(2026, 3, 8, 4), NY_NIGHTS) == HOUR


def test_fall_back_day_counts_the_repeated_hour():
    # 1 November 2026: New York clocks go back from 02:00 to 01:00.
    assert between(ny(2026, 11, 1), ny(2026, 11, 2), NY_ALWAYS) == 25 * HOUR
    assert add(ny(2026, 11, 1, 0, 30), 2 * HOUR, NY_ALWAYS) == ny(2026, 11, 1, 1, 30, fold=1)


def test_closing_time_shown_twice_closes_at_its_first_showing():
    # NY_NIGHTS closes at 01:30: on the fall-back night that is 01:30 EDT.
    first = ny(2026, 11, 1, 1, 30)
    assert between(ny(2026, 11, 1, 0, 30), ny(2026, 11, 1, 2, 30), NY_NIGHTS) == HOUR
    assert add(ny(2026, 11, 1, 1), dt.timedelta(minutes=30), NY_NIGHTS) == ny(2026, 11, 1, 2, 30)
    assert first.utcoffset() == -4 * HOUR


def test_office_hours_are_nine_real_hours_on_both_change_days():
    for day in (dt.date(2026, 3, 9), dt.date(2026, 11, 2)):  # the Mondays after the changes
        assert between(ny(day.year, day.month, day.day), ny(day.year, day.month, day.day, 23), NY_OFFICE) == 8 * HOUR


def test_wall_time_instant_never_runs_backwards_through_a_gap():
    day = dt.date(2026, 3, 8)
    instants = [wall_time_instant(day, minutes, NEW_YORK) for minutes in range(0, 24 * 60, 5)]
    assert instants == sorted(instants)
    assert wall_time_instant(day, 150, NEW_YORK) == ny(2026, 3, 8, 3)  # 02:30 -> the jump
    assert wall_time_instant(day, 120, NEW_YORK) == ny(2026, 3, 8, 3)  # 02:00 -> the jump


# --------------------------------------------------------------------------- pauses


def test_pause_does_not_count():
    waiting = [(ny(2026, 6, 3, 10), ny(2026, 6, 3, 14))]
    assert between(ny(2026, 6, 3, 9), ny(2026, 6, 3, 17), NY_OFFICE, pauses=waiting) == 4 * HOUR
    assert add(ny(2026, 6, 3, 9), 2 * HOUR, NY_OFFICE, pauses=waiting) == ny(2026, 6, 3, 15)


def test_unfinished_pause_stops_the_clock():
    waiting = [(ny(2026, 6, 3, 10), None)]
    assert between(ny(2026, 6, 3, 9), ny(2026, 6, 10, 9), NY_OFFICE, pauses=waiting) == HOUR


def test_overlapping_pauses_count_once():
    waiting = [(ny(2026, 6, 3, 10), ny(2026, 6, 3, 12)), (ny(2026, 6, 3, 11), ny(2026, 6, 3, 13))]
    assert between(ny(2026, 6, 3, 9), ny(2026, 6, 3, 17), NY_OFFICE, pauses=waiting) == 5 * HOUR


def test_pause_ending_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="ends before it starts"):
        between(ny(2026, 6, 3, 9), ny(2026, 6, 3, 17), NY_OFFICE, pauses=[(ny(2026, 6, 3, 12), ny(2026, 6, 3, 11))])


# --------------------------------------------------------------------------- errors and limits


@pytest.mark.parametrize(
    "call",
    [
        lambda: add(dt.datetime(2026, 6, 3, 9), HOUR, NY_OFFICE),
        lambda: between(dt.datetime(2026, 6, 3, 9), ny(2026, 6, 3, 10), NY_OFFICE),
        lambda: between(ny(2026, 6, 3, 9), dt.datetime(2026, 6, 3, 10), NY_OFFICE),
        lambda: between(ny(2026, 6, 3, 9), ny(2026, 6, 3, 10), NY_OFFICE, pauses=[(dt.datetime(2026, 6, 3), None)]),
    ],
)
def test_naive_datetimes_are_refused(call):
    with pytest.raises(calendar.NaiveDatetimeError, match="naive datetime"):
        call()


def test_negative_duration_is_refused():
    with pytest.raises(ValueError, match="negative"):
        add(ny(2026, 6, 3, 9), -HOUR, NY_OFFICE)


def test_business_time_backwards_is_negative():
    assert between(ny(2026, 6, 3, 17), ny(2026, 6, 3, 9), NY_OFFICE) == -8 * HOUR


def test_a_calendar_never_open_fails_fast_with_a_clear_error():
    closed = make_schedule("UTC", {})
    started = time.perf_counter()
    with pytest.raises(calendar.BeyondHorizonError, match="check that it has opening hours"):
        add(ny(2026, 6, 3, 9), HOUR, closed)
    assert time.perf_counter() - started < 5


def test_spans_beyond_five_years_are_refused():
    with pytest.raises(calendar.BeyondHorizonError):
        between(ny(2020, 1, 1), ny(2026, 1, 1), NY_OFFICE)
    with pytest.raises(calendar.BeyondHorizonError):
        add(ny(2026, 1, 1), 12_000 * HOUR, NY_OFFICE)


def test_a_year_of_office_hours_is_reached():
    # 2000 hours is a working year: 250 days of 8 hours.
    start = ny(2026, 1, 5, 9)
    end = add(start, 2000 * HOUR, NY_OFFICE)
    assert between(start, end, NY_OFFICE) == 2000 * HOUR
    assert dt.date(2027, 1, 1) < end.date() < dt.date(2027, 2, 1)


# --------------------------------------------------------------------------- hours text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00-17:00", ((540, 1020),)),
        ("8:00 - 12:00, 13:00-17:00", ((480, 720), (780, 1020))),
        ("13:00-17:00; 08:00-12:00", ((480, 720), (780, 1020))),
        ("08:00-12:00, 12:00-17:00", ((480, 1020),)),
        ("00:00-24:00", ((0, 1440),)),
        ("", ()),
    ],
)
def test_hours_text_is_read(text, expected):
    assert parse_day(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9-17", "not a time of day"),
        ("09:00", "not an interval"),
        ("17:00-09:00", "closes before it opens"),
        ("22:00-02:00", "overnight"),
        ("08:00-12:00, 11:00-13:00", "overlap"),
        ("08:00-25:00", "not a time of day"),
        ("08:00-24:30", "later than 24:00"),
    ],
)
def test_wrong_hours_text_says_what_is_wrong(text, message):
    with pytest.raises(ValidationError, match=message):
        parse_day(text)


def test_hours_text_round_trips():
    assert format_day(parse_day("8:00-12:00,13:00-17:30")) == "08:00-12:00, 13:00-17:30"


# --------------------------------------------------------------------------- the default calendar


def test_default_calendar_needs_no_set_up():
    schedule = calendar.default_schedule()
    assert schedule.time_zone.key == "America/New_York"  # the example portal's TIME_ZONE
    assert schedule.hours == NY_OFFICE.hours
    assert add(ny(2026, 11, 25, 16), 2 * HOUR) == ny(2026, 11, 27, 10)


@override_settings(
    PORTAL_SOCIAL_BUSINESS_CALENDAR={"time_zone": "Europe/London", "country": "GB", "subdivision": "SCT"}
)
def test_default_calendar_follows_the_setting():
    schedule = calendar.default_schedule()
    assert (schedule.time_zone.key, schedule.country, schedule.subdivision) == ("Europe/London", "GB", "SCT")
    assert schedule.hours == NY_OFFICE.hours
    assert calendar.is_open(local(LONDON, 2026, 4, 6, 10))  # Easter Monday is no holiday in Scotland


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, "not an IANA time zone"),
        ({"country": "XX"}, "holidays package supports"),
        ({"country": "US", "subdivision": "ZZ"}, "not a subdivision of US"),
        ({"hours": {"monday": "09:00-17:00"}}, "Unknown weekday"),
        ({"hours": {"mon": "9 to 5"}}, "not a time of day"),
        ({"opening": "09:00"}, "unknown keys opening"),
        ("09:00-17:00", "must be a dict"),
        ({"hours": ["09:00-17:00"]}, "Unknown weekday 09:00-17:00"),
        ({"hours": {"mon": 9}}, "hours must be a dict"),
    ],
)
def test_wrong_default_calendar_is_reported_at_start_up(value, message):
    with override_settings(PORTAL_SOCIAL_BUSINESS_CALENDAR=value):
        with pytest.raises(ImproperlyConfigured, match=message):
            calendar.default_schedule()
        [error] = calendar.check_default_calendar()
        assert message in error.msg
        assert error.id == "portal_social.E030"


def test_right_default_calendar_passes_the_check():
    assert calendar.check_default_calendar() == []


def test_is_open():
    assert calendar.is_open(ny(2026, 6, 3, 12), NY_OFFICE)
    assert not calendar.is_open(ny(2026, 6, 3, 17), NY_OFFICE)
    assert not calendar.is_open(ny(2026, 7, 3, 12), NY_OFFICE)  # Independence Day observed
    assert calendar.is_open(local(JERUSALEM, 2026, 6, 7, 12), JERUSALEM_OFFICE)  # a Sunday
    assert WEEKDAYS_9_TO_5


def test_a_broken_default_calendar_is_reported_by_the_system_checks(settings):
    from django.core import checks

    settings.PORTAL_SOCIAL_BUSINESS_CALENDAR = {"hours": {"mon": "nine to five"}}
    errors = [m for m in checks.run_checks() if m.id == "portal_social.E030"]
    assert len(errors) == 1
