"""The secure messaging pages, through the test client: what each person sees, sends and is refused."""

from __future__ import annotations

import datetime
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from portal_social.core import caregivers, roles
from portal_social.core.notify import render_notification
from portal_social.core.notify.models import Notification
from portal_social.messaging import actions
from portal_social.messaging.models import Conversation, Message, PoolMember, PoolPatient, ReadState
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

EMERGENCY = "If this is an emergency, call 911."
#: The first crisis resource, as the page shows it (the site footer mentions 988 on every page).
CRISIS_RESOURCES = "988 Suicide &amp; Crisis Lifeline"
INBOX = "/messages/"
COMPOSE = "/messages/new/"


def page(conversation) -> str:
    return f"/messages/c/{conversation.pk}/"


def tool(conversation, name: str) -> str:
    return f"/messages/c/{conversation.pk}/{name}/"


def message_url(message, suffix: str = "") -> str:
    return f"/messages/c/{message.conversation_id}/m/{message.pk}/{suffix}"


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def compose_data(world):
    """``compose_data(**changes)``: a valid compose form for ``world.patient`` writing to ``world.pool``."""

    def make(**changes):
        data = {
            "patient": str(world.patient.pk),
            "pool": str(world.pool.pk),
            "topic": "medical_question",
            "subject": "Swollen ankles",
            "body": "My ankles are swollen since I started the new tablets.",
            "submission": str(uuid.uuid4()),
        }
        data.update(changes)
        return {key: value for key, value in data.items() if value is not None}

    return make


# Inbox -------------------------------------------------------------------------------------------


def test_the_patient_inbox_lists_their_conversations_and_offers_to_write(client, world, start):
    start(subject="Dizzy on the new pill")
    sign_in(client, world.patient)
    response = client.get(INBOX)
    assert response.status_code == 200
    assert "Dizzy on the new pill" in text(response)
    assert f'href="{COMPOSE}"' in text(response)
    assert "no-store" in response["Cache-Control"]


def test_the_staff_inbox_lists_the_pool_conversations_waiting_for_a_reply(client, world, start):
    start(subject="Dizzy on the new pill")
    sign_in(client, world.nurse)
    response = client.get(INBOX)
    assert response.status_code == 200
    assert "Team inbox" in text(response)
    assert "Dizzy on the new pill" in text(response)
    assert "Patient: Maria Lopez" in text(response)  # staff see the full name (PortalAdapter.patient_label)


def test_the_inbox_of_staff_in_another_pool_does_not_list_the_conversation(client, world, start):
    start(subject="Dizzy on the new pill")
    sign_in(client, world.outsider_clinician)
    for show in ("waiting", "open", "closed", "mine"):
        response = client.get(INBOX, {"show": show})
        assert response.status_code == 200
        assert "Dizzy on the new pill" not in text(response)


# Compose -----------------------------------------------------------------------------------------


def test_compose_shows_the_form_with_the_emergency_notice(client, world):
    sign_in(client, world.patient)
    response = client.get(COMPOSE)
    assert response.status_code == 200
    assert f"<strong>{EMERGENCY}</strong>" in text(response)
    assert f'value="{world.pool.pk}"' in text(response)
    assert f'value="{world.other_pool.pk}"' not in text(response)  # no care relationship with that team


def test_compose_post_starts_the_conversation_and_opens_it(client, world, compose_data):
    sign_in(client, world.patient)
    response = client.post(COMPOSE, compose_data())
    conversation = Conversation.objects.get()
    message = conversation.messages.get()
    assert response.status_code == 302
    assert response["Location"] == f"{page(conversation)}?sent={message.pk}"
    assert conversation.patient == world.patient and conversation.pool == world.pool
    assert conversation.subject == "Swollen ankles" and conversation.created_by == world.patient
    assert message.author == world.patient and "swollen since" in message.body_html


def test_compose_posted_twice_with_one_submission_makes_one_conversation(client, world, compose_data):
    sign_in(client, world.patient)
    data = compose_data()
    first = client.post(COMPOSE, data)
    second = client.post(COMPOSE, data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Conversation.objects.count() == 1 and Message.objects.count() == 1


def test_a_forms_token_sent_again_with_other_words_starts_a_new_conversation_not_a_false_sent(
    client, world, compose_data
):
    # The Back button can bring a sent form back, token and all: what is typed into it next is new.
    sign_in(client, world.patient)
    data = compose_data()
    first = client.post(COMPOSE, data)
    response = client.post(COMPOSE, {**data, "subject": "Another question", "body": "Can I take it with food?"})
    assert Conversation.objects.count() == 2
    second = Conversation.objects.exclude(
        pk__in=[c.pk for c in Conversation.objects.all() if c.subject != "Another question"]
    ).get()
    assert first["Location"] != response["Location"]
    assert response["Location"] == f"{page(second)}?sent={second.messages.get().pk}"
    assert "Can I take it with food?" in second.messages.get().body_source


def test_a_reply_token_used_in_another_conversation_still_sends_the_reply_there(client, world, start):
    first, second = start(), start(subject="Second question")
    sign_in(client, world.patient)
    token = str(uuid.uuid4())
    client.post(page(first), {"body": "Thank you.", "submission": token})
    response = client.post(page(second), {"body": "Is the clinic open on Saturday?", "submission": token})
    reply = second.messages.get(seq=2)
    assert "Is the clinic open on Saturday?" in reply.body_source
    assert response["Location"] == f"{page(second)}?sent={reply.pk}#message-{reply.pk}"
    assert "Your message was sent." in text(client.get(response["Location"]))
    assert first.messages.count() == 2 and second.messages.count() == 2


def test_a_reply_token_sent_again_with_other_words_sends_them_too(client, world, start):
    conversation = start()
    sign_in(client, world.patient)
    token = str(uuid.uuid4())
    client.post(page(conversation), {"body": "Thank you.", "submission": token})
    client.post(page(conversation), {"body": "Thank you.", "submission": token})  # a double click: once
    client.post(page(conversation), {"body": "One more thing: can I drive?", "submission": token})
    bodies = [m.body_source for m in conversation.messages.order_by("seq")]
    assert bodies[1:] == ["Thank you.", "One more thing: can I drive?"]


def test_the_sent_notice_shows_only_for_the_readers_own_message_in_that_conversation(client, world, start):
    conversation, other = start(), start(subject="Other")
    actions.send_message(sender=world.nurse, conversation=conversation, body="Noted.")
    sign_in(client, world.patient)
    for sent in (uuid.uuid4(), conversation.messages.get(seq=2).pk, other.messages.get().pk):
        assert "Your message was sent." not in text(client.get(f"{page(conversation)}?sent={sent}"))
    own = conversation.messages.get(seq=1).pk
    assert "Your message was sent." in text(client.get(f"{page(conversation)}?sent={own}"))


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        pytest.param({"body": ""}, "Write your message.", id="empty-body"),
        pytest.param({"body": "  \n\t "}, "Write your message.", id="blank-body"),
        pytest.param({"body": "\u200b\u2060\ufeff\u3164"}, "Write your message.", id="invisible-body"),
        pytest.param({"body": "&#8203;&nbsp;"}, "Write your message.", id="invisible-body-as-references"),
        pytest.param({"subject": "\u200b \u00ad"}, "Give your message a subject.", id="invisible-subject"),
        pytest.param({"body": "x" * 501}, "the limit is 500", id="oversized-body"),
        pytest.param({"topic": None}, "Choose what your message is about.", id="missing-topic"),
        pytest.param({"topic": "astrology"}, "Choose what your message is about.", id="unknown-topic"),
        pytest.param({"subject": ""}, "Give your message a subject.", id="empty-subject"),
        pytest.param({"pool": None}, "Choose a care team.", id="missing-pool"),
        pytest.param({"pool": "other_pool"}, "Choose a care team.", id="pool-without-a-relationship"),
        pytest.param({"pool": str(uuid.uuid4())}, "Choose a care team.", id="unknown-pool"),
        pytest.param({"patient": "other_patient"}, "Choose who this message is about.", id="another-patient"),
    ],
)
def test_compose_with_bad_input_answers_400_with_a_clear_error_and_saves_nothing(
    client, world, compose_data, settings, changes, error
):
    settings.PORTAL_SOCIAL_TEXT_MAX_LENGTH = 500
    if changes.get("pool") == "other_pool":
        changes = {"pool": str(world.other_pool.pk)}
    if changes.get("patient") == "other_patient":
        changes = {"patient": str(world.other_patient.pk)}
    sign_in(client, world.patient)
    response = client.post(COMPOSE, compose_data(**changes))
    assert response.status_code == 400
    assert "There is a problem" in text(response)
    assert error in text(response)
    assert not Conversation.objects.exists() and not Message.objects.exists()


def test_a_caregiver_cannot_write_about_one_patient_to_a_team_of_another(client, world, compose_data):
    caregivers.link_caregiver(
        actor=world.other_patient, caregiver=world.caregiver, patient=world.other_patient, scopes=["messaging"]
    )
    sign_in(client, world.caregiver)
    response = client.post(COMPOSE, compose_data(pool=str(world.other_pool.pk)))  # patient's own team is world.pool
    assert response.status_code == 400
    assert "This team does not take messages about this person." in text(response)
    assert not Conversation.objects.exists() and not Message.objects.exists()


def test_compose_is_refused_to_staff(client, world, compose_data):
    sign_in(client, world.nurse)
    assert client.get(COMPOSE).status_code == 403
    assert client.post(COMPOSE, compose_data()).status_code == 403
    assert not Conversation.objects.exists()


# The conversation page --------------------------------------------------------------------------


def test_the_conversation_page_shows_the_messages_and_the_emergency_notice_with_the_reply_form(client, world, start):
    conversation = start()
    actions.send_message(sender=world.nurse, conversation=conversation, body="Please stand up slowly.")
    sign_in(client, world.patient)
    response = client.get(page(conversation))
    assert response.status_code == 200
    body = text(response)
    assert "Is it normal to feel dizzy on the new pill?" in body
    assert "Please stand up slowly." in body
    assert body.index("Is it normal to feel dizzy") < body.index("Please stand up slowly.")
    assert f"<strong>{EMERGENCY}</strong>" in body
    assert 'name="body"' in body and 'name="submission"' in body
    assert "no-store" in response["Cache-Control"]


def test_a_reply_is_sent_and_the_page_returns_to_it(client, world, start):
    conversation = start()
    sign_in(client, world.nurse)
    response = client.post(page(conversation), {"body": "Please stand up slowly.", "submission": str(uuid.uuid4())})
    reply = conversation.messages.get(seq=2)
    assert response.status_code == 302
    assert response["Location"] == f"{page(conversation)}?sent={reply.pk}#message-{reply.pk}"
    assert reply.author == world.nurse and reply.side == Message.Side.CARE_TEAM
    assert "Please stand up slowly." in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("body", ["   ", "\u200b\u200b", "\u2800\n\u3164"])
def test_an_empty_reply_answers_400_and_saves_nothing(client, world, start, body):
    conversation = start()
    sign_in(client, world.patient)
    response = client.post(page(conversation), {"body": body, "submission": str(uuid.uuid4())})
    assert response.status_code == 400
    assert "Write your message." in text(response)
    assert conversation.messages.count() == 1


def test_a_reply_posted_twice_with_one_submission_makes_one_message(client, world, start):
    conversation = start()
    sign_in(client, world.patient)
    data = {"body": "Also, I feel sick in the mornings.", "submission": str(uuid.uuid4())}
    first = client.post(page(conversation), data)
    second = client.post(page(conversation), data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert conversation.messages.count() == 2


STRANGERS = ["other_patient", "outsider_clinician", "moderator", "superuser"]


@pytest.mark.parametrize("who", STRANGERS)
def test_a_stranger_gets_404_exactly_like_an_unknown_conversation(client, world, start, who):
    conversation = start()
    message = conversation.messages.get()
    unknown = Conversation(pk=uuid.uuid4())
    unknown_message = Message(pk=uuid.uuid4(), conversation_id=unknown.pk)
    sign_in(client, getattr(world, who))
    routes = [
        ("get", page(conversation), page(unknown)),
        ("post", page(conversation), page(unknown)),
        ("get", message_url(message), message_url(unknown_message)),
        ("post", message_url(message, "retract/"), message_url(unknown_message, "retract/")),
        *(
            ("post", tool(conversation, name), tool(unknown, name))
            for name in ("read", "close", "assign", "confidential")
        ),
    ]
    for method, real, fake in routes:
        data = {"body": "hello", "to": "me", "confidential": "1", "seq": "1"} if method == "post" else {}
        refused = getattr(client, method)(real, data)
        missing = getattr(client, method)(fake, data)
        assert (refused.status_code, missing.status_code) == (404, 404), (method, real)
    assert conversation.messages.count() == 1
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.OPEN and conversation.assigned_to is None
    assert not conversation.confidential and not ReadState.objects.exclude(user=world.patient).exists()


def test_opening_the_page_records_one_phi_read_naming_the_patient_and_a_refusal_records_nothing(client, world, start):
    from portal_social.core.models import AuditEvent

    conversation = start()
    sign_in(client, world.nurse)
    client.get(page(conversation))
    (read,) = AuditEvent.objects.filter(action="phi.read")
    assert read.actor_id == world.nurse.pk and read.patient_id == world.patient.pk
    assert read.target_id == str(conversation.pk)
    client.logout()
    sign_in(client, world.other_patient)
    before = AuditEvent.objects.count()
    assert client.get(page(conversation)).status_code == 404
    assert AuditEvent.objects.count() == before


def test_a_caregiver_whose_link_ends_gets_404_at_the_next_request(client, world, start):
    from portal_social.core.models import CaregiverRelation

    conversation = start(sender=world.caregiver)
    sign_in(client, world.caregiver)
    assert client.get(page(conversation)).status_code == 200
    link = CaregiverRelation.objects.get(caregiver=world.caregiver, patient=world.patient)
    caregivers.end_caregiver_link(actor=world.patient, relation=link)
    assert client.get(page(conversation)).status_code == 404
    assert "Dizzy on the new pill" not in text(client.get(INBOX))


# Retract ----------------------------------------------------------------------------------------


def test_the_sender_retracts_their_message_within_the_window(client, world, start):
    conversation = start()
    message = conversation.messages.get()
    sign_in(client, world.patient)
    assert 'class="ps-message__retract"' in text(client.get(page(conversation)))
    response = client.post(message_url(message, "retract/"))
    assert response.status_code == 302
    assert response["Location"] == f"{page(conversation)}?retracted={message.pk}#message-{message.pk}"
    message.refresh_from_db()
    assert message.retracted_at is not None
    shown = text(client.get(response["Location"]))
    assert "This message was retracted by its sender." in shown
    assert "Your message was retracted" in shown
    assert "Is it normal to feel dizzy" not in shown
    # The notice is for the reader's own retracted message only, not for any id in the address.
    assert "Your message was retracted" not in text(client.get(f"{page(conversation)}?retracted={uuid.uuid4()}"))


def test_nobody_retracts_someone_elses_message(client, world, start):
    conversation = start()
    message = conversation.messages.get()
    for who in (world.nurse, world.caregiver):
        client.logout()
        sign_in(client, who)
        assert 'class="ps-message__retract"' not in text(client.get(page(conversation)))
        response = client.post(message_url(message, "retract/"))
        assert response.status_code == 403
        assert "Only the sender can retract a message." in text(response)
    message.refresh_from_db()
    assert message.retracted_at is None


def test_a_message_cannot_be_retracted_after_the_window(client, world, start, settings):
    settings.PORTAL_SOCIAL_MESSAGING_RETRACT_SECONDS = 60
    conversation = start()
    message = conversation.messages.get()
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - datetime.timedelta(seconds=61))
    sign_in(client, world.patient)
    assert 'class="ps-message__retract"' not in text(client.get(page(conversation)))
    response = client.post(message_url(message, "retract/"))
    assert response.status_code == 403
    assert "only in the first 1 minute after sending" in text(response)
    message.refresh_from_db()
    assert message.retracted_at is None


def test_retract_answers_405_to_get(client, world, start):
    conversation = start()
    sign_in(client, world.patient)
    assert client.get(message_url(conversation.messages.get(), "retract/")).status_code == 405


# Close and reopen --------------------------------------------------------------------------------


def test_the_care_team_closes_and_a_patient_reply_reopens(client, world, start):
    conversation = start()
    sign_in(client, world.nurse)
    assert client.post(tool(conversation, "close")).status_code == 302
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.CLOSED and conversation.closed_by == world.nurse

    refused = client.post(page(conversation), {"body": "One more thing", "submission": str(uuid.uuid4())})
    assert refused.status_code == 403
    assert conversation.messages.count() == 1

    client.logout()
    sign_in(client, world.patient)
    shown = text(client.get(page(conversation)))
    assert "This conversation is closed. Writing again reopens it." in shown
    response = client.post(page(conversation), {"body": "Sorry, one more question", "submission": str(uuid.uuid4())})
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.OPEN and conversation.messages.count() == 2


def test_the_patient_closes_their_own_conversation(client, world, start):
    conversation = start()
    sign_in(client, world.patient)
    assert client.post(tool(conversation, "close")).status_code == 302
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.CLOSED and conversation.closed_by == world.patient


def test_close_answers_405_to_get(client, world, start):
    conversation = start()
    sign_in(client, world.patient)
    assert client.get(tool(conversation, "close")).status_code == 405
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.OPEN


# Assign ------------------------------------------------------------------------------------------


def test_a_pool_member_claims_a_conversation(client, world, start):
    conversation = start()
    sign_in(client, world.nurse)
    assert client.post(tool(conversation, "assign"), {"to": "me"}).status_code == 302
    conversation.refresh_from_db()
    assert conversation.assigned_to == world.nurse
    assert "Assigned to you" in text(client.get(INBOX, {"show": "mine"}))


def test_a_pool_member_assigns_to_another_member_by_pool_member_id(client, world, start):
    conversation = start()
    membership = PoolMember.objects.get(pool=world.pool, user=world.clinician)
    sign_in(client, world.nurse)
    assert client.post(tool(conversation, "assign"), {"to": str(membership.pk)}).status_code == 302
    conversation.refresh_from_db()
    assert conversation.assigned_to == world.clinician
    assert Notification.objects.filter(recipient=world.clinician, key="message.received").exists()


def test_assigning_to_someone_outside_the_pool_is_refused(client, world, start):
    conversation = start()
    outsider_membership = PoolMember.objects.get(user=world.outsider_clinician)
    sign_in(client, world.nurse)
    for target in (str(outsider_membership.pk), str(uuid.uuid4()), str(world.outsider_clinician.pk)):
        response = client.post(tool(conversation, "assign"), {"to": target})
        assert response.status_code == 400, target
        assert "Choose a member of this team." in text(response)
    conversation.refresh_from_db()
    assert conversation.assigned_to is None


def test_the_patient_side_cannot_assign(client, world, start):
    conversation = start()
    for who in (world.patient, world.caregiver):
        client.logout()
        sign_in(client, who)
        assert client.post(tool(conversation, "assign"), {"to": "me"}).status_code == 403
    conversation.refresh_from_db()
    assert conversation.assigned_to is None


# Confidential ------------------------------------------------------------------------------------


def test_the_patient_marks_a_conversation_confidential_and_the_caregiver_then_gets_404(client, world, start):
    conversation = start()
    sign_in(client, world.caregiver)
    assert client.get(page(conversation)).status_code == 200
    client.logout()

    sign_in(client, world.patient)
    assert client.post(tool(conversation, "confidential"), {"confidential": "1"}).status_code == 302
    conversation.refresh_from_db()
    assert conversation.confidential
    assert "Private: caregivers cannot see it" in text(client.get(page(conversation)))
    client.logout()

    sign_in(client, world.caregiver)
    assert client.get(page(conversation)).status_code == 404
    assert "Dizzy on the new pill" not in text(client.get(INBOX))

    client.logout()
    sign_in(client, world.patient)
    assert client.post(tool(conversation, "confidential"), {"confidential": "0"}).status_code == 302
    conversation.refresh_from_db()
    assert not conversation.confidential


@pytest.mark.parametrize("who", ["caregiver", "nurse", "clinician"])
def test_only_the_patient_changes_confidentiality(client, world, start, who):
    conversation = start()
    sign_in(client, getattr(world, who))
    response = client.post(tool(conversation, "confidential"), {"confidential": "1"})
    assert response.status_code == 403
    assert "Only the patient can change who sees this conversation." in text(response)
    conversation.refresh_from_db()
    assert not conversation.confidential


def test_confidential_with_a_bad_value_answers_400(client, world, start):
    conversation = start()
    sign_in(client, world.patient)
    assert client.post(tool(conversation, "confidential"), {"confidential": "yes"}).status_code == 400
    conversation.refresh_from_db()
    assert not conversation.confidential


# Read and the message fragment ------------------------------------------------------------------


def test_the_read_endpoint_records_how_far_the_reader_has_read(client, world, start):
    conversation = start()
    actions.send_message(sender=world.patient, conversation=conversation, body="And another thing.")
    sign_in(client, world.nurse)
    response = client.post(tool(conversation, "read"), {"seq": "1"})
    assert response.status_code == 302 and response["Location"] == page(conversation)
    state = ReadState.objects.get(conversation=conversation, user=world.nurse)
    assert state.side == Message.Side.CARE_TEAM and state.last_read_seq == 1
    client.post(tool(conversation, "read"), {"seq": "99"})  # never past the newest message
    state.refresh_from_db()
    assert state.last_read_seq == 2
    client.post(tool(conversation, "read"), {"seq": "1"})  # never backwards
    state.refresh_from_db()
    assert state.last_read_seq == 2


def test_the_read_endpoint_answers_405_to_get(client, world, start):
    conversation = start()
    sign_in(client, world.nurse)
    assert client.get(tool(conversation, "read")).status_code == 405
    assert not ReadState.objects.filter(user=world.nurse).exists()


def test_the_message_fragment_is_the_list_item_of_one_message(client, world, start):
    conversation = start()
    message = conversation.messages.get()
    sign_in(client, world.nurse)
    response = client.get(message_url(message))
    assert response.status_code == 200
    fragment = text(response).strip()
    assert fragment.startswith("<li ") and fragment.endswith("</li>")
    assert f'id="message-{message.pk}"' in fragment
    assert "Is it normal to feel dizzy on the new pill?" in fragment
    assert "<html" not in fragment


def test_the_message_fragment_of_a_message_from_another_conversation_is_404(client, world, start):
    conversation = start()
    elsewhere = start(subject="Another question", body="A second question.").messages.get()
    sign_in(client, world.patient)
    assert client.get(f"/messages/c/{conversation.pk}/m/{elsewhere.pk}/").status_code == 404


# Screening on the page --------------------------------------------------------------------------


def test_crisis_language_shows_the_patient_the_988_resources_after_sending(client, world, compose_data):
    sign_in(client, world.patient)
    response = client.post(COMPOSE, compose_data(body="Some days I want to kill myself."), follow=True)
    assert response.status_code == 200
    shown = text(response)
    assert 'class="ps-crisis"' in shown
    assert CRISIS_RESOURCES in shown
    assert Conversation.objects.get().urgent


def test_crisis_language_in_a_reply_shows_the_988_resources(client, world, start):
    conversation = start()
    sign_in(client, world.patient)
    response = client.post(
        page(conversation), {"body": "I feel like I want to die.", "submission": str(uuid.uuid4())}, follow=True
    )
    assert CRISIS_RESOURCES in text(response)
    assert CRISIS_RESOURCES not in text(client.get(page(conversation)))  # only right after sending it


def test_urgent_symptoms_flag_the_conversation_for_staff_but_show_the_patient_no_crisis_resources(
    client, world, compose_data
):
    sign_in(client, world.patient)
    response = client.post(
        COMPOSE, compose_data(subject="Since this morning", body="I have chest pain since this morning."), follow=True
    )
    shown = text(response)
    assert response.status_code == 200
    assert 'class="ps-crisis"' not in shown and CRISIS_RESOURCES not in shown
    assert "badge--urgent" not in shown
    conversation = Conversation.objects.get()
    assert conversation.urgent
    assert "badge--urgent" not in text(client.get(INBOX))

    client.logout()
    sign_in(client, world.nurse)
    inbox = text(client.get(INBOX))
    row = inbox[inbox.index("ps-conversation-row--urgent") :]
    assert "Since this morning" in row[: row.index("</li>")]
    assert '<span class="badge badge--urgent">Urgent</span>' in row[: row.index("</li>")]


def test_a_calm_message_is_not_flagged_urgent_in_the_staff_inbox(client, world, start):
    start()
    sign_in(client, world.nurse)
    assert "badge--urgent" not in text(client.get(INBOX))


# Second factor ----------------------------------------------------------------------------------


def test_staff_whose_session_did_not_pass_the_second_factor_are_sent_to_the_mfa_step(client, world, start):
    conversation = start()
    client.force_login(world.nurse)
    step = reverse("mfa_reauthenticate")
    for url in (INBOX, page(conversation)):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(step + "?next=")
        assert "Team inbox" not in text(response)
    response = client.post(page(conversation), {"body": "Reply", "submission": str(uuid.uuid4())})
    assert response.status_code == 403
    assert conversation.messages.count() == 1


def test_a_patient_needs_no_second_factor(client, world, start):
    start()
    client.force_login(world.patient)
    assert client.get(INBOX).status_code == 200


# The unread count in the navigation -------------------------------------------------------------


def test_the_navigation_counts_a_care_team_reply_until_the_patient_opens_the_conversation(client, world, start):
    conversation = start()
    sign_in(client, world.patient)
    assert 'class="nav-count"' not in text(client.get(INBOX))  # their own message is not unread

    actions.send_message(sender=world.nurse, conversation=conversation, body="Please stand up slowly.")
    assert 'class="nav-count">1<' in text(client.get(INBOX))

    client.get(page(conversation))
    assert 'class="nav-count"' not in text(client.get(INBOX))


# Bounded queries --------------------------------------------------------------------------------

#: Measured: each page makes this many queries whatever its size.
CONVERSATION_PAGE_QUERIES = {"patient": 30, "nurse": 28}
STAFF_INBOX_QUERIES = 22
PATIENT_INBOX_QUERIES = 12


def _repeated(small, large) -> str:
    """The queries (literals masked) the larger page makes more often than the smaller: what grows with size."""
    import re
    from collections import Counter

    def shape(sql: str) -> str:
        return re.sub(r"\b\d+\b", "N", re.sub(r"'[^']*'", "?", sql))

    counts_small = Counter(shape(q["sql"]) for q in small.captured_queries)
    counts_large = Counter(shape(q["sql"]) for q in large.captured_queries)
    grown = [
        f"{n - counts_small.get(sql, 0)} more: {sql}" for sql, n in counts_large.items() if n > counts_small.get(sql, 0)
    ]
    return f"{len(small)} queries at the small size, {len(large)} at the large size\n" + "\n".join(grown)


def _conversation_with(world, start, count: int, *, subject: str) -> Conversation:
    """``count`` messages, alternating sides, the newest from the care team whatever ``count`` is."""
    conversation = start(subject=subject)
    for n in range(2, count + 1):
        sender = world.nurse if (count - n) % 2 == 0 else world.patient
        actions.send_message(sender=sender, conversation=conversation, body=f"Message number {n}.")
    return conversation


@pytest.mark.parametrize("reader", ["patient", "nurse"])
def test_the_conversation_page_makes_the_same_number_of_queries_for_3_and_30_messages(
    client, world, start, settings, django_assert_max_num_queries, reader
):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"message": "1000/10m"}
    warm = _conversation_with(world, start, 3, subject="Warm-up")
    small = _conversation_with(world, start, 3, subject="Three messages")
    large = _conversation_with(world, start, 30, subject="Thirty messages")
    assert large.messages.count() == 30
    sign_in(client, getattr(world, reader))
    client.get(page(warm))
    ceiling = CONVERSATION_PAGE_QUERIES[reader]
    with django_assert_max_num_queries(ceiling) as few:
        assert client.get(page(small)).status_code == 200
    with django_assert_max_num_queries(ceiling) as many:
        response = client.get(page(large))
    assert "Message number 30." in text(response)
    assert len(few) == len(many), _repeated(few, many)


def test_the_staff_inbox_makes_the_same_number_of_queries_for_3_and_30_conversations(
    client, world, make_user, django_assert_max_num_queries
):
    def conversations(count: int) -> None:
        for n in range(count):
            patient = make_user(roles.PATIENT, first_name=f"Patient{n}", last_name="Example")
            PoolPatient.objects.create(pool=world.pool, patient=patient)
            conversation = actions.start_conversation(
                sender=patient,
                patient=patient,
                pool=world.pool,
                topic="medical_question",
                subject=f"Question {n}",
                body="A question for the team.",
            )
            if n % 2:
                actions.assign_conversation(actor=world.clinician, conversation=conversation, assignee=world.clinician)

    conversations(3)
    sign_in(client, world.nurse)
    client.get(INBOX)
    with django_assert_max_num_queries(STAFF_INBOX_QUERIES) as few:
        assert client.get(INBOX).status_code == 200
    conversations(27)
    with django_assert_max_num_queries(STAFF_INBOX_QUERIES) as many:
        response = client.get(INBOX)
    assert text(response).count('<li class="ps-conversation-row') == 25  # one page
    assert len(few) == len(many), _repeated(few, many)


def test_the_patient_inbox_makes_the_same_number_of_queries_for_3_and_30_conversations(
    client, world, start, settings, django_assert_max_num_queries
):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"message": "1000/10m"}

    def conversations(count: int, offset: int) -> None:
        for n in range(offset, offset + count):
            conversation = start(subject=f"Question {n}")
            if n % 2:
                actions.send_message(sender=world.nurse, conversation=conversation, body="An answer.")

    conversations(3, 0)
    sign_in(client, world.patient)
    client.get(INBOX)
    with django_assert_max_num_queries(PATIENT_INBOX_QUERIES) as few:
        assert client.get(INBOX).status_code == 200
    conversations(27, 3)
    with django_assert_max_num_queries(PATIENT_INBOX_QUERIES) as many:
        response = client.get(INBOX)
    assert text(response).count('<li class="ps-conversation-row') == 25
    assert len(few) == len(many), _repeated(few, many)


# Notifications ----------------------------------------------------------------------------------


def test_notifications_carry_only_ids_and_never_the_subject_or_the_text(client, world, compose_data):
    import re

    subject = "Hemorrhoid flare " + uuid.uuid4().hex[:8]
    body = "Bleeding after the colonoscopy " + uuid.uuid4().hex[:8]
    reply = "Apply the cream twice daily " + uuid.uuid4().hex[:8]
    urgent = "Now I have chest pain " + uuid.uuid4().hex[:8]
    sign_in(client, world.patient)
    client.post(COMPOSE, compose_data(subject=subject, body=body))
    conversation = Conversation.objects.get()
    client.logout()
    sign_in(client, world.nurse)
    client.post(page(conversation), {"body": reply, "submission": str(uuid.uuid4())})
    client.post(tool(conversation, "assign"), {"to": str(PoolMember.objects.get(user=world.clinician).pk)})
    client.logout()
    sign_in(client, world.caregiver)
    client.post(page(conversation), {"body": urgent, "submission": str(uuid.uuid4())})

    notifications = list(Notification.objects.select_related("recipient"))
    assert {n.key for n in notifications} >= {"message.pool_received", "message.received", "message.urgent"}
    uuid_text = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    secrets = [subject, body, reply, urgent, "Hemorrhoid", "colonoscopy", "cream", "chest pain"]
    for notification in notifications:
        for value in notification.params.values():
            assert isinstance(value, str) and uuid_text.match(value), (notification.key, value)
        rendered = render_notification(notification)
        for words in (rendered.subject, rendered.text, rendered.html, rendered.url):
            for secret in secrets:
                assert secret.lower() not in words.lower(), (notification.key, secret)


def test_the_reply_box_is_six_rows_and_carries_nothing_of_the_pages_own_context(client, world, start):
    conversation = start()
    sign_in(client, world.patient)
    page_text = text(client.get(page(conversation)))
    [box] = re.findall(r"<textarea[^>]*>", page_text)
    assert 'rows="6"' in box
    assert "Message" not in box and "retract" not in box
