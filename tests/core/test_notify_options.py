"""core.notify options for notifications about one object: an opaque id in the link, a
per-notification daily digest, and telling many people in a fixed number of queries."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext_lazy as _

from portal_social.core import notify, roles
from portal_social.core.notify.models import Notification, NotificationPreference

pytestmark = pytest.mark.django_db

LINKED = notify.register(
    notify.Template(
        key="test.linked",
        subject=_("Something happened"),
        body=_("Sign in to see it."),
        url_name="portal_social_community:thread_link",
        params={"thread": notify.OPAQUE_ID, "count": int},
        url_kwargs={"thread_id": "thread"},
    )
)
THREAD = uuid.UUID("6f1c2a4e-8b0d-4c3e-9a51-2d7f0b6e4c18")


@pytest.fixture
def patient(make_user):
    return make_user(roles.PATIENT)


def test_an_opaque_id_goes_into_the_link_and_never_into_the_words(patient):
    notification = notify.notify(patient, "test.linked", params={"thread": THREAD, "count": 2})
    assert notification.params == {"thread": str(THREAD), "count": 2}
    message = notify.render_notification(notification)
    assert message.url.endswith(f"/community/t/{THREAD}/")
    assert str(THREAD) not in message.subject
    # The id as a string is accepted too, in its canonical form.
    again = notify.notify(patient, "test.linked", params={"thread": str(THREAD).upper(), "count": 1})
    assert again.params["thread"] == str(THREAD)


@pytest.mark.parametrize("value", [12, "12", "", "Jane Patient", "555-867-5309", "x" * 100, None, ["a"], True])
def test_an_opaque_id_must_be_a_uuid(patient, value):
    with pytest.raises(notify.InvalidParameter):
        notify.notify(patient, "test.linked", params={"thread": value, "count": 1})
    assert not Notification.objects.exists()


def test_a_link_argument_must_name_an_opaque_id_parameter():
    with pytest.raises(ValueError):
        notify.register(
            notify.Template(
                key="test.bad_link", subject="s", body="b", url_name="x", params={"n": int}, url_kwargs={"id": "n"}
            )
        )
    with pytest.raises(ValueError):
        notify.register(notify.Template(key="test.bad_link2", subject="s", body="b", url_kwargs={"id": "missing"}))


@pytest.mark.parametrize(
    ("frequency", "digest", "status"),
    [
        (None, False, Notification.Status.PENDING),
        (None, True, Notification.Status.DIGEST),
        ("immediately", True, Notification.Status.DIGEST),
        ("daily", False, Notification.Status.DIGEST),
        ("off", True, Notification.Status.SKIPPED),
    ],
)
def test_digest_waits_for_the_daily_summary_unless_notifications_are_off(patient, frequency, digest, status):
    if frequency:
        NotificationPreference.objects.create(user=patient, frequency=frequency)
    one = notify.notify(patient, "test.linked", params={"thread": THREAD, "count": 1}, digest=digest)
    assert one.status == status
    many = notify.notify_many([patient], "test.linked", params={"thread": THREAD, "count": 1}, digest=digest)
    assert [n.status for n in many] == [status]


def test_mandatory_notices_ignore_the_digest_option(patient):
    NotificationPreference.objects.create(user=patient, frequency="daily")
    assert notify.notify(patient, "break_glass.used", digest=True).status == Notification.Status.PENDING


def test_notify_many_reads_preferences_once_and_writes_once_whatever_the_number(make_user):
    def count(people) -> int:
        Notification.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            rows = notify.notify_many(people, "test.linked", params={"thread": THREAD, "count": 1})
        assert len(rows) == len({p.pk for p in people if p.is_active})
        return len(captured)

    few = [make_user(roles.PATIENT) for _ in range(2)]
    many = [make_user(roles.PATIENT) for _ in range(25)]
    NotificationPreference.objects.create(user=many[0], frequency="daily")
    many[1].is_active = False
    many[1].save()
    assert count(few) == count(many + many[:3]) <= 3  # duplicates once, inactive skipped
    assert Notification.objects.filter(recipient=many[0]).get().status == Notification.Status.DIGEST
    assert notify.notify_many([], "test.linked", params={"thread": THREAD, "count": 1}) == []
    with pytest.raises(notify.InvalidParameter):
        notify.notify_many(few, "test.linked", params={"thread": "nope", "count": 1})
