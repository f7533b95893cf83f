"""Notifications: keyed templates, written with the change, delivered in the
background, retried on failure, never carrying PHI."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal_social.core import notify, phi, roles
from portal_social.core.notify.models import Notification, NotificationPreference
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

#: Test-only templates, registered once for this module.
COUNTED = notify.register(
    notify.Template(
        key="test.items_waiting",
        subject=_("%(count)s items are waiting"),
        body=_("There are %(count)s items in your queue."),
        url_name="portal_social_notification_preferences",
        params={"count": int, "queue": ("posts", "messages")},
    )
)
TRANSLATED = notify.register(notify.Template(key="test.translated", subject=_("Monday"), body=_("Tuesday")))

PORTAL = "http://127.0.0.1:8000/"  # WAGTAILADMIN_BASE_URL in the example settings
PHI_SHAPED = [
    "Jane Q. Patient",
    "MRN 00482913",
    "555-867-5309",
    "jane.patient@example.org",
    "123-45-6789",
    "DOB 03/14/1962",
    "my A1c is 9.1 after the chemo",
    "<script>alert(1)</script>",
]


def _run_on_commit(callbacks):
    for callback in callbacks:
        callback()


@pytest.fixture
def database_task_queue(settings):
    """The embedded default: queued tasks wait in the database for a worker
    (tests/settings.py delivers them at once). The setting_changed signal
    makes django_tasks build its backend again."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def patient(make_user):
    return make_user(roles.PATIENT, first_name="Jane", last_name="Patient", email="jane.patient@example.org")


def test_a_notification_is_written_with_the_change_and_not_without_it(patient, django_capture_on_commit_callbacks):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify.notify(patient, "review.published")
        raise RuntimeError("the action failed")
    assert not Notification.objects.exists()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        created = notify.notify(patient, "review.published")
    assert Notification.objects.get().public_id == created.public_id
    assert created.status == Notification.Status.PENDING
    assert len(callbacks) == 1  # the task is queued after commit, not during the request's transaction
    assert mail.outbox == []


def test_the_queued_task_delivers_an_email_with_text_html_and_a_link(
    patient, database_task_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = notify.notify(patient, "test.items_waiting", params={"count": 3, "queue": "posts"})
    # The database task backend holds the queued task; a worker would run it.
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.get()
    assert queued.args_kwargs["args"] == [str(created.public_id)]

    assert notify.deliver(created.public_id) == Notification.Status.SENT
    (message,) = mail.outbox
    assert message.to == ["jane.patient@example.org"]
    assert message.subject == "3 items are waiting"
    assert "There are 3 items in your queue." in message.body
    assert "http://127.0.0.1:8000/notifications/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and 'href="http://127.0.0.1:8000/notifications/"' in html
    created.refresh_from_db()
    assert created.sent_at is not None and created.attempts == 0


def test_one_notification_is_never_sent_twice(patient):
    created = notify.notify(patient, "review.published")
    assert notify.deliver(created.public_id) == Notification.Status.SENT
    assert notify.deliver(created.public_id) == Notification.Status.SENT
    assert notify.sweep() == 0
    assert len(mail.outbox) == 1


class _FailingAdapter:
    calls = 0

    def __init__(self, request=None):
        from portal_social.adapter import PortalAdapter

        self._real = PortalAdapter(request)

    def __getattr__(self, name):
        return getattr(self._real, name)

    def send_notification(self, user, message, *, channel):
        type(self).calls += 1
        raise ConnectionRefusedError("smtp.example.org refused jane.patient@example.org")


def test_a_failed_send_is_retried_with_back_off_then_given_up(patient, monkeypatch, caplog):
    import portal_social.adapter

    monkeypatch.setattr(portal_social.adapter, "get_adapter", lambda request=None: _FailingAdapter(request))
    created = notify.notify(patient, "review.published")

    assert notify.deliver(created.public_id) == Notification.Status.PENDING
    created.refresh_from_db()
    assert created.attempts == 1 and created.last_error == "ConnectionRefusedError"
    assert created.next_attempt_at > timezone.now() + datetime.timedelta(seconds=50)
    # Not due yet: neither a second task nor the sweep sends it early.
    assert notify.deliver(created.public_id) == Notification.Status.PENDING
    assert notify.sweep() == 0
    assert _FailingAdapter.calls == 1
    # The log names the error class only, never the address in its message.
    assert "jane.patient@example.org" not in caplog.text

    for _attempt in range(notify.MAX_ATTEMPTS - 1):
        Notification.objects.filter(pk=created.pk).update(next_attempt_at=timezone.now())
        notify.sweep()
    created.refresh_from_db()
    assert created.status == Notification.Status.FAILED
    assert created.attempts == notify.MAX_ATTEMPTS
    assert mail.outbox == []


def test_a_queue_outage_does_not_fail_the_action_and_the_sweep_delivers_later(
    patient, monkeypatch, database_task_queue, django_capture_on_commit_callbacks
):
    from django_tasks_db.backend import DatabaseBackend

    def down(self, task, args, kwargs):
        raise ConnectionError("the task queue is down")

    monkeypatch.setattr(DatabaseBackend, "enqueue", down)
    with django_capture_on_commit_callbacks(execute=True):
        created = notify.notify(patient, "review.published")
    assert Notification.objects.get(pk=created.pk).status == Notification.Status.PENDING

    assert notify.sweep() == 1
    assert len(mail.outbox) == 1


def test_a_worker_that_died_mid_send_does_not_lose_the_notification(patient):
    created = notify.notify(patient, "review.published")
    # Claimed by a worker that never finished.
    Notification.objects.filter(pk=created.pk).update(
        status=Notification.Status.SENDING, next_attempt_at=timezone.now() + notify.CLAIM_TIMEOUT
    )
    assert notify.sweep() == 0  # still someone else's
    Notification.objects.filter(pk=created.pk).update(next_attempt_at=timezone.now())
    assert notify.sweep() == 1
    assert len(mail.outbox) == 1


def test_people_choose_immediately_a_daily_summary_or_off(make_user):
    daily = make_user(roles.PATIENT)
    off = make_user(roles.PATIENT)
    NotificationPreference.objects.create(user=daily, frequency=NotificationPreference.Frequency.DAILY)
    NotificationPreference.objects.create(user=off, frequency=NotificationPreference.Frequency.OFF)

    for _twice in range(2):
        notify.notify(daily, "review.published")
    notify.notify(daily, "review.responded")
    assert notify.notify(off, "review.published").status == Notification.Status.SKIPPED
    # Security notices reach everyone, straight away.
    assert notify.notify(off, "break_glass.used").status == Notification.Status.PENDING
    assert notify.sweep() == 1
    assert [m.to for m in mail.outbox] == [[off.email]]

    assert notify.send_digests() == 1
    summary = mail.outbox[-1]
    assert summary.to == [daily.email]
    assert summary.subject == "3 updates from the portal"
    assert summary.body.count("Your review is published") == 2 and "A response to your review" in summary.body
    assert not Notification.objects.filter(status=Notification.Status.DIGEST).exists()
    assert notify.send_digests() == 0


def test_notify_role_tells_every_active_holder_once(make_user):
    moderators = [make_user(roles.COMMUNITY_MODERATOR) for _ in range(3)]
    moderators[0].is_active = False
    moderators[0].save()
    make_user(roles.PATIENT)

    created = notify.notify_role(roles.COMMUNITY_MODERATOR, "review.needs_moderation")

    assert sorted(n.recipient_id for n in created) == sorted(m.pk for m in moderators[1:])
    notify.sweep()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.email for m in moderators[1:])


def test_mistakes_are_refused_in_the_action_not_hidden_in_a_task(patient):
    with pytest.raises(notify.UnknownNotification):
        notify.notify(patient, "no.such.notification")
    with pytest.raises(notify.InvalidParameter):
        notify.notify(patient, "test.items_waiting", params={"count": 3})  # queue missing
    with pytest.raises(notify.InvalidParameter):
        notify.notify(patient, "test.items_waiting", params={"count": "3", "queue": "posts"})
    with pytest.raises(notify.InvalidParameter):
        notify.notify(patient, "test.items_waiting", params={"count": 3, "queue": "posts", "name": "Jane"})
    with pytest.raises(ValueError):
        notify.notify_role("no-such-role", "review.published")
    assert not Notification.objects.exists()


@pytest.mark.parametrize("key", sorted(notify.templates()))
def test_no_template_can_carry_phi(key, patient):
    """Every registered template, offered PHI-shaped context under every name
    it declares and more: the context is refused, and what is sent holds no
    identifier, nothing about the recipient, and nothing anyone wrote."""
    template = notify.get_template(key)
    for value in PHI_SHAPED:
        offered = dict.fromkeys([*template.params, "name", "comment", "patient", "body"], value)
        with pytest.raises(notify.InvalidParameter):
            notify.render(template, offered, patient)

    def valid_value(allowed):
        if allowed is notify.OPAQUE_ID or isinstance(allowed, notify.NameOf):  # a random id (a named object's)
            return "6f1c2a4e-8b0d-4c3e-9a51-2d7f0b6e4c18"
        return 7 if allowed is int else allowed[0]

    valid = {name: valid_value(allowed) for name, allowed in template.params.items()}
    message = notify.render(template, valid, patient)
    for part in (message.subject, message.text, message.html):
        for value in PHI_SHAPED + [patient.first_name, patient.last_name, patient.username, patient.email]:
            assert value not in part
        # Links into the portal itself are the point of a notification, not PHI.
        findings = [f for f in phi.scan(part) if not f.text.startswith(PORTAL)]
        assert findings == [], (key, findings)


def test_notifications_are_written_in_the_recipients_language(patient, monkeypatch):
    from portal_social.adapter import PortalAdapter

    monkeypatch.setattr(PortalAdapter, "language_for", lambda self, user: "es")
    message = notify.render(TRANSLATED, {}, patient)
    assert (message.subject, message.text.splitlines()[0]) == ("lunes", "martes")


def test_hosts_add_channels_through_the_adapter(patient, monkeypatch):
    from portal_social.adapter import PortalAdapter

    sent = []
    monkeypatch.setattr(PortalAdapter, "notification_channels", lambda self, user, template: ["sms"])
    monkeypatch.setattr(
        PortalAdapter,
        "send_notification",
        lambda self, user, message, *, channel: sent.append((user.pk, channel, message.subject)),
    )
    created = notify.notify(patient, "review.published")
    notify.deliver(created.public_id)
    assert sent == [(patient.pk, "sms", "Your review is published")]
    assert mail.outbox == []


def test_the_settings_page_saves_a_choice_and_refuses_a_forged_one(client, patient):
    url = "/notifications/"
    assert client.get(url).status_code == 302  # signed-out: to the sign-in page
    sign_in(client, patient)
    page = client.get(url)
    assert page.status_code == 200 and b"One summary a day" in page.content

    forged = client.post(url, {"frequency": "hourly"})
    assert forged.status_code == 400
    assert not NotificationPreference.objects.exists()

    saved = client.post(url, {"frequency": "daily"})
    assert saved.status_code == 302
    assert NotificationPreference.objects.get(user=patient).frequency == "daily"
    assert notify.notify(patient, "review.published").status == Notification.Status.DIGEST
