"""The messaging actions: what they write, refuse, audit, and tell."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from portal_social.core import access
from portal_social.core.models import AuditEvent
from portal_social.core.notify.models import Notification
from portal_social.messaging import actions
from portal_social.messaging.models import Conversation, Message, ReadState

pytestmark = pytest.mark.django_db


def test_start_writes_the_conversation_its_first_message_and_audit(world, start):
    conversation = start()
    assert conversation.patient == world.patient and conversation.pool == world.pool
    message = conversation.messages.get()
    assert message.seq == 1 and message.side == Message.Side.PATIENT and message.author == world.patient
    assert "dizzy" in message.body_html
    conversation.refresh_from_db()
    assert conversation.last_seq == 1 and conversation.reply_due_at is not None
    assert AuditEvent.objects.filter(action="message.conversation_start", patient_id=world.patient.pk).count() == 1
    assert AuditEvent.objects.filter(action="message.send", patient_id=world.patient.pk).count() == 1


def test_the_pool_hears_of_a_patient_message_in_generic_words(world, start):
    start()
    told = Notification.objects.filter(key="message.pool_received")
    assert {n.recipient_id for n in told} == {world.clinician.pk, world.nurse.pk}
    assert all(n.params == {} for n in told)


def test_a_care_team_reply_tells_the_patient_and_clears_the_due_time(world, start):
    conversation = start()
    reply = actions.send_message(sender=world.nurse, conversation=conversation, body="Please stand up slowly.")
    assert reply.side == Message.Side.CARE_TEAM and reply.seq == 2
    conversation.refresh_from_db()
    assert conversation.reply_due_at is None
    told = Notification.objects.get(key="message.received", recipient=world.patient)
    assert told.params == {"conversation": str(conversation.pk)}


def test_a_caregiver_writes_for_the_patient_and_the_message_says_so(world, start):
    conversation = start(sender=world.caregiver)
    message = conversation.messages.get()
    assert message.side == Message.Side.CAREGIVER and message.author == world.caregiver
    assert conversation.patient == world.patient


def test_a_caregiver_cannot_mark_a_conversation_confidential(world, start):
    conversation = start(sender=world.caregiver, confidential=True)
    assert conversation.confidential is False


@pytest.mark.parametrize("who", ["other_patient", "clinician", "moderator", "superuser"])
def test_only_the_patient_side_with_a_care_relationship_starts_a_conversation(world, start, who):
    with pytest.raises(actions.MessagingDenied):
        start(sender=getattr(world, who))


def test_a_pool_without_a_care_relationship_is_refused(world, start):
    with pytest.raises(actions.MessagingDenied):
        start(pool=world.other_pool)


def test_an_inactive_pool_is_refused(world, start):
    world.pool.active = False
    world.pool.save()
    with pytest.raises(actions.MessagingDenied):
        start()


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("topic", {"topic": "astrology"}),
        ("subject", {"subject": "   "}),
        ("subject", {"subject": "x" * 121}),
        ("body", {"body": "  \n "}),
        ("body", {"body": "x" * 200_000}),
    ],
)
def test_bad_input_is_refused_and_nothing_is_saved(world, start, field, kwargs):
    with pytest.raises(ValidationError) as caught:
        start(**kwargs)
    assert field in caught.value.message_dict
    assert not Conversation.objects.exists() and not Message.objects.exists()


def test_a_double_submit_makes_one_conversation_and_one_message(world, start):
    token = uuid.uuid4()
    first = start(submission=token)
    again = start(submission=token)
    assert first.pk == again.pk and Conversation.objects.count() == 1
    reply_token = uuid.uuid4()
    one = actions.send_message(sender=world.patient, conversation=first, body="More", submission=reply_token)
    two = actions.send_message(sender=world.patient, conversation=first, body="More", submission=reply_token)
    assert one.pk == two.pk and first.messages.count() == 2


def test_a_stranger_cannot_send_into_a_conversation_it_looks_like_none(world, start):
    conversation = start()
    for who in (world.other_patient, world.outsider_clinician, world.superuser, world.moderator):
        with pytest.raises(access.NotFound):
            actions.send_message(sender=who, conversation=conversation, body="hello")
    assert conversation.messages.count() == 1


def test_crisis_language_or_urgent_symptoms_mark_the_conversation_urgent_and_tell_every_pool_member(world, start):
    conversation = start(body="I have had chest pain since this morning and trouble breathing.")
    conversation.refresh_from_db()
    assert conversation.urgent and conversation.messages.get().urgent
    told = Notification.objects.filter(key="message.urgent")
    assert {n.recipient_id for n in told} == {world.clinician.pk, world.nurse.pk}
    assert not Notification.objects.filter(key="message.pool_received").exists()


@pytest.mark.parametrize("subject", ["Chest pain since this morning", "I want to kill myself"])
def test_urgent_words_in_the_subject_alone_mark_the_conversation_urgent(world, start, subject):
    conversation = start(subject=subject, body="Please see the subject line.")
    conversation.refresh_from_db()
    assert conversation.urgent and conversation.messages.get().urgent
    assert {n.recipient_id for n in Notification.objects.filter(key="message.urgent")} == {
        world.clinician.pk,
        world.nurse.pk,
    }


def test_a_calm_message_is_not_urgent(world, start):
    conversation = start(body="My chest X-ray results came back normal, thank you.")
    conversation.refresh_from_db()
    assert not conversation.urgent


def test_staff_words_never_make_a_conversation_urgent(world, start):
    conversation = start()
    actions.send_message(sender=world.nurse, conversation=conversation, body="If you get chest pain, call 911.")
    conversation.refresh_from_db()
    assert not conversation.urgent


def test_retract_within_the_window_keeps_the_row_and_marks_it(world, start):
    conversation = start()
    message = conversation.messages.get()
    actions.retract_message(actor=world.patient, message=message)
    message.refresh_from_db()
    assert message.retracted_at is not None
    assert AuditEvent.objects.filter(action="message.retract").count() == 1
    actions.retract_message(actor=world.patient, message=message)  # twice: nothing more
    assert AuditEvent.objects.filter(action="message.retract").count() == 1


def test_retract_after_the_window_or_by_someone_else_is_refused(world, start):
    conversation = start()
    message = conversation.messages.get()
    with pytest.raises(actions.MessagingDenied):
        actions.retract_message(actor=world.nurse, message=message)
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=3))
    message.refresh_from_db()
    with pytest.raises(actions.MessagingDenied):
        actions.retract_message(actor=world.patient, message=message)
    message.refresh_from_db()
    assert message.retracted_at is None


def test_close_then_a_patient_message_reopens_within_the_period(world, start):
    conversation = start()
    actions.close_conversation(actor=world.nurse, conversation=conversation)
    assert conversation.status == Conversation.Status.CLOSED
    with pytest.raises(actions.MessagingDenied):
        actions.send_message(sender=world.nurse, conversation=conversation, body="One more thing")
    actions.send_message(sender=world.patient, conversation=conversation, body="Sorry, one more question")
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.OPEN
    assert AuditEvent.objects.filter(action="message.conversation_reopen").count() == 1


def test_a_conversation_closed_long_ago_is_not_reopened(world, start, settings):
    settings.PORTAL_SOCIAL_MESSAGING_REOPEN_DAYS = 3
    conversation = start()
    actions.close_conversation(actor=world.patient, conversation=conversation)
    Conversation.objects.filter(pk=conversation.pk).update(closed_at=timezone.now() - datetime.timedelta(days=4))
    conversation.refresh_from_db()
    with pytest.raises(actions.MessagingDenied):
        actions.send_message(sender=world.patient, conversation=conversation, body="Hello again")
    assert conversation.messages.count() == 1


def test_read_state_and_unread_counts(world, start):
    conversation = start()
    assert actions.unread_count(world.patient) == 0  # their own message
    world.nurse.__dict__.pop("_portal_social_unread_messages", None)
    assert actions.unread_conversations(world.nurse).count() == 1
    actions.mark_read(user=world.nurse, conversation=conversation)
    assert actions.unread_conversations(world.nurse).count() == 0
    actions.send_message(sender=world.nurse, conversation=conversation, body="Answer")
    assert actions.unread_conversations(world.patient).count() == 1
    assert actions.unread_conversations(world.caregiver).count() == 1
    state = actions.mark_read(user=world.patient, conversation=conversation, seq=1)
    assert state.last_read_seq == 1
    actions.mark_read(user=world.patient, conversation=conversation, seq=0)  # never backwards
    assert ReadState.objects.get(conversation=conversation, user=world.patient).last_read_seq == 1


def test_claim_assign_and_reply_directly(world, start):
    conversation = start()
    actions.assign_conversation(actor=world.nurse, conversation=conversation, assignee=world.nurse)
    assert conversation.assigned_to == world.nurse
    with pytest.raises(ValidationError):
        actions.assign_conversation(actor=world.nurse, conversation=conversation, assignee=world.outsider_clinician)
    with pytest.raises(access.NotFound):
        actions.assign_conversation(actor=world.outsider_clinician, conversation=conversation, assignee=None)
    actions.send_message(
        sender=world.clinician, conversation=conversation, body="I will take this", reply_directly=True
    )
    conversation.refresh_from_db()
    assert conversation.assigned_to == world.clinician
    Notification.objects.all().delete()
    actions.send_message(sender=world.patient, conversation=conversation, body="Thank you, doctor")
    assert list(Notification.objects.values_list("recipient_id", "key")) == [(world.clinician.pk, "message.received")]


def test_an_absent_assignee_is_covered_by_their_delegate(world, start):
    from portal_social.messaging.models import OutOfOffice

    conversation = start()
    actions.assign_conversation(actor=world.clinician, conversation=conversation, assignee=world.clinician)
    OutOfOffice.objects.create(
        user=world.clinician, delegate=world.outsider_clinician, ends_at=timezone.now() + datetime.timedelta(days=3)
    )
    Notification.objects.all().delete()
    actions.send_message(sender=world.patient, conversation=conversation, body="Any news?")
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [world.outsider_clinician.pk]
    # ... and the delegate, though in another pool, may open and answer it while the absence runs.
    assert access.can(world.outsider_clinician, "view", conversation)
    actions.send_message(sender=world.outsider_clinician, conversation=conversation, body="Covering for Dr. Raman")


def test_confidential_hides_the_conversation_from_the_caregiver_at_once(world, start):
    conversation = start()
    assert access.can(world.caregiver, "view", conversation)
    with pytest.raises(actions.MessagingDenied):
        actions.set_confidential(actor=world.caregiver, conversation=conversation, confidential=True)
    actions.set_confidential(actor=world.patient, conversation=conversation, confidential=True)
    world.caregiver.__dict__.clear() if False else None
    assert not access.can(world.caregiver, "view", conversation)
    assert not access.visible(world.caregiver, Conversation.objects.all()).exists()


def test_an_ended_caregiver_link_ends_access_at_the_next_request(world, start):
    from django.contrib.auth import get_user_model

    from portal_social.core import caregivers
    from portal_social.core.models import CaregiverRelation

    conversation = start(sender=world.caregiver)
    link = CaregiverRelation.objects.get(caregiver=world.caregiver)
    caregivers.end_caregiver_link(actor=world.patient, relation=link)
    fresh = get_user_model().objects.get(pk=world.caregiver.pk)  # the next request loads the user afresh
    assert not access.can(fresh, "view", conversation)


def test_message_bodies_and_subjects_are_encrypted_at_rest(world, start):
    canary = "canary-" + uuid.uuid4().hex
    conversation = start(subject="Subject " + canary, body="Body " + canary)
    actions.send_message(sender=world.nurse, conversation=conversation, body="Reply " + canary)
    with connection.cursor() as cursor:
        for table in (Conversation._meta.db_table, Message._meta.db_table):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (a table name from the model)
            for row in cursor.fetchall():
                assert not any(canary in str(value) for value in row), table
    assert conversation.messages.filter(body_html__isnull=False).count() == 2
