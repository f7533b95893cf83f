"""Text messages (SMS): a care-team reply reaches a patient who asked for texts, by text as well as email,
saying only that there is a message. The number is the host's (``PortalAdapter.sms_number``), shown masked,
never stored by portal_social; a text that fails never sends the email twice."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection

from portal_social.adapter import get_adapter
from portal_social.core import notify, sms
from portal_social.core.notify.models import Notification, NotificationPreference
from portal_social.messaging import actions
from portal_social.messaging.models import Conversation
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

NUMBER = "+1 (555) 010-0147"
PRIVATE = ["dizzy", "pill", "metoprolol", "Maria", "Lopez", "555", "0100147"]


@pytest.fixture
def texts(settings, monkeypatch):
    """Texts on (kept in ``sms.outbox``), and the host's records give each patient the one number."""
    settings.PORTAL_SOCIAL_SMS_BACKEND = "portal_social.core.sms.LocmemBackend"
    sms.outbox.clear()
    numbers: dict[int, str] = {}
    adapter = type(get_adapter())  # the example portal's, which reads its own table of numbers
    monkeypatch.setattr(adapter, "sms_number", lambda self, user: numbers.get(getattr(user, "pk", None)))
    yield numbers
    sms.outbox.clear()


def _reply(world, start, django_capture_on_commit_callbacks, body="Take the metoprolol with food."):
    conversation = start()
    mail.outbox.clear()
    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.send_message(sender=world.nurse, conversation=Conversation.objects.get(pk=conversation.pk), body=body)
    return conversation


def test_a_patient_who_asked_for_texts_gets_one_that_names_nothing_private(
    world, start, texts, django_capture_on_commit_callbacks
):
    texts[world.patient.pk] = NUMBER
    NotificationPreference.objects.create(user=world.patient, by_text=True)
    conversation = _reply(world, start, django_capture_on_commit_callbacks)

    assert [message.to for message in sms.outbox] == ["+15550100147"]
    body = sms.outbox[0].body
    assert body.startswith("Riverside Health: You have a new secure message http")
    assert f"/messages/c/{conversation.pk}/" in body
    assert len(body) <= sms.MAX_CHARS
    assert not [word for word in PRIVATE if word.lower() in body.lower().replace(str(conversation.pk), "")]
    assert len(mail.outbox) == 1  # and the email, as before


def test_no_text_without_asking_for_one_without_a_number_or_with_texts_off(
    world, start, texts, settings, django_capture_on_commit_callbacks
):
    texts[world.patient.pk] = NUMBER
    _reply(world, start, django_capture_on_commit_callbacks)  # never ticked "also a text"
    assert sms.outbox == [] and len(mail.outbox) == 1

    NotificationPreference.objects.create(user=world.patient, by_text=True)
    texts.clear()  # the host no longer holds a number
    _reply(world, start, django_capture_on_commit_callbacks)
    assert sms.outbox == []

    texts[world.patient.pk] = "call the front desk"  # not a number
    _reply(world, start, django_capture_on_commit_callbacks)
    assert sms.outbox == []

    texts[world.patient.pk] = NUMBER
    settings.PORTAL_SOCIAL_SMS_BACKEND = ""
    _reply(world, start, django_capture_on_commit_callbacks)
    assert sms.outbox == [] and len(mail.outbox) == 1


def test_a_daily_summary_is_never_texted(world, start, texts, django_capture_on_commit_callbacks):
    texts[world.patient.pk] = NUMBER
    NotificationPreference.objects.create(
        user=world.patient, by_text=True, frequency=NotificationPreference.Frequency.DAILY
    )
    _reply(world, start, django_capture_on_commit_callbacks)
    assert sms.outbox == [] and mail.outbox == []
    notify.send_digests()
    assert sms.outbox == [] and len(mail.outbox) == 1


class _Down(sms.BaseBackend):
    def send(self, to, body):
        raise ConnectionError("the text-message gateway is down")


def test_a_failed_text_is_logged_and_the_email_is_not_sent_twice(
    world, start, texts, settings, caplog, django_capture_on_commit_callbacks
):
    settings.PORTAL_SOCIAL_SMS_BACKEND = f"{__name__}._Down"
    texts[world.patient.pk] = NUMBER
    NotificationPreference.objects.create(user=world.patient, by_text=True)
    _reply(world, start, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    notification = Notification.objects.get(recipient=world.patient, key="message.received")
    assert notification.status == Notification.Status.SENT
    assert "sms channel failed (ConnectionError)" in caplog.text
    assert NUMBER not in caplog.text and "0100147" not in caplog.text
    notify.sweep()  # what a retry would send: others' notices, never this one again
    assert [m.to for m in mail.outbox].count([world.patient.email]) == 1


def test_the_settings_page_offers_texts_with_the_last_four_digits_only(client, world, texts):
    sign_in(client, world.patient)
    page = client.get("/notifications/")
    assert page.status_code == 200
    assert b"Also send me a text message" not in page.content  # no number on record: not offered

    texts[world.patient.pk] = NUMBER
    page = client.get("/notifications/").content.decode()
    assert "Also send me a text message" in page and "ending 0147" in page
    assert "555" not in page and "0100147" not in page

    answer = client.post("/notifications/", {"frequency": "immediately", "by_text": "on"})
    assert answer.status_code == 302
    assert NotificationPreference.objects.get(user=world.patient).by_text is True
    client.post("/notifications/", {"frequency": "immediately"})
    assert NotificationPreference.objects.get(user=world.patient).by_text is False


def test_a_forged_choice_of_texts_is_ignored_where_none_are_offered(client, world, texts):
    sign_in(client, world.patient)  # no number on record
    answer = client.post("/notifications/", {"frequency": "daily", "by_text": "on"})
    assert answer.status_code == 302
    saved = NotificationPreference.objects.get(user=world.patient)
    assert (saved.frequency, saved.by_text) == ("daily", False)


def test_the_number_is_stored_nowhere_by_the_portal(world, start, texts, django_capture_on_commit_callbacks):
    texts[world.patient.pk] = NUMBER
    NotificationPreference.objects.create(user=world.patient, by_text=True)
    _reply(world, start, django_capture_on_commit_callbacks)
    assert sms.outbox
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        found = []
        for table in tables:
            if not table.startswith("portal_social_"):
                continue
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608  names from the schema
            for row in cursor.fetchall():
                if any("0100147" in str(value) for value in row):
                    found.append(table)
    assert found == []


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("+1 (555) 010-0147", "+15550100147"),
        ("555.010.0147", "5550100147"),
        ("+44 20 7946 0958", "+442079460958"),
        ("", None),
        (None, None),
        ("12345", None),
        ("+1 555 010 0147 ext 2", None),
        ("5550100147; DROP TABLE", None),
        ("٥٥٥٠١٠٠١٤٧", None),
    ],
)
def test_numbers_are_normalised_or_refused(given, expected):
    assert sms.normalise(given) == expected


def test_a_long_subject_is_cut_and_the_link_kept_whole():
    message = notify.Message(subject="x" * 400, text="", html="", url="https://portal.example.org/messages/c/abc/")
    body = sms.body_for(message)
    assert len(body) <= sms.MAX_CHARS and body.endswith(" https://portal.example.org/messages/c/abc/")
    assert sms.mask("+15550100147") == "•••• 0147"
    with pytest.raises(ValueError):
        sms.send("not a number", "hello")
