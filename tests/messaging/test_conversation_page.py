"""What the conversation page and the team inbox tell each reader, beyond the messages themselves."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from portal_social.core import breakglass, realtime
from portal_social.messaging import actions
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

REASON = "Patient collapsed in the emergency department; need the recent messages"


def _client(user) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def _page(conversation) -> str:
    return f"/messages/c/{conversation.pk}/"


def _sent(client, conversation, message) -> str:
    return client.get(f"{_page(conversation)}?sent={message.pk}").content.decode()


def test_the_page_title_never_holds_the_subject(world, start):
    conversation = start(subject="Results of my HIV test")
    for user in (world.patient, world.nurse):
        html = _client(user).get(_page(conversation)).content.decode()
        [title] = re.findall(r"<title>(.*?)</title>", html, re.S)
        assert "HIV" not in title and "Conversation" in title
        assert "Results of my HIV test" in html  # the page itself still says what it is about


def test_after_urgent_symptoms_the_patient_is_told_not_to_wait(world, start):
    conversation = start(body="I have had chest pain since this evening and my left arm feels heavy.")
    html = _sent(_client(world.patient), conversation, conversation.messages.get())
    assert "Do not wait for a reply if you need care now." in html
    assert "If this is an emergency, call 911." in html


def test_a_calm_message_gets_no_warning_and_crisis_language_gets_its_resources_under_an_h2(world, start):
    calm = start()
    assert "Do not wait for a reply" not in _sent(_client(world.patient), calm, calm.messages.get())
    crisis = start(body="I keep thinking about ending my life.")
    html = _sent(_client(world.patient), crisis, crisis.messages.get())
    assert '<h2 id="ps-crisis-title">' in html and "988" in html
    assert "Do not wait for a reply if you need care now." not in html  # the crisis block says it already


def test_a_clinician_reading_through_emergency_access_sees_the_urgent_marks(world, start):
    conversation = start(body="Chest pain and trouble breathing since this morning.")
    breakglass.break_the_glass(user=world.outsider_clinician, obj=conversation, reason=REASON)
    html = _client(world.outsider_clinician).get(_page(conversation)).content.decode()
    assert html.count('class="badge badge--urgent"') == 2  # the conversation and its message


def test_a_caregivers_message_names_them_once_with_their_side(world, start):
    conversation = start(sender=world.caregiver)
    html = _client(world.nurse).get(_page(conversation)).content.decode()
    assert "Ana L., caregiver" not in html
    assert re.search(r"<strong>Ana L\.</strong>\s*<span class=\"ps-message__side\">Caregiver</span>", html)


def _away(world, who, delegate):
    now = timezone.now()
    return actions.set_out_of_office(
        actor=who,
        delegate=delegate,
        starts_at=now - datetime.timedelta(hours=1),
        ends_at=now + datetime.timedelta(days=3),
    )


def test_a_delegate_sees_what_they_cover_under_assigned_to_me_and_on_the_page(world, start):
    conversation = start()
    actions.assign_conversation(actor=world.clinician, conversation=conversation, assignee=world.clinician)
    _away(world, world.clinician, world.nurse)
    client = _client(world.nurse)
    mine = client.get("/messages/?show=mine").content.decode()
    assert _page(conversation) in mine and "Priya R. is away: you are covering" in mine
    page = client.get(_page(conversation)).content.decode()
    assert "Assigned to Priya R., who is away: you are covering their messages." in page
    assert "Priya R.." not in page


def test_a_quiet_team_inbox_load_subscribes_after_what_it_lists(world, start):
    start()
    start(subject="Another")
    newest = realtime.last_event_ids([actions.POOL_STREAM], str(world.pool.pk))[actions.POOL_STREAM]
    assert newest > 0
    html = _client(world.nurse).get("/messages/").content.decode()
    [streams] = re.findall(r'<script id="ps-inbox-streams" type="application/json">(.*?)</script>', html, re.S)
    assert json.loads(streams) == [{"stream": actions.POOL_STREAM, "target": str(world.pool.pk), "after": newest}]


def test_retracting_the_only_message_stops_the_wait_and_the_reply_promise(world, start):
    conversation = start()
    message = conversation.messages.get()
    conversation.refresh_from_db()
    assert conversation.reply_due_at is not None
    actions.retract_message(actor=world.patient, message=message)
    conversation.refresh_from_db()
    assert conversation.reply_due_at is None
    html = _client(world.patient).get(_page(conversation)).content.decode()
    assert "expect a reply by" not in html
    assert _page(conversation) not in _client(world.nurse).get("/messages/?show=waiting").content.decode()


def test_retracting_one_of_two_unanswered_messages_keeps_the_wait(world, start):
    conversation = start()
    second = actions.send_message(sender=world.patient, conversation=conversation, body="Also: can I drive?")
    actions.retract_message(actor=world.patient, message=second)
    conversation.refresh_from_db()
    assert conversation.reply_due_at is not None


def test_retracting_after_the_team_answered_keeps_nothing_waiting_only_when_nothing_new_stands(world, start):
    conversation = start()
    actions.send_message(sender=world.nurse, conversation=conversation, body="Please rest.")
    follow_up = actions.send_message(sender=world.patient, conversation=conversation, body="Thank you, and one more")
    conversation.refresh_from_db()
    assert conversation.reply_due_at is not None
    actions.retract_message(actor=world.patient, message=follow_up)
    conversation.refresh_from_db()
    assert conversation.reply_due_at is None


def test_the_retract_button_carries_the_seconds_it_has_left(world, start):
    conversation = start()
    html = _client(world.patient).get(_page(conversation)).content.decode()
    [left] = re.findall(r'class="ps-message__retract" data-ps-seconds-left="(\d+)"', html)
    assert 100 <= int(left) <= 120


def test_a_caregivers_compose_page_says_for_whom_and_as_whom_they_write(world):
    html = _client(world.caregiver).get("/messages/new/").content.decode()
    assert "<h1>Write to Maria L.'s care team</h1>" in html
    assert "You are writing as Maria L.'s caregiver." in html
    own = _client(world.patient).get("/messages/new/").content.decode()
    assert "<h1>Write to your care team</h1>" in own and "You are writing as" not in own
