"""SLA clocks: durations, policies, which clocks apply, and deadlines on business calendars.

Worked examples run on the default calendar (Monday to Friday 09:00-17:00 in
America/New_York, US federal holidays) and on explicit schedules; the
property tests at the end hold for any start, duration and pause.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from portal_social.core import calendar
from portal_social.core.calendar_models import BusinessCalendar
from portal_social.feedback import sla
from portal_social.feedback.models import Case, CasePause, Team
from tests.core.test_calendar_schedules import LONDON, NEW_YORK, NY_ALWAYS, NY_OFFICE, local

UTC = dt.UTC
HOUR = dt.timedelta(hours=1)
D = sla.parse_duration


def ny(*args, fold=0):
    return local(NEW_YORK, *args, fold=fold)


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [("1bh", 1, "bh"), ("3bd", 3, "bd"), ("7cd", 7, "cd"), ("24h", 24, "h"), (" 2 bd ", 2, "bd"), ("0bh", 0, "bh")],
)
def test_parse_duration_reads_an_amount_and_a_unit(text, amount, unit):
    duration = D(text)
    assert (duration.amount, duration.unit) == (amount, unit)
    assert str(duration) == f"{amount}{unit}"
    assert duration.business is (unit in ("bh", "bd"))


@pytest.mark.parametrize(
    "text", ["", "1", "bh", "1d", "1.5bh", "-1bh", "10000bh", "1BH", "one bh", "1 business hour", None, 3]
)
def test_parse_duration_refuses_anything_else(text):
    with pytest.raises(ValueError, match="is not a duration"):
        D(text)


# --------------------------------------------------------------------------- policies


def test_without_the_setting_the_default_policies_apply(settings):
    settings.PORTAL_SOCIAL_FEEDBACK_SLA = None
    assert sla.policy_for("complaint", "medium") == {
        "first_reply": D("1bh"),
        "acknowledge": D("1bd"),
        "resolve": D("3bd"),
    }
    assert sla.policy_for("complaint", "critical")["acknowledge"] == D("2bh")
    assert sla.policy_for("grievance", "low")["resolve"] == D("7cd")
    assert "resolve" not in sla.policy_for("compliment", "medium")


def test_more_specific_keys_override_star_then_type_then_type_and_severity(settings):
    settings.PORTAL_SOCIAL_FEEDBACK_SLA = {
        "*": {"first_reply": "4bh", "acknowledge": "5bd", "resolve": "10bd"},
        "complaint": {"acknowledge": "1bd", "resolve": "3bd"},
        "complaint:critical": {"acknowledge": "2bh"},
        "question:critical": {"resolve": "1h"},
    }
    assert sla.policy_for("complaint", "critical") == {
        "first_reply": D("4bh"),  # from "*"
        "acknowledge": D("2bh"),  # from "complaint:critical"
        "resolve": D("3bd"),  # from "complaint"
    }
    assert sla.policy_for("complaint", "low") == {"first_reply": D("4bh"), "acknowledge": D("1bd"), "resolve": D("3bd")}
    assert sla.policy_for("compliment", "critical") == {
        "first_reply": D("4bh"),
        "acknowledge": D("5bd"),
        "resolve": D("10bd"),
    }
    assert sla.policy_for("question", "critical")["resolve"] == D("1h")
    assert sla.policy_for("question", "high")["resolve"] == D("10bd")


@pytest.mark.parametrize(
    ("configured", "names"),
    [
        ("1bh", "must be a dict"),
        (42, "must be a dict"),
        ({"*": "1bh"}, "['*'] must be a dict of clocks"),
        ({"*": 5}, "['*'] must be a dict of clocks"),
        ({"complaint": {"reply": "1bh"}}, "unknown clock reply"),
        ({"complaint": {"resolve": "3 days"}}, "['complaint']: '3 days' is not a duration"),
        ({"grievance:high": {"acknowledge": "1w"}}, "['grievance:high']"),
    ],
)
def test_a_bad_setting_is_improperly_configured_and_named(settings, configured, names):
    settings.PORTAL_SOCIAL_FEEDBACK_SLA = configured
    with pytest.raises(ImproperlyConfigured) as raised:
        sla.policies()
    assert names in str(raised.value)
    [error] = sla.check_setting()
    assert error.id == "portal_social.E060" and names in error.msg


def test_a_good_setting_passes_the_system_check(settings):
    settings.PORTAL_SOCIAL_FEEDBACK_SLA = {"*": {"acknowledge": "2bd"}}
    assert sla.check_setting() == []
    assert sla.policies() == {"*": {"acknowledge": D("2bd")}}


# --------------------------------------------------------------------------- which clocks apply


@pytest.mark.parametrize(
    ("channel", "post_public", "expected"),
    [
        ("review", None, True),
        ("social", True, True),
        ("social", None, True),
        ("social", False, False),
        ("portal", None, False),
        ("community", None, False),
        ("phone", None, False),
        ("email", None, False),
    ],
)
def test_the_first_reply_clock_runs_only_for_public_items(channel, post_public, expected):
    case = Case(channel=channel, type="complaint", post_public=post_public)
    assert sla.applies(case, sla.FIRST_REPLY) is expected
    assert sla.applies(case, sla.ACKNOWLEDGE) and sla.applies(case, sla.RESOLVE)


# --------------------------------------------------------------------------- deadlines: weekends and holidays


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        (ny(2026, 6, 3, 10), "2bh", ny(2026, 6, 3, 12)),
        (ny(2026, 11, 20, 16), "2bh", ny(2026, 11, 23, 10)),  # Friday afternoon: Monday
        (ny(2026, 11, 20, 16), "1bh", ny(2026, 11, 23, 9)),  # used up at closing: the next opening
        (ny(2026, 11, 21, 12), "1bh", ny(2026, 11, 23, 10)),  # Saturday counts from Monday's opening
        (ny(2026, 11, 20, 12), "1bd", ny(2026, 11, 23, 17)),  # a business day: Monday's close
        (ny(2026, 11, 21, 12), "1bd", ny(2026, 11, 23, 17)),
        (ny(2026, 11, 18, 12), "3bd", ny(2026, 11, 23, 17)),
        (ny(2026, 11, 20, 12), "7cd", ny(2026, 11, 27, 12)),  # calendar days ignore weekends
        (ny(2026, 11, 21, 12), "24h", ny(2026, 11, 22, 12)),
        # Thanksgiving, Thursday 26 November 2026
        (ny(2026, 11, 25, 16), "2bh", ny(2026, 11, 27, 10)),
        (ny(2026, 11, 25, 16), "1bd", ny(2026, 11, 27, 17)),
        (ny(2026, 11, 25, 12), "3bd", ny(2026, 12, 1, 17)),
        (ny(2026, 11, 25, 16), "2cd", ny(2026, 11, 27, 16)),
        # Christmas (Friday 25 December 2026) and New Year's Day (Friday 1 January 2027)
        (ny(2026, 12, 24, 16), "2bh", ny(2026, 12, 28, 10)),
        (ny(2026, 12, 24, 12), "1bd", ny(2026, 12, 28, 17)),
        (ny(2026, 12, 31, 16), "9bh", ny(2027, 1, 5, 9)),
        # Independence Day 2026 is a Saturday: observed on Friday 3 July
        (ny(2026, 7, 2, 16), "2bh", ny(2026, 7, 6, 10)),
    ],
)
def test_deadlines_skip_weekends_and_us_holidays(start, duration, due):
    assert sla.deadline(start, D(duration), NY_OFFICE) == due
    assert sla.deadline(start.astimezone(UTC), D(duration), None) == due  # the default calendar: the same


def test_a_teams_calendar_sets_its_own_hours(db):
    london = BusinessCalendar.objects.create(
        name="London office",
        slug="london-office",
        time_zone="Europe/London",
        country="GB",
        subdivision="ENG",
        **{day: "09:00-17:00" for day in ("monday", "tuesday", "wednesday", "thursday", "friday")},
    )
    start = local(LONDON, 2026, 6, 1, 16, 30)  # 11:30 in New York
    assert sla.deadline(start, D("1bh"), london) == local(LONDON, 2026, 6, 2, 9, 30)
    assert sla.deadline(start, D("1bh"), None) == ny(2026, 6, 1, 12, 30)
    assert sla.deadline(start, D("1bd"), london) == local(LONDON, 2026, 6, 2, 17)
    # The late May bank holiday (Monday 25 May 2026) is closed in London, not in New York.
    assert sla.deadline(local(LONDON, 2026, 5, 22, 12), D("1bd"), london) == local(LONDON, 2026, 5, 26, 17)


# --------------------------------------------------------------------------- deadlines: daylight saving


def test_business_hours_across_the_spring_forward_weekend():
    # Clocks spring forward on Sunday 8 March 2026; offices still open at 09:00 local.
    assert sla.deadline(ny(2026, 3, 6, 16), D("2bh"), None) == ny(2026, 3, 9, 10)
    assert sla.deadline(ny(2026, 3, 6, 12), D("1bd"), None) == dt.datetime(2026, 3, 9, 21, tzinfo=UTC)


def test_business_hours_across_the_fall_back_weekend():
    assert sla.deadline(ny(2026, 10, 30, 16), D("2bh"), None) == ny(2026, 11, 2, 10)
    assert sla.deadline(ny(2026, 10, 30, 12), D("1bd"), None) == dt.datetime(2026, 11, 2, 22, tzinfo=UTC)


def test_on_a_calendar_that_never_closes_business_hours_are_real_hours_across_a_change():
    assert sla.deadline(ny(2026, 3, 8), D("24bh"), NY_ALWAYS) == ny(2026, 3, 9, 1)  # a 23-hour day
    assert sla.deadline(ny(2026, 11, 1), D("24bh"), NY_ALWAYS) == ny(2026, 11, 1, 23)  # a 25-hour day


@pytest.mark.parametrize("start", [ny(2026, 3, 7, 12), ny(2026, 10, 31, 12)])
def test_real_hours_are_real_whatever_zone_the_start_is_written_in(start):
    for written in (start, start.astimezone(UTC)):
        due = sla.deadline(written, D("24h"), None)
        assert due.astimezone(UTC) == start.astimezone(UTC) + 24 * HOUR


@pytest.mark.parametrize(
    ("start", "due", "real"),
    [
        (ny(2026, 3, 7, 12), ny(2026, 3, 8, 12), 23 * HOUR),  # spring forward
        (ny(2026, 10, 31, 12), ny(2026, 11, 1, 12), 25 * HOUR),  # fall back
    ],
)
def test_a_calendar_day_ends_at_the_same_local_time_the_next_day(start, due, real):
    for written in (start, start.astimezone(UTC)):
        assert sla.deadline(written, D("1cd"), None) == due
    assert due.astimezone(UTC) - start.astimezone(UTC) == real


# --------------------------------------------------------------------------- deadlines: pauses


def test_a_pause_moves_a_business_hours_deadline_by_the_business_time_paused():
    start = ny(2026, 6, 1, 9)  # a Monday
    assert sla.deadline(start, D("4bh"), None) == ny(2026, 6, 1, 13)
    assert sla.deadline(start, D("4bh"), None, [(ny(2026, 6, 1, 10), ny(2026, 6, 1, 12))]) == ny(2026, 6, 1, 15)
    # Overnight: only 16:00-17:00 and 09:00-10:00 were business time.
    overnight = [(ny(2026, 6, 1, 16), ny(2026, 6, 2, 10))]
    assert sla.deadline(ny(2026, 6, 1, 15), D("2bh"), None, overnight) == ny(2026, 6, 2, 11)


def test_a_pause_outside_business_hours_changes_nothing_for_business_clocks():
    start = ny(2026, 6, 1, 9)
    evening = [(ny(2026, 6, 1, 18), ny(2026, 6, 1, 22))]
    weekend = [(ny(2026, 6, 6, 8), ny(2026, 6, 7, 20))]
    for pauses in (evening, weekend, evening + weekend):
        assert sla.deadline(start, D("12bh"), None, pauses) == sla.deadline(start, D("12bh"), None)
        assert sla.deadline(start, D("1bd"), None, pauses) == sla.deadline(start, D("1bd"), None)


def test_a_pause_moves_a_business_day_deadline_by_the_business_time_paused():
    start = ny(2026, 6, 1, 9)
    assert sla.deadline(start, D("1bd"), None) == ny(2026, 6, 2, 17)
    assert sla.deadline(start, D("1bd"), None, [(ny(2026, 6, 1, 10), ny(2026, 6, 1, 12))]) == ny(2026, 6, 3, 11)


def test_a_pause_moves_a_calendar_day_deadline_by_real_time_even_on_a_weekend():
    start = ny(2026, 6, 1, 9)
    saturday = [(ny(2026, 6, 6, 10), ny(2026, 6, 6, 13))]
    assert sla.deadline(start, D("7cd"), None, saturday) == ny(2026, 6, 8, 12)
    assert sla.deadline(start, D("24h"), None, [(ny(2026, 6, 1, 23), ny(2026, 6, 2, 1))]) == ny(2026, 6, 2, 11)


def test_a_pause_after_the_deadline_changes_nothing():
    start = ny(2026, 6, 1, 9)
    later = [(ny(2026, 6, 20, 10), ny(2026, 6, 22, 10))]
    for duration in ("4bh", "1bd", "7cd", "24h"):
        assert sla.deadline(start, D(duration), None, later) == sla.deadline(start, D(duration), None)


def test_a_second_pause_after_the_first_deadline_still_counts():
    start = ny(2026, 6, 1, 9)  # business-day deadline: Tuesday 17:00
    first = (ny(2026, 6, 1, 16), ny(2026, 6, 2, 16))  # 8 business hours: now due Wednesday's close
    second = (ny(2026, 6, 3, 10), ny(2026, 6, 3, 11))  # while the clock still runs
    assert sla.deadline(start, D("1bd"), None, [first, second]) == ny(2026, 6, 4, 10)
    first = (ny(2026, 6, 1, 10), ny(2026, 6, 7, 10))  # six days: due 14 June, 09:00
    second = (ny(2026, 6, 9, 11), ny(2026, 6, 9, 12))
    assert sla.deadline(start, D("7cd"), None, [first, second]) == ny(2026, 6, 14, 10)


def test_overlapping_pauses_count_once():
    start = ny(2026, 6, 1, 9)
    pauses = [(ny(2026, 6, 1, 10), ny(2026, 6, 1, 12)), (ny(2026, 6, 1, 11), ny(2026, 6, 1, 13))]
    assert sla.deadline(start, D("4bh"), None, pauses) == ny(2026, 6, 1, 16)
    assert sla.deadline(start, D("1bd"), None, pauses) == ny(2026, 6, 3, 12)
    assert sla.deadline(start, D("1cd"), None, pauses) == ny(2026, 6, 2, 12)


# --------------------------------------------------------------------------- a case's clocks


def _case(**fields):
    fields.setdefault("received_at", ny(2026, 6, 1, 9))
    fields.setdefault("type", "complaint")
    return Case.objects.create(reference=f"T-{Case.objects.count()}", **fields)


@pytest.mark.django_db
def test_compute_gives_each_clock_of_the_policy_and_none_for_the_others():
    review = _case(channel="review")
    assert sla.compute(review, now=ny(2026, 6, 1, 9)) == {
        "first_reply_due_at": ny(2026, 6, 1, 10),
        "acknowledge_due_at": ny(2026, 6, 2, 17),
        "resolve_due_at": ny(2026, 6, 4, 17),
    }
    portal = _case(channel="portal")
    assert sla.compute(portal, now=ny(2026, 6, 1, 9))["first_reply_due_at"] is None
    compliment = _case(channel="portal", type="compliment")
    assert sla.compute(compliment, now=ny(2026, 6, 1, 9)) == {
        "first_reply_due_at": None,
        "acknowledge_due_at": ny(2026, 6, 3, 17),
        "resolve_due_at": None,
    }


@pytest.mark.django_db
def test_compute_counts_ended_pauses_and_an_open_one_until_now():
    case = _case(channel="portal")
    CasePause.objects.create(case=case, started_at=ny(2026, 6, 1, 10), ended_at=ny(2026, 6, 1, 11))
    case.paused_since = ny(2026, 6, 2, 9)
    CasePause.objects.create(case=case, started_at=case.paused_since)
    due = sla.compute(case, now=ny(2026, 6, 2, 12))
    # One hour, then three hours (until now) of business time paused.
    assert due["acknowledge_due_at"] == ny(2026, 6, 3, 13)
    assert due["resolve_due_at"] == ny(2026, 6, 5, 13)


@pytest.mark.django_db
def test_compute_uses_the_teams_calendar():
    always = BusinessCalendar.objects.create(
        name="Around the clock",
        slug="always",
        time_zone="America/New_York",
        **{day: "00:00-24:00" for day in BusinessCalendar.DAY_FIELDS},
    )
    team = Team.objects.create(name="Night desk", slug="night-desk", calendar=always)
    case = _case(channel="review", team=team, received_at=ny(2026, 6, 6, 20))  # a Saturday evening
    assert sla.compute(case, now=case.received_at)["first_reply_due_at"] == ny(2026, 6, 6, 21)


@pytest.mark.django_db
def test_running_missed_and_next_deadline():
    case = _case(channel="portal", acknowledge_due_at=ny(2026, 6, 2, 17), resolve_due_at=ny(2026, 6, 4, 17))
    assert sla.running(case) == ["acknowledge", "resolve"]
    assert sla.next_deadline(case) == ny(2026, 6, 2, 17)
    assert sla.missed(case, ny(2026, 6, 2, 16, 59)) == []
    assert sla.missed(case, ny(2026, 6, 2, 17)) == ["acknowledge"]
    case.breaches = ["acknowledge"]
    assert sla.missed(case, ny(2026, 6, 5, 9)) == ["resolve"]
    assert sla.next_deadline(case) == ny(2026, 6, 4, 17)
    case.acknowledged_at = ny(2026, 6, 1, 12)
    assert sla.running(case) == ["resolve"]
    case.paused_since = ny(2026, 6, 3, 9)
    assert sla.running(case) == [] and sla.missed(case, ny(2026, 7, 1)) == [] and sla.next_deadline(case) is None
    case.paused_since, case.status = None, Case.Status.RESOLVED
    assert sla.running(case) == []


# --------------------------------------------------------------------------- properties

properties = hypothesis_settings(deadline=None, max_examples=50, suppress_health_check=[HealthCheck.too_slow])

schedules = st.sampled_from([NY_OFFICE, NY_ALWAYS])
units = st.sampled_from(["bh", "bd", "cd", "h"])
starts = st.one_of(
    st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31), timezones=st.just(UTC)),
    st.builds(
        lambda day, offset: dt.datetime.combine(day, dt.time(), tzinfo=UTC) + offset,
        st.sampled_from([dt.date(2026, 3, 8), dt.date(2026, 11, 1), dt.date(2026, 11, 26), dt.date(2026, 12, 25)]),
        st.timedeltas(min_value=dt.timedelta(hours=-30), max_value=dt.timedelta(hours=30)),
    ),
)
pause_edges = st.tuples(
    st.timedeltas(min_value=dt.timedelta(hours=-12), max_value=dt.timedelta(days=20)),
    st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=5)),
)


def _pause(start, edges):
    offset, length = edges
    return (start + offset, start + offset + length)


@properties
@given(schedules, starts, units, st.integers(0, 40), st.integers(0, 40))
def test_a_longer_duration_never_ends_sooner(schedule, start, unit, a, b):
    short, long = sorted((a, b))
    assert sla.deadline(start, sla.Duration(short, unit), schedule) <= sla.deadline(
        start, sla.Duration(long, unit), schedule
    )


@properties
@given(schedules, starts, units, st.integers(0, 40), st.lists(pause_edges, max_size=3), pause_edges)
def test_adding_a_pause_never_makes_a_deadline_earlier(schedule, start, unit, amount, edges, extra):
    duration = sla.Duration(amount, unit)
    pauses = [_pause(start, e) for e in edges]
    before = sla.deadline(start, duration, schedule, pauses)
    after = sla.deadline(start, duration, schedule, [*pauses, _pause(start, extra)])
    assert after >= before


@properties
@given(schedules, starts, units, st.integers(0, 40), st.lists(pause_edges, max_size=3), pause_edges)
def test_a_pause_of_zero_length_changes_nothing(schedule, start, unit, amount, edges, at):
    duration = sla.Duration(amount, unit)
    pauses = [_pause(start, e) for e in edges]
    moment = start + at[0]
    assert sla.deadline(start, duration, schedule, [*pauses, (moment, moment)]) == sla.deadline(
        start, duration, schedule, pauses
    )


@properties
@given(schedules, starts)
def test_zero_business_hours_is_the_first_open_moment_from_the_start(schedule, start):
    due = sla.deadline(start, D("0bh"), schedule)
    assert due >= start
    assert calendar.is_open(due, schedule)
    assert calendar.business_time_between(start, due, schedule) == dt.timedelta(0)


@properties
@given(schedules, starts, st.integers(0, 40), st.lists(pause_edges, max_size=3))
def test_business_hours_used_outside_pauses_equal_the_duration(schedule, start, amount, edges):
    pauses = [_pause(start, e) for e in edges]
    due = sla.deadline(start, sla.Duration(amount, "bh"), schedule, pauses)
    assert calendar.business_time_between(start, due, schedule, pauses=pauses) == amount * HOUR
