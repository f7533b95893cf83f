"""Break-the-glass on a conversation, through the pages: staff outside the pool are offered emergency
access where they meet "not found"; a written reason opens the conversation for reading only, for a
limited time, recorded at high severity, with risk management told. Nobody learns from these pages
whether a conversation exists before sending a valid reason, and nobody else is offered anything."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client

from portal_social.core import roles
from portal_social.core.models import AuditEvent, BreakGlassGrant
from portal_social.core.notify.models import Notification
from portal_social.messaging.models import Message
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

REASON = "Patient collapsed in the emergency department; need the recent messages about dizziness"
OFFER = "Ask for emergency access"


def _page(conversation_id) -> str:
    return f"/messages/c/{conversation_id}/"


def _emergency(conversation_id) -> str:
    return f"/messages/c/{conversation_id}/emergency/"


def _client(user) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def _normal(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r"/messages/c/[0-9a-f-]{36}/", "/messages/c/ID/", html)
    return re.sub(r"\s+", " ", html)


def test_staff_outside_the_pool_are_offered_emergency_access_alike_for_a_missing_conversation(world, start):
    conversation = start()
    outsider = _client(world.outsider_clinician)
    real = outsider.get(_page(conversation.pk))
    missing = outsider.get(_page(uuid.uuid4()))
    assert real.status_code == missing.status_code == 404
    assert OFFER in real.content.decode()
    assert _normal(real.content.decode()) == _normal(missing.content.decode())
    assert "Dizzy" not in real.content.decode() and "Lopez" not in real.content.decode()
    form_real, form_missing = outsider.get(_emergency(conversation.pk)), outsider.get(_emergency(uuid.uuid4()))
    assert form_real.status_code == form_missing.status_code == 200
    assert _normal(form_real.content.decode()) == _normal(form_missing.content.decode())
    assert not BreakGlassGrant.objects.exists()


@pytest.mark.parametrize("who", ["patient", "caregiver", "moderator", "superuser", "other_patient"])
def test_people_who_may_not_break_the_glass_get_the_plain_not_found(world, start, who):
    conversation = start(confidential=True)  # kept from the caregiver too
    client = _client(getattr(world, who))
    page = client.get(_page(conversation.pk)) if who != "patient" else None
    if page is not None:
        assert page.status_code == 404 and OFFER not in page.content.decode()
    assert client.get(_emergency(conversation.pk)).status_code in (302, 404)  # the patient is sent to their page
    response = client.post(_emergency(conversation.pk), {"reason": REASON})
    assert response.status_code == 404
    assert not BreakGlassGrant.objects.exists()


def test_a_patient_who_follows_the_emergency_link_is_sent_to_their_own_conversation(world, start):
    conversation = start()
    response = _client(world.patient).get(_emergency(conversation.pk))
    assert response.status_code == 302 and response["Location"] == _page(conversation.pk)


def test_a_short_or_missing_reason_is_refused_with_a_clear_error_and_opens_nothing(world, start):
    conversation = start()
    outsider = _client(world.outsider_clinician)
    for reason in ("", "   ", "need it"):
        response = outsider.post(_emergency(conversation.pk), {"reason": reason})
        assert response.status_code == 400
        text = response.content.decode()
        assert "There is a problem" in text and "emergency access" in text
    too_long = outsider.post(_emergency(conversation.pk), {"reason": "x" * 2001})
    assert too_long.status_code == 400
    assert not BreakGlassGrant.objects.exists()
    assert outsider.get(_page(conversation.pk)).status_code == 404


def test_a_reason_opens_the_conversation_for_reading_recorded_and_told_to_risk_management(world, start, make_user):
    risk = make_user(roles.RISK_MANAGER, mfa=True)
    conversation = start()
    outsider = _client(world.outsider_clinician)
    response = outsider.post(_emergency(conversation.pk), {"reason": REASON})
    assert response.status_code == 302 and response["Location"] == _page(conversation.pk)
    assert REASON not in response["Location"]

    grant = BreakGlassGrant.objects.get(user=world.outsider_clinician)
    opened = AuditEvent.objects.get(action="break_glass.open", actor_id=world.outsider_clinician.pk)
    assert opened.patient_id == world.patient.pk
    assert Notification.objects.filter(recipient=risk).exists()

    page = outsider.get(_page(conversation.pk))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Is it normal to feel dizzy on the new pill?" in text
    assert "Emergency access: you may read this conversation until" in text
    assert "Patient:" in text
    assert 'name="body"' not in text  # reading only: no reply form
    assert "Emergency access opens a conversation for reading only." in text
    assert "This conversation is closed" not in text
    assert "ps-message__receipt" not in text  # on neither side: no "Sent" or "Read" marks
    assert "data-ps-stream" not in text  # no live updates: the page is read, and read again, through the policy
    # The emergency reader's unread badge counts only their own teams' conversations.
    from portal_social.messaging import actions

    assert not actions.unread_conversations(world.outsider_clinician).filter(pk=conversation.pk).exists()
    assert AuditEvent.objects.filter(action="break_glass.read", actor_id=world.outsider_clinician.pk).count() == 1

    # Reading only, whatever is posted: a reply is refused and nothing is stored.
    before = Message.objects.count()
    reply = outsider.post(_page(conversation.pk), {"body": "Checking in", "submission": str(uuid.uuid4())})
    assert reply.status_code == 403 and Message.objects.count() == before
    # Said as it is: the conversation is open, and this reader may only read it.
    assert "not write in it" in reply.content.decode() and "is closed" not in reply.content.decode()
    assert grant.expires_at > grant.created_at
    # The page learns how it was opened from the check itself: the grant for the outsider, none for a participant.
    from portal_social.core import access

    assert access.require_opening(world.outsider_clinician, "view", conversation) == grant
    assert access.require_opening(world.patient, "view", conversation) is None


def test_a_valid_reason_for_a_conversation_that_does_not_exist_answers_not_found(world):
    outsider = _client(world.outsider_clinician)
    response = outsider.post(_emergency(uuid.uuid4()), {"reason": REASON})
    assert response.status_code == 404
    assert not BreakGlassGrant.objects.exists()


def test_staff_without_a_second_factor_this_session_are_sent_to_it_first(world, start):
    conversation = start()
    client = Client()
    client.force_login(world.outsider_clinician)  # password only
    for response in (
        client.get(_emergency(conversation.pk)),
        client.post(_emergency(conversation.pk), {"reason": REASON}),
    ):
        assert response.status_code in (302, 403)
        assert "/emergency/" not in response.get("Location", "")
    assert not BreakGlassGrant.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_emergency_access_does_not_open_the_conversations_live_stream(world, start):
    """A grant opens the page, audited at each load; the socket answers as for a conversation not there."""
    from asgiref.sync import async_to_sync

    from portal_social.core import breakglass
    from tests.messaging.test_realtime import _connect, _subscribe

    conversation = start()
    breakglass.break_the_glass(user=world.outsider_clinician, obj=conversation, reason=REASON)

    async def subscribe():
        socket = await _connect(world.outsider_clinician)
        answer = await _subscribe(socket, str(conversation.pk))
        await socket.disconnect()
        return answer

    answer = async_to_sync(subscribe)()
    assert answer["type"] == "error" and answer["error"] == "not_found"
