"""Secure messaging over the portal's websocket.

A conversation's readers follow the stream ``messaging.conversation`` (target:
the conversation's uuid). An event is pushed only once the message is
committed, says "something changed" with opaque ids and never the text, and
reaches only people the access policy lets see the conversation; everyone
else is answered exactly as for a conversation that does not exist. A client
that reconnects asks for what it missed by last-seen id; a socket that loses
access while open is closed; a channel-layer outage delays a live update but
never loses the message.
"""

from __future__ import annotations

import datetime
import json
import logging
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.test import Client
from django.utils import timezone

from portal_social.core import caregivers, realtime, realtime_outage
from portal_social.core.models import CaregiverRelation
from portal_social.core.realtime_models import RealtimeEvent
from portal_social.messaging import actions
from portal_social.messaging.models import Conversation, Message, PoolPatient
from portal_social.routing import websocket_urlpatterns
from tests.factories import sign_in

PATH = "/ws/portal-social/"
STREAM = actions.CONVERSATION_STREAM
committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)

#: The package's routes behind the session and user middleware every host puts in front of them.
APP = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))

SUBJECT = "Quillon palpitations after the Harrowgate clinic"
BODY = "Philippa Quillon here, MRN 88412977: chest flutters since Tuesday at 1409 Elmwood Avenue."
#: Words of the subject and body that must never travel in an event.
SECRETS = ("Quillon", "palpitations", "Harrowgate", "Philippa", "88412977", "flutters", "Elmwood")


# --------------------------------------------------------------------------- helpers


def _cookie(user, *, second_factor: bool = True) -> str:
    """A session cookie for ``user``: the front door's sign-in (second factor recorded when enrolled),
    or a password-only session."""
    client = Client()
    if second_factor:
        sign_in(client, user)
    else:
        client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"


async def _open(user, *, second_factor: bool = True, app=APP, origin: str | None = None) -> WebsocketCommunicator:
    cookie = await database_sync_to_async(_cookie)(user, second_factor=second_factor)
    headers = [(b"cookie", cookie.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return WebsocketCommunicator(app, PATH, headers=headers)


async def _connect(user) -> WebsocketCommunicator:
    """An open socket signed in as ``user`` (proved open by a ping)."""
    socket = await _open(user)
    connected, _subprotocol = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=2) == {"type": "pong"}
    return socket


async def _subscribe(socket, target, after=0, stream=STREAM) -> dict:
    await socket.send_json_to({"type": "subscribe", "stream": stream, "target": target, "after": after})
    return await socket.receive_json_from(timeout=2)


async def _follow(socket, conversation, after=None) -> dict:
    """Subscribe to ``conversation`` from its newest event (or ``after``); the answer must be "subscribed"."""
    if after is None:
        after = await _last_id(conversation)
    answer = await _subscribe(socket, str(conversation.pk), after=after)
    assert answer["type"] == "subscribed", answer
    return answer


@database_sync_to_async
def _last_id(conversation) -> int:
    return realtime.last_event_ids([STREAM], str(conversation.pk))[STREAM]


@database_sync_to_async
def _send(sender, conversation, body="Thank you, that helps.") -> Message:
    return actions.send_message(sender=sender, conversation=Conversation.objects.get(pk=conversation.pk), body=body)


async def _closed_with(socket, code: int) -> bool:
    return await socket.receive_output(timeout=3) == {"type": "websocket.close", "code": code}


def _assert_no_text(event) -> None:
    raw = json.dumps(event).lower()
    leaked = [word for word in SECRETS if word.lower() in raw]
    assert not leaked, f"the event carries the message's words {leaked}: {raw}"


# --------------------------------------------------------------------------- persist first, then publish


@pytest.fixture
def pushed(monkeypatch):
    """What reached the channel layer, by group."""
    sent = []
    monkeypatch.setattr(realtime, "publish", lambda group, message: sent.append((group, message)))
    return sent


def _to_conversation(sent, conversation) -> list[dict]:
    group = realtime.stream_group_name(STREAM, str(conversation.pk))
    return [message["event"] for g, message in sent if g == group]


@pytest.mark.django_db
def test_a_message_is_announced_by_id_only_after_its_transaction_commits(
    world, start, pushed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        conversation = start(subject=SUBJECT, body=BODY)
    pushed.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = actions.send_message(sender=world.nurse, conversation=conversation, body=BODY)
        assert Message.objects.filter(pk=message.pk).exists()
        assert _to_conversation(pushed, conversation) == []
    assert _to_conversation(pushed, conversation) == []  # written, not yet committed: nothing told
    assert callbacks
    for callback in callbacks:
        callback()
    [event] = _to_conversation(pushed, conversation)
    assert event == {
        "kind": "message",
        "message": str(message.pk),
        "stream": STREAM,
        "target": str(conversation.pk),
        "id": 2,
    }
    _assert_no_text([message for _group, message in pushed])


@pytest.mark.django_db
def test_a_rolled_back_message_is_never_announced(world, start, pushed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        conversation = start()
    pushed.clear()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        actions.send_message(sender=world.nurse, conversation=conversation, body=BODY)
        raise RuntimeError("the request failed after the action")
    assert pushed == []
    assert Message.objects.filter(conversation=conversation).count() == 1
    assert realtime.last_event_ids([STREAM], str(conversation.pk)) == {STREAM: 1}


# --------------------------------------------------------------------------- participants


@committed
async def test_the_patient_and_a_pool_nurse_hear_of_a_message_once_it_is_committed(world, start):
    conversation = await database_sync_to_async(start)(subject=SUBJECT, body=BODY)
    patient = await _connect(world.patient)
    nurse = await _connect(world.nurse)  # a session that passed the second factor
    for socket in (patient, nurse):
        answer = await _follow(socket, conversation)
        assert answer == {
            "type": "subscribed",
            "stream": STREAM,
            "target": str(conversation.pk),
            "last_id": 1,
            "reload": False,
        }
        assert await socket.receive_nothing(timeout=0.1)

    def reply_and_listen_before_commit():
        with transaction.atomic():
            message = actions.send_message(
                sender=world.nurse, conversation=Conversation.objects.get(pk=conversation.pk), body=BODY
            )
            # The row is written and the transaction still open: no socket may hear of it yet.
            quiet = [async_to_sync(s.receive_nothing)(timeout=0.3) for s in (patient, nurse)]
        return message, quiet

    message, quiet = await database_sync_to_async(reply_and_listen_before_commit)()
    assert quiet == [True, True]
    for socket in (patient, nurse):
        event = await socket.receive_json_from(timeout=2)
        assert event == {
            "kind": "message",
            "message": str(message.pk),
            "stream": STREAM,
            "target": str(conversation.pk),
            "id": 2,
        }
        _assert_no_text(event)
        assert await socket.receive_nothing(timeout=0.1)  # once

    # The patient's own message reaches the nurse the same way.
    own = await _send(world.patient, conversation, "Thanks, I will rest today.")
    assert (await nurse.receive_json_from(timeout=2))["message"] == str(own.pk)
    assert (await patient.receive_json_from(timeout=2))["message"] == str(own.pk)
    for socket in (patient, nurse):
        await socket.disconnect()


@committed
async def test_kept_events_carry_no_words_of_the_subject_or_message(world, start):
    conversation = await database_sync_to_async(start)(subject=SUBJECT, body=BODY)
    await _send(world.nurse, conversation, BODY)
    await _send(world.patient, conversation, BODY)

    @database_sync_to_async
    def kept():
        return list(RealtimeEvent.objects.values_list("payload", flat=True))

    payloads = await kept()
    assert len(payloads) >= 6  # three messages, each on the conversation and the pool streams
    _assert_no_text(payloads)
    for payload in payloads:
        if payload.get("stream") == STREAM:
            assert set(payload) <= {"kind", "message", "seq", "side", "stream", "target", "id"}


@committed
async def test_a_nurse_whose_session_skipped_the_second_factor_gets_no_socket(world):
    socket = await _open(world.nurse, second_factor=False)
    await socket.connect()
    assert await _closed_with(socket, realtime.CLOSE_MFA_REQUIRED)


# --------------------------------------------------------------------------- strangers


STRANGERS = ["other_patient", "outsider_clinician", "superuser", "caregiver"]


@committed
@pytest.mark.parametrize("who", STRANGERS)
async def test_a_stranger_is_answered_as_for_a_conversation_that_does_not_exist(world, start, who):
    # Confidential, so that the patient's caregiver is a stranger to it too.
    hidden = await database_sync_to_async(start)(subject=SUBJECT, body=BODY, confidential=True)
    stranger = await _connect(getattr(world, who))

    answers = {
        "hidden": await _subscribe(stranger, str(hidden.pk)),
        "random uuid": await _subscribe(stranger, str(uuid.uuid4())),
        "malformed": await _subscribe(stranger, "not-a-conversation"),
        "too long": await _subscribe(stranger, "f" * 80),
        "not a string": await _subscribe(stranger, {"pk": str(hidden.pk)}),
    }
    assert answers["hidden"] == {"type": "error", "error": "not_found", "stream": STREAM, "target": str(hidden.pk)}
    alike = {name: {k: v for k, v in answer.items() if k != "target"} for name, answer in answers.items()}
    assert all(answer == alike["hidden"] for answer in alike.values()), alike
    assert all(set(answer) == set(answers["hidden"]) for answer in answers.values())

    # Its messages never reach the stranger.
    await _send(world.nurse, hidden, BODY)
    assert await stranger.receive_nothing(timeout=0.3)
    await stranger.disconnect()


@committed
async def test_the_caregiver_follows_a_conversation_that_is_not_confidential(world, start):
    """The control for the stranger cases: the same caregiver is a reader when the patient allows it."""
    shared = await database_sync_to_async(start)()
    socket = await _connect(world.caregiver)
    await _follow(socket, shared)
    message = await _send(world.nurse, shared)
    assert (await socket.receive_json_from(timeout=2))["message"] == str(message.pk)
    await socket.disconnect()


# --------------------------------------------------------------------------- catching up


@committed
async def test_a_client_that_reconnects_receives_exactly_what_it_missed_in_order(world, start):
    conversation = await database_sync_to_async(start)()
    sent = []
    for n in range(3):
        sent.append(await _send(world.patient, conversation, f"Update number {n + 1}"))
        if n == 0:
            first_id = await _last_id(conversation)

    socket = await _connect(world.nurse)
    answer = await _subscribe(socket, str(conversation.pk), after=first_id)
    assert (answer["type"], answer["last_id"], answer["reload"]) == ("subscribed", first_id + 2, False)
    missed = [await socket.receive_json_from(timeout=2) for _n in range(2)]
    assert [(e["kind"], e["message"], e["id"]) for e in missed] == [
        ("message", str(sent[1].pk), first_id + 1),
        ("message", str(sent[2].pk), first_id + 2),
    ]
    assert await socket.receive_nothing(timeout=0.2)  # each once, nothing older

    # Live events continue from there, without a gap or a repeat.
    later = await _send(world.patient, conversation, "One more thing")
    event = await socket.receive_json_from(timeout=2)
    assert (event["message"], event["id"]) == (str(later.pk), first_id + 3)
    assert await socket.receive_nothing(timeout=0.1)
    await socket.disconnect()


# --------------------------------------------------------------------------- read receipts


@committed
async def test_the_nurse_reading_pushes_a_receipt_to_the_patient(world, start):
    conversation = await database_sync_to_async(start)()
    second = await _send(world.patient, conversation, "Also, my ankles are swollen.")
    patient = await _connect(world.patient)
    await _follow(patient, conversation)

    @database_sync_to_async
    def nurse_reads():
        return actions.mark_read(user=world.nurse, conversation=Conversation.objects.get(pk=conversation.pk))

    state = await nurse_reads()
    assert state.last_read_seq == second.seq == 2
    event = await patient.receive_json_from(timeout=2)
    assert {k: v for k, v in event.items() if k != "id"} == {
        "kind": "read",
        "side": "care_team",
        "seq": 2,
        "stream": STREAM,
        "target": str(conversation.pk),
    }
    # Reading again up to the same message tells nobody anything new.
    await nurse_reads()
    assert await patient.receive_nothing(timeout=0.2)
    await patient.disconnect()


# --------------------------------------------------------------------------- origin


@committed
async def test_the_portal_refuses_a_socket_from_a_foreign_origin(world, start):
    from example_site.asgi import application

    conversation = await database_sync_to_async(start)()
    foreign = await _open(world.patient, app=application, origin="https://attacker.example")
    connected, _subprotocol = await foreign.connect()
    assert not connected  # the handshake is rejected before the consumer sees the session
    await foreign.disconnect()

    # The same person from the portal's own origin is let in, so the refusal is the origin's.
    own = await _open(world.patient, app=application, origin="http://testserver")
    connected, _subprotocol = await own.connect()
    assert connected
    assert (await _follow(own, conversation))["type"] == "subscribed"
    await own.disconnect()


@committed
@pytest.mark.parametrize(
    "origin", ["https://attacker.example", "http://testserver.attacker.example", "null", "file://", "ws://"]
)
async def test_the_consumer_itself_refuses_a_foreign_origin_without_the_hosts_validator(world, start, origin):
    """Defence in depth: a host that forgot ``AllowedHostsOriginValidator`` is still protected."""
    conversation = await database_sync_to_async(start)()
    foreign = await _open(world.patient, origin=origin)  # the bare router: no origin validator in front
    connected, _subprotocol = await foreign.connect()
    assert not connected
    await foreign.disconnect()
    own = await _open(world.patient, origin="http://testserver")
    connected, _subprotocol = await own.connect()
    assert connected
    assert (await _follow(own, conversation))["type"] == "subscribed"
    await own.disconnect()


# --------------------------------------------------------------------------- access ended


@database_sync_to_async
def _end_link(patient, caregiver):
    relation = CaregiverRelation.objects.get(patient=patient, caregiver=caregiver)
    return caregivers.end_caregiver_link(actor=patient, relation=relation)


@database_sync_to_async
def _make_confidential(patient, conversation):
    return actions.set_confidential(
        actor=patient, conversation=Conversation.objects.get(pk=conversation.pk), confidential=True
    )


async def _caregiver_and_patient_following(world, start):
    """A conversation, and an open socket each for the caregiver and the patient following it."""
    conversation = await database_sync_to_async(start)()
    caregiver = await _connect(world.caregiver)
    patient = await _connect(world.patient)
    for socket in (caregiver, patient):
        await _follow(socket, conversation)
    return conversation, caregiver, patient


@committed
async def test_an_ended_caregiver_link_closes_the_caregivers_socket(world, start):
    conversation, caregiver, patient = await _caregiver_and_patient_following(world, start)

    await _end_link(world.patient, world.caregiver)

    assert await _closed_with(caregiver, realtime.CLOSE_ACCESS_ENDED)
    # The patient's socket follows what is still theirs: it stays open and keeps hearing.
    message = await _send(world.nurse, conversation)
    assert (await patient.receive_json_from(timeout=2))["message"] == str(message.pk)
    await patient.send_json_to({"type": "ping"})
    assert await patient.receive_json_from(timeout=2) == {"type": "pong"}
    await patient.disconnect()


@database_sync_to_async
def _link_lapses(patient, caregiver):
    """The link reaches its end date: nothing is written through the action, so no socket is told."""
    today = timezone.localdate()
    CaregiverRelation.objects.filter(patient=patient, caregiver=caregiver).update(
        starts_on=today - datetime.timedelta(days=30), ends_on=today - datetime.timedelta(days=1)
    )


@pytest.fixture
def quick_rechecks(monkeypatch):
    """Sweeps every 50 ms and access asked again every 100 ms (15 s and 60 s in production)."""
    monkeypatch.setattr(realtime_outage, "SWEEP_SECONDS", 0.05)
    monkeypatch.setattr(realtime_outage, "ACCESS_RECHECK_SECONDS", 0.1)


@committed
async def test_a_caregiver_link_that_lapses_with_no_message_closes_the_socket_at_the_periodic_check(
    world, start, quick_rechecks
):
    conversation, caregiver, patient = await _caregiver_and_patient_following(world, start)

    await _link_lapses(world.patient, world.caregiver)

    assert await _closed_with(caregiver, realtime.CLOSE_ACCESS_ENDED)
    # The patient's socket has been asked again too, and keeps what is theirs.
    assert await patient.receive_nothing(timeout=0.5)
    message = await _send(world.nurse, conversation)
    assert (await patient.receive_json_from(timeout=2))["message"] == str(message.pk)
    await patient.disconnect()


@committed
async def test_a_session_signed_out_elsewhere_closes_the_socket_at_the_periodic_check(world, start, quick_rechecks):
    conversation = await database_sync_to_async(start)()
    patient = await _connect(world.patient)
    await _follow(patient, conversation)
    # The session row is deleted behind the socket's back (another process's sign-out, an expiry sweep).
    await database_sync_to_async(lambda: Session.objects.all().delete())()
    assert await _closed_with(patient, realtime.CLOSE_UNAUTHENTICATED)


@committed
async def test_making_a_conversation_confidential_closes_the_caregivers_socket_that_follows_it(world, start):
    private = await database_sync_to_async(start)(subject="Something I keep to myself")
    shared = await database_sync_to_async(start)(subject="Appointments")
    following_private = await _connect(world.caregiver)
    await _follow(following_private, private)
    await _follow(following_private, shared)
    following_shared = await _connect(world.caregiver)
    await _follow(following_shared, shared)
    patient = await _connect(world.patient)
    await _follow(patient, private)

    await _make_confidential(world.patient, private)

    assert await _closed_with(following_private, realtime.CLOSE_ACCESS_ENDED)
    # A socket of the same caregiver that follows only what is still allowed stays open.
    assert await following_shared.receive_nothing(timeout=0.3)
    message = await _send(world.nurse, shared)
    assert (await following_shared.receive_json_from(timeout=2))["message"] == str(message.pk)
    assert (await _subscribe(following_shared, str(private.pk)))["error"] == "not_found"
    # The patient keeps following the conversation.
    reply = await _send(world.nurse, private)
    assert (await patient.receive_json_from(timeout=2))["message"] == str(reply.pk)
    await following_shared.disconnect()
    await patient.disconnect()


@committed
async def test_a_socket_left_open_cannot_follow_a_conversation_of_an_ended_link(world, start):
    """The caregiver helps two patients; one link ends. The socket following the other patient stays
    open, and asking it to follow the first patient's conversation now is refused."""

    @database_sync_to_async
    def second_patient():
        PoolPatient.objects.get_or_create(pool=world.pool, patient=world.other_patient)
        caregivers.link_caregiver(
            actor=world.other_patient, caregiver=world.caregiver, patient=world.other_patient, scopes=["messaging"]
        )

    await second_patient()
    first = await database_sync_to_async(start)()
    other = await database_sync_to_async(start)(sender=world.other_patient, patient=world.other_patient)
    socket = await _connect(world.caregiver)
    await _follow(socket, other)

    await _end_link(world.patient, world.caregiver)

    assert await socket.receive_nothing(timeout=0.3)  # still allowed what it follows: stays open
    answer = await _subscribe(socket, str(first.pk))
    assert answer == {"type": "error", "error": "not_found", "stream": STREAM, "target": str(first.pk)}
    await socket.disconnect()


# --------------------------------------------------------------------------- channel-layer outage


@committed
async def test_a_channel_layer_outage_never_fails_a_send_and_the_message_is_caught_up(
    world, start, monkeypatch, caplog
):
    caplog.set_level(logging.WARNING, logger="portal_social")
    conversation = await database_sync_to_async(start)()
    listening = await _connect(world.nurse)
    before = (await _follow(listening, conversation))["last_id"]

    async def down(group, message):
        raise ConnectionError("the channel layer is unreachable")

    monkeypatch.setattr(get_channel_layer(), "group_send", down)
    message = await _send(world.patient, conversation, "Sent while the live layer is down")

    @database_sync_to_async
    def saved():
        return Message.objects.filter(pk=message.pk, conversation=conversation).exists()

    assert await saved()
    assert "ConnectionError" in caplog.text
    assert await listening.receive_nothing(timeout=0.3)  # delayed, not delivered
    await listening.disconnect()

    # A client that comes back asks from its last-seen id and gets the stored event.
    returning = await _connect(world.nurse)
    answer = await _subscribe(returning, str(conversation.pk), after=before)
    assert (answer["type"], answer["last_id"], answer["reload"]) == ("subscribed", before + 1, False)
    event = await returning.receive_json_from(timeout=2)
    assert (event["kind"], event["message"], event["id"]) == ("message", str(message.pk), before + 1)
    await returning.disconnect()


# --------------------------------------------------------------------------- once each, in order


@database_sync_to_async
def _send_quietly(sender, conversation, body) -> dict:
    """Send a message with its push held back (as if the channel layer lost it); return the stored event."""
    pending = []
    original = transaction.on_commit

    def hold(func, using=None, robust=False):
        pending.append(func)

    transaction.on_commit = hold
    try:
        message = actions.send_message(
            sender=sender, conversation=Conversation.objects.get(pk=conversation.pk), body=body
        )
    finally:
        transaction.on_commit = original
    stored = RealtimeEvent.objects.filter(payload__message=str(message.pk)).values_list("payload", flat=True).get()
    return stored


async def _group_send(conversation, payload) -> None:
    group = realtime.stream_group_name(STREAM, str(conversation.pk))
    await get_channel_layer().group_send(group, {"type": "portal.event", "event": payload})


@committed
async def test_a_lost_push_is_filled_in_and_crossed_pushes_arrive_in_order_once_each(world, start):
    conversation = await database_sync_to_async(start)()
    socket = await _connect(world.nurse)
    await _follow(socket, conversation)
    first = await _send_quietly(world.patient, conversation, "First")
    second = await _send_quietly(world.patient, conversation, "Second")
    third = await _send_quietly(world.patient, conversation, "Third")
    # The third push arrives first; the first was lost; the second comes late, twice.
    await _group_send(conversation, third)
    got = [await socket.receive_json_from(timeout=2) for _n in range(3)]
    assert [event["id"] for event in got] == [first["id"], second["id"], third["id"]]
    await _group_send(conversation, second)
    await _group_send(conversation, second)
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


@committed
async def test_an_event_committed_while_subscribing_is_sent_once(world, start):
    conversation = await database_sync_to_async(start)()
    before = await _last_id(conversation)
    event = await _send_quietly(world.patient, conversation, "Sent while the page reconnects")
    socket = await _connect(world.nurse)
    answer = await _subscribe(socket, str(conversation.pk), after=before)
    assert answer["type"] == "subscribed"
    assert (await socket.receive_json_from(timeout=2))["id"] == event["id"]  # from the stored events
    await _group_send(conversation, event)  # ... and its late push
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


# --------------------------------------------------------------------------- the page and its stream agree


@pytest.mark.django_db
def test_a_receipt_landing_while_the_page_renders_is_shown_or_replayed(world, start, monkeypatch):
    """The page's ``data-ps-after`` is read before its messages and receipts: whatever happens while it
    renders is either already on the page or after that position, so its script replays it."""
    import re

    from portal_social.messaging import views

    conversation = start()
    real_rows = views._message_rows

    def rows_then_the_patient_reads(request, convo, *args, **kwargs):
        rows = real_rows(request, convo, *args, **kwargs)
        actions.mark_read(user=world.patient, conversation=Conversation.objects.get(pk=convo.pk))
        return rows

    reply = actions.send_message(sender=world.nurse, conversation=conversation, body="Please call us today.")
    monkeypatch.setattr(views, "_message_rows", rows_then_the_patient_reads)
    client = Client()
    sign_in(client, world.nurse)
    html = client.get(f"/messages/c/{conversation.pk}/").content.decode()

    after = int(re.search(r'data-ps-after="(\d+)"', html).group(1))
    read_event = RealtimeEvent.objects.filter(payload__kind="read", payload__seq=reply.seq).get()
    shown = ">Read by the patient</p>" in html
    assert shown or read_event.event_id > after, "the patient's reading is neither on the page nor replayed to it"
