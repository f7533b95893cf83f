"""Business calendars kept in the database: validation, closures, queries and the admin."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError

from portal_social.core import calendar
from portal_social.core import calendar_admin as _calendar_admin  # noqa: F401  (registers the snippets)
from portal_social.core.calendar_models import BusinessCalendar, CalendarClosure
from tests.core.test_calendar_schedules import NEW_YORK, local
from tests.factories import sign_in

HOUR = dt.timedelta(hours=1)
OFFICE_HOURS = {"monday": "09:00-17:00", "tuesday": "09:00-17:00", "wednesday": "09:00-17:00"}
OFFICE_HOURS |= {"thursday": "09:00-17:00", "friday": "09:00-17:00"}


def ny(*args, fold=0):
    return local(NEW_YORK, *args, fold=fold)


@pytest.fixture
def relations(db):
    """Patient relations in New York: weekdays 09:00-17:00, US and New York State holidays."""
    return BusinessCalendar.objects.create(
        name="Patient relations",
        slug="patient-relations",
        time_zone="America/New_York",
        country="US",
        subdivision="NY",
        **OFFICE_HOURS,
    )


def close(calendar_row, starts_on, ends_on=None, *, start_time=None, end_time=None, reason="Snowstorm"):
    return CalendarClosure.objects.create(
        calendar=calendar_row,
        starts_on=starts_on,
        ends_on=ends_on or starts_on,
        start_time=start_time,
        end_time=end_time,
        reason=reason,
    )


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"time_zone": "Eastern"}, "time_zone", "not an IANA time zone"),
        ({"country": "ZZ"}, "country", "holidays package supports"),
        ({"subdivision": "ENG"}, "subdivision", "not a subdivision of US"),
        ({"country": "", "subdivision": "NY"}, "subdivision", "needs a country"),
        ({"monday": "9am-5pm"}, "monday", "not a time of day"),
        ({"friday": "08:00-12:00, 11:00-17:00"}, "friday", "overlap"),
    ],
)
def test_calendar_validation_names_the_field_and_the_fix(relations, changes, field, message):
    for name, value in changes.items():
        setattr(relations, name, value)
    with pytest.raises(ValidationError) as raised:
        relations.full_clean()
    assert message in " ".join(raised.value.message_dict[field])


def test_a_valid_calendar_passes(relations):
    relations.saturday = "09:00-12:00"
    relations.full_clean()


def test_closure_must_end_after_it_starts(relations):
    closure = CalendarClosure(
        calendar=relations,
        starts_on=dt.date(2026, 2, 10),
        start_time=dt.time(14),
        ends_on=dt.date(2026, 2, 10),
        end_time=dt.time(9),
        reason="Snowstorm",
    )
    with pytest.raises(ValidationError, match="must end after it starts"):
        closure.full_clean()


def test_closure_reason_refuses_patient_information(relations):
    closure = CalendarClosure(
        calendar=relations, starts_on=dt.date(2026, 2, 10), ends_on=dt.date(2026, 2, 10), reason="MRN 12345678"
    )
    with pytest.raises(ValidationError) as raised:
        closure.full_clean()
    assert "patient information" in " ".join(raised.value.message_dict["reason"])


# --------------------------------------------------------------------------- arithmetic on a stored calendar


def test_whole_day_closure_is_skipped(relations):
    close(relations, dt.date(2026, 2, 10))  # a Tuesday
    assert calendar.add_business_time(ny(2026, 2, 9, 16), 2 * HOUR, relations) == ny(2026, 2, 11, 10)


def test_closure_with_times_is_local_to_the_calendar(relations):
    close(relations, dt.date(2026, 2, 10), start_time=dt.time(12), end_time=dt.time(15))
    assert calendar.business_time_between(ny(2026, 2, 10), ny(2026, 2, 11), relations) == 5 * HOUR
    assert calendar.add_business_time(ny(2026, 2, 10, 11), 2 * HOUR, relations) == ny(2026, 2, 10, 16)


def test_closure_over_several_days(relations):
    close(relations, dt.date(2026, 2, 10), dt.date(2026, 2, 12), start_time=dt.time(13))
    assert calendar.business_time_between(ny(2026, 2, 9), ny(2026, 2, 14), relations) == (8 + 4 + 8) * HOUR


def test_subdivision_holidays_are_skipped(relations):
    # Lincoln's Birthday is a New York State holiday, not a federal one.
    assert calendar.add_business_time(ny(2026, 2, 11, 17), HOUR, relations) == ny(2026, 2, 13, 10)
    assert calendar.add_business_time(ny(2026, 2, 11, 17), HOUR) == ny(2026, 2, 12, 10)


def test_calendar_can_be_named_by_slug(relations):
    assert calendar.add_business_time(ny(2026, 2, 9, 16), 2 * HOUR, "patient-relations") == ny(2026, 2, 10, 10)


def test_closures_load_in_one_query_however_long_the_span(relations, django_assert_num_queries):
    for week in range(52):
        close(relations, dt.date(2026, 1, 7) + dt.timedelta(weeks=week), reason=f"Staff day {week}")
    with django_assert_num_queries(1):
        due = calendar.add_business_time(ny(2026, 1, 5, 9), 1500 * HOUR, relations)
    with django_assert_num_queries(1):
        used = calendar.business_time_between(ny(2026, 1, 5, 9), due, relations)
    assert used == 1500 * HOUR
    with django_assert_num_queries(2):  # the calendar, then its closures
        calendar.add_business_time(ny(2026, 1, 5, 9), 1500 * HOUR, "patient-relations")


def test_a_loaded_calendar_answers_without_queries(relations, django_assert_num_queries):
    close(relations, dt.date(2026, 2, 10))
    schedule = calendar.load_calendar(relations)
    with django_assert_num_queries(0):
        for day in range(1, 28):
            calendar.add_business_time(ny(2026, 2, day, 10), 30 * HOUR, schedule)


def test_prefetched_closures_are_used(relations, django_assert_num_queries):
    close(relations, dt.date(2026, 2, 10))
    [row] = BusinessCalendar.objects.prefetch_related("closures")
    with django_assert_num_queries(0):
        assert calendar.add_business_time(ny(2026, 2, 9, 16), 2 * HOUR, row) == ny(2026, 2, 11, 10)


def test_closures_that_ended_before_the_start_are_not_loaded(relations):
    close(relations, dt.date(2025, 12, 1), reason="Old")
    close(relations, dt.date(2026, 2, 10), reason="New")
    schedule = relations.schedule(since=ny(2026, 2, 1))
    assert len(schedule.closures) == 1


# --------------------------------------------------------------------------- admin


@pytest.fixture
def calendar_admin(make_user):
    user = make_user("portal_administrator", mfa=True)
    for model in ("businesscalendar", "calendarclosure"):
        for action in ("add", "change", "delete", "view"):
            user.user_permissions.add(Permission.objects.get(codename=f"{action}_{model}"))
    return user


def test_administrator_adds_a_calendar_and_a_closure_in_the_admin(client, calendar_admin):
    sign_in(client, calendar_admin)
    form = client.get("/cms/snippets/portal_social/businesscalendar/add/")
    assert form.status_code == 200
    assert b"America/New_York" in form.content
    assert b"United States (US)" in form.content
    response = client.post(
        "/cms/snippets/portal_social/businesscalendar/add/",
        {"name": "Clinic", "slug": "clinic", "time_zone": "Europe/London", "country": "GB", "subdivision": "ENG"}
        | {"monday": "08:00-12:00, 13:00-17:00"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    clinic = BusinessCalendar.objects.get(slug="clinic")
    response = client.post(
        "/cms/snippets/portal_social/calendarclosure/add/",
        {"calendar": str(clinic.pk), "starts_on": "2026-02-10", "ends_on": "2026-02-10", "reason": "Snowstorm"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert clinic.closures.get().reason == "Snowstorm"
    listing = client.get("/cms/snippets/portal_social/calendarclosure/")
    assert b"Snowstorm" in listing.content


def test_admin_refuses_a_wrong_subdivision(client, calendar_admin):
    sign_in(client, calendar_admin)
    response = client.post(
        "/cms/snippets/portal_social/businesscalendar/add/",
        {"name": "Clinic", "slug": "clinic", "time_zone": "Europe/London", "country": "GB", "subdivision": "NY"},
    )
    assert response.status_code == 200
    assert b"not a subdivision of GB" in response.content
    assert not BusinessCalendar.objects.exists()


def test_staff_without_calendar_permissions_cannot_open_calendars(client, make_user):
    sign_in(client, make_user("patient_experience", mfa=True))
    assert client.get("/cms/snippets/portal_social/businesscalendar/").status_code in (302, 403)


def test_administrator_edits_a_closure_and_filters_closures_by_calendar(client, calendar_admin, relations):
    closure = close(relations, dt.date(2026, 2, 10))
    sign_in(client, calendar_admin)
    edit = f"/cms/snippets/portal_social/calendarclosure/edit/{closure.pk}/"
    assert client.get(edit).status_code == 200
    response = client.post(
        edit,
        {"calendar": str(relations.pk), "starts_on": "2026-02-10", "start_time": "12:00"}
        | {"ends_on": "2026-02-10", "reason": "Snowstorm, afternoon"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    closure.refresh_from_db()
    assert closure.start_time == dt.time(12)
    assert calendar.business_time_between(ny(2026, 2, 10), ny(2026, 2, 11), relations) == 3 * HOUR
    listing = client.get("/cms/snippets/portal_social/calendarclosure/", {"calendar": str(relations.pk)})
    assert b"Snowstorm, afternoon" in listing.content


def test_portal_administrators_manage_calendars_through_their_role(make_user, client):
    from portal_social.core import access, roles

    admin = make_user(roles.PORTAL_ADMINISTRATOR, mfa=True)
    patient = make_user(roles.PATIENT)
    for model in ("businesscalendar", "calendarclosure"):
        for verb in ("view", "add", "change", "delete"):
            assert access.holds(admin, f"portal_social.{verb}_{model}")
            assert not access.holds(patient, f"portal_social.{verb}_{model}")
    sign_in(client, admin)
    assert client.get("/cms/").status_code == 200
