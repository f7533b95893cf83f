"""Late replies escalate to the pool lead once; unread replies earn one reminder; the sweep is a safety net."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from portal_social.core.models import AuditEvent
from portal_social.core.notify.models import Notification
from portal_social.messaging import actions, tasks
from portal_social.messaging.models import Conversation, Message

pytestmark = pytest.mark.django_db


def _later(conversation, **delta):
    conversation.refresh_from_db()
    return conversation.reply_due_at + datetime.timedelta(**delta)


def test_the_reply_time_is_the_close_of_the_pools_nth_business_day(world, start):
    conversation = start()
    conversation.refresh_from_db()
    due = timezone.localtime(conversation.reply_due_at)
    assert due > conversation.created_at + datetime.timedelta(days=1)
    assert due.weekday() < 5  # a business day on the default Monday-to-Friday calendar


def test_an_unanswered_message_escalates_to_the_lead_once(world, start):
    conversation = start()
    assert not tasks.escalate(conversation.pk, now=_later(conversation, minutes=-1))  # not due yet
    assert tasks.escalate(conversation.pk, now=_later(conversation, minutes=1))
    assert not tasks.escalate(conversation.pk, now=_later(conversation, minutes=2))  # once per wait
    told = Notification.objects.filter(key="message.reply_late")
    assert [n.recipient_id for n in told] == [world.clinician.pk]
    assert AuditEvent.objects.filter(action="message.escalate", patient_id=world.patient.pk).count() == 1


def test_a_reply_in_time_means_no_escalation(world, start):
    conversation = start()
    when = _later(conversation, minutes=1)
    actions.send_message(sender=world.nurse, conversation=conversation, body="We are on it.")
    assert not tasks.escalate(conversation.pk, now=when)
    assert not Notification.objects.filter(key="message.reply_late").exists()


def test_a_closed_conversation_does_not_escalate(world, start):
    conversation = start()
    when = _later(conversation, minutes=1)
    actions.close_conversation(actor=world.patient, conversation=conversation)
    assert not tasks.escalate(conversation.pk, now=when)


def test_without_a_lead_every_pool_member_hears_of_it(world, start):
    world.pool.lead = None
    world.pool.save()
    conversation = start()
    assert tasks.escalate(conversation.pk, now=_later(conversation, minutes=1))
    assert {n.recipient_id for n in Notification.objects.filter(key="message.reply_late")} == {
        world.clinician.pk,
        world.nurse.pk,
    }


def test_the_sweep_command_escalates_and_reminds(world, start, capsys, settings):
    settings.PORTAL_SOCIAL_MESSAGING_REMINDER_HOURS = 1
    late = start()
    answered = start(subject="Second question")
    actions.send_message(sender=world.nurse, conversation=answered, body="Answer")
    Conversation.objects.filter(pk=late.pk).update(reply_due_at=timezone.now() - datetime.timedelta(minutes=5))
    Message.objects.filter(side=Message.Side.CARE_TEAM).update(created_at=timezone.now() - datetime.timedelta(hours=2))
    call_command("portal_social_messaging", "sweep")
    assert "escalated: 1" in capsys.readouterr().out
    assert Notification.objects.filter(key="message.reply_late").count() == 1
    assert Notification.objects.filter(key="message.unread_reminder", recipient=world.patient).count() == 1
    call_command("portal_social_messaging", "sweep")  # again: nothing more
    assert Notification.objects.filter(key="message.reply_late").count() == 1
    assert Notification.objects.filter(key="message.unread_reminder").count() == 1


def test_a_reply_the_patient_read_earns_no_reminder(world, start, settings):
    settings.PORTAL_SOCIAL_MESSAGING_REMINDER_HOURS = 1
    conversation = start()
    actions.send_message(sender=world.nurse, conversation=conversation, body="Answer")
    conversation.refresh_from_db()
    actions.mark_read(user=world.patient, conversation=conversation)
    Message.objects.update(created_at=timezone.now() - datetime.timedelta(hours=2))
    assert tasks.remind_unread() == 0


def test_the_escalation_task_is_queued_for_the_reply_time(world, start, django_capture_on_commit_callbacks, settings):
    from django_tasks import default_task_backend

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        conversation = start()
    conversation.refresh_from_db()
    queued = [r for r in default_task_backend.results if r.task.name == "escalate_if_late"]
    assert [(r.task.run_after, r.args) for r in queued] == [(conversation.reply_due_at, [str(conversation.pk)])]
