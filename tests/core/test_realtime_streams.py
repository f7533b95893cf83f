"""Live-update streams: follow only what the access policy allows, ids in commit
order, resume after a reconnect, and frame size and rate limits."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.db import transaction

from portal_social.core import access, realtime, roles
from portal_social.routing import websocket_urlpatterns

PATH = "/ws/portal-social/"
committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)

User = get_user_model()


@access.rule(User, "test_follow")
def _only_oneself(user, other):
    return user.pk == other.pk


realtime.register_stream("test.person", User, action="test_follow", lookup="username")
# A single stream for holders of a role permission (patients review clinicians; nobody else does).
realtime.register_stream("test.queue", permission="portal_social.review_clinician")


def _socket(user):
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), PATH)
    communicator.scope["user"] = user
    communicator.scope["session"] = {}
    return communicator


@database_sync_to_async
def _publish(name, target, event, *, fail=False):
    try:
        with transaction.atomic():
            event_id = realtime.publish_to_stream(name, target, event)
            if fail:
                raise RuntimeError("the action failed")
    except RuntimeError:
        return None
    return event_id


async def _subscribe(socket, stream, target="", after=0):
    await socket.send_json_to({"type": "subscribe", "stream": stream, "target": target, "after": after})
    return await socket.receive_json_from()


@committed
async def test_a_user_follows_what_the_policy_allows_and_gets_events_after_commit_only(make_user):
    patient = await database_sync_to_async(make_user)(roles.PATIENT)
    socket = _socket(patient)
    assert (await socket.connect())[0]

    reply = await _subscribe(socket, "test.person", patient.username)
    assert reply == {
        "type": "subscribed",
        "stream": "test.person",
        "target": patient.username,
        "last_id": 0,
        "reload": False,
    }

    assert await _publish("test.person", patient, {"kind": "changed"}, fail=True) is None
    assert await socket.receive_nothing(timeout=0.2)
    assert await _publish("test.person", patient, {"kind": "changed"}) == 1
    assert await socket.receive_json_from() == {
        "kind": "changed",
        "stream": "test.person",
        "target": patient.username,
        "id": 1,
    }
    await socket.disconnect()


@committed
async def test_another_persons_stream_an_unknown_one_and_junk_are_refused_alike(make_user):
    patient = await database_sync_to_async(make_user)(roles.PATIENT)
    other = await database_sync_to_async(make_user)(roles.PATIENT)
    socket = _socket(patient)
    await socket.connect()

    answers = [
        await _subscribe(socket, "test.person", other.username),
        await _subscribe(socket, "test.person", "nobody-has-this-name"),
        await _subscribe(socket, "test.person", ["not", "a", "string"]),
        await _subscribe(socket, "no.such.stream", other.username),
    ]
    no_role = await database_sync_to_async(make_user)(None)
    outsider = _socket(no_role)
    await outsider.connect()
    answers.append(await _subscribe(outsider, "test.queue"))  # holds no role, so no permission
    await outsider.disconnect()
    assert {a["type"] for a in answers} == {"error"} and {a["error"] for a in answers} == {"not_found"}
    # Events of a stream the socket could not follow never reach it.
    await _publish("test.person", other, {"kind": "changed"})
    assert await socket.receive_nothing(timeout=0.2)
    await socket.disconnect()


@committed
async def test_a_reconnecting_client_receives_what_it_missed_in_order(make_user):
    patient = await database_sync_to_async(make_user)(roles.PATIENT)
    for n in range(3):
        await _publish("test.person", patient, {"kind": "changed", "n": n})

    socket = _socket(patient)
    await socket.connect()
    reply = await _subscribe(socket, "test.person", patient.username, after=1)
    assert (reply["last_id"], reply["reload"]) == (3, False)
    missed = [await socket.receive_json_from(), await socket.receive_json_from()]
    assert [(e["id"], e["n"]) for e in missed] == [(2, 1), (3, 2)]
    assert await socket.receive_nothing(timeout=0.1)
    await socket.disconnect()


@committed
async def test_a_client_that_missed_more_than_is_kept_is_told_to_reload(make_user, monkeypatch):
    monkeypatch.setattr(realtime, "KEEP_EVENTS", 5)
    patient = await database_sync_to_async(make_user)(roles.PATIENT)
    for n in range(50):
        await _publish("test.person", patient, {"kind": "changed"})

    socket = _socket(patient)
    await socket.connect()
    reply = await _subscribe(socket, "test.person", patient.username, after=2)
    assert (reply["last_id"], reply["reload"]) == (50, True)
    await socket.disconnect()


@committed
async def test_unsubscribing_stops_the_events(make_user):
    patient = await database_sync_to_async(make_user)(roles.PATIENT)
    socket = _socket(patient)
    await socket.connect()
    assert (await _subscribe(socket, "test.queue"))["type"] == "subscribed"
    await _publish("test.queue", None, {"kind": "queued"})
    assert (await socket.receive_json_from())["kind"] == "queued"

    await socket.send_json_to({"type": "unsubscribe", "stream": "test.queue", "target": ""})
    assert (await socket.receive_json_from())["type"] == "unsubscribed"
    await _publish("test.queue", None, {"kind": "queued"})
    assert await socket.receive_nothing(timeout=0.2)
    await socket.disconnect()


@committed
async def test_an_oversized_frame_closes_the_socket(make_user):
    patient = await database_sync_to_async(make_user)(roles.PATIENT)
    socket = _socket(patient)
    await socket.connect()
    await socket.send_to(text_data='{"type": "ping", "pad": "' + "x" * realtime.MAX_FRAME_CHARS + '"}')
    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": realtime.CLOSE_FRAME_TOO_BIG}
    # A server may close only with 1000 or an application's code (3000-4999): daphne turns 1009 into 1011.
    assert 4000 <= realtime.CLOSE_FRAME_TOO_BIG <= 4999


@committed
@pytest.mark.parametrize("frame", ["{bad", "[" * 1500 + "]" * 1500, " ", "\ud800", '{"type": "ping"'])
async def test_a_frame_that_is_not_json_is_answered_and_the_socket_stays_open(make_user, frame, caplog):
    patient = await database_sync_to_async(make_user)(roles.PATIENT)
    socket = _socket(patient)
    await socket.connect()
    await socket.send_to(text_data=frame)
    assert await socket.receive_json_from(timeout=2) == {"type": "error", "error": "bad_json"}
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=2) == {"type": "pong"}
    await socket.disconnect()
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


@committed
async def test_a_flood_of_frames_is_refused_then_closed(make_user):
    patient = await database_sync_to_async(make_user)(roles.PATIENT)
    socket = _socket(patient)
    await socket.connect()
    allowed, _window = realtime.FRAME_RATE
    answers = []
    for _frame in range(2 * allowed + 1):
        await socket.send_json_to({"type": "ping"})
        output = await socket.receive_output(timeout=2)
        answers.append(output)
        if output["type"] == "websocket.close":
            break
    texts = [a.get("text", "") for a in answers]
    assert sum('"pong"' in t for t in texts) == allowed
    assert any('"rate_limited"' in t for t in texts)
    assert answers[-1] == {"type": "websocket.close", "code": realtime.CLOSE_TOO_MANY_FRAMES}


def test_a_stream_follows_a_model_or_a_permission_never_both_or_neither():
    with pytest.raises(ValueError):
        realtime.register_stream("test.bad")
    with pytest.raises(ValueError):
        realtime.register_stream("test.bad", User, permission="portal_social.moderate_reviews")
    with pytest.raises(ValueError):
        realtime.register_stream("test.person", User, action="view")  # the name is taken


def test_stream_names_in_the_channel_layer_reveal_no_ids():
    group = realtime.stream_group_name("test.person", "patient1")
    assert "patient1" not in group and "test.person" not in group
    assert len(group) < 100
