"""A channel-layer outage (a Redis restart) delays live updates but loses none, and closes no socket.

The layer here is in memory and fails on demand (``tests/core/realtime_outage_layer.py``): while it is
down every read, group add and push fails, and when it comes back it has forgotten every group. Each
socket must stay open, receive what was committed meanwhile from the kept events, join its groups again
once the layer answers, and then hear pushes again, each event exactly once. What the layer would have
carried meanwhile beyond events ("access changed", "session ended") is asked again when it is back. Any
other failure of the layer still ends the socket: only a connection failure is waited out.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from portal_social.core import realtime, realtime_outage
from tests.messaging.test_realtime import STREAM, _connect, _end_link, _follow, _send, committed

LAYER = "tests.core.realtime_outage_layer.OutageLayer"


@pytest.fixture
def outage_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": LAYER}}
    # pytest-django restores the setting afterwards, and channels then drops this layer


async def _message_event(socket, timeout=3.0) -> dict:
    while True:
        event = await socket.receive_json_from(timeout=timeout)
        if event.get("kind") == "message":
            return event


async def _following(start, user):
    """A new conversation, a socket of ``user`` following it, and the layer that fails on demand."""
    conversation = await database_sync_to_async(start)()
    socket = await _connect(user)
    await _follow(socket, conversation)
    return conversation, socket, get_channel_layer()


async def _rejoined(layer, conversation) -> bool:
    """Whether a socket is back in the conversation's group (within a couple of seconds)."""
    group = realtime.stream_group_name(STREAM, str(conversation.pk))
    for _n in range(40):
        if layer.groups.get(group):
            return True
        await asyncio.sleep(realtime_outage.POLL_SECONDS / 2)
    return False


@committed
async def test_a_message_sent_while_the_layer_is_down_arrives_and_the_socket_stays_open(world, start, outage_layer):
    conversation, patient, layer = await _following(start, world.patient)

    layer.go_down()
    during = await _send(world.nurse, conversation, "Sent while Redis restarts")
    event = await _message_event(patient)
    assert event["message"] == str(during.pk)
    await patient.send_json_to({"type": "ping"})
    assert await patient.receive_json_from(timeout=2) == {"type": "pong"}  # the socket stayed open

    layer.come_back()
    assert await _rejoined(layer, conversation), "the socket did not join its groups again"
    after = await _send(world.nurse, conversation, "Sent once Redis is back")
    event = await _message_event(patient)
    assert event["message"] == str(after.pk)
    assert await patient.receive_nothing(timeout=0.5)  # each event once
    await patient.disconnect()


@committed
async def test_events_kept_during_the_outage_arrive_in_order_once_each(world, start, outage_layer):
    conversation, nurse, layer = await _following(start, world.nurse)

    layer.go_down()
    sent = [await _send(world.patient, conversation, f"Message {n}") for n in range(3)]
    layer.come_back()
    got = [await _message_event(nurse) for _n in range(3)]
    assert [event["message"] for event in got] == [str(message.pk) for message in sent]
    ids = [event["id"] for event in got]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert await nurse.receive_nothing(timeout=0.6)  # no repeat from the read after the join
    await nurse.disconnect()


@committed
async def test_every_socket_of_the_process_rejoins_not_only_the_one_whose_read_failed(world, start, outage_layer):
    """A restarted Redis has forgotten every group: a socket whose own read never failed must join again
    too, or it would hear nothing more until it reconnects."""
    first = await database_sync_to_async(start)(subject="First")
    second = await database_sync_to_async(start)(subject="Second")
    patient = await _connect(world.patient)
    nurse = await _connect(world.nurse)
    await _follow(patient, first)
    await _follow(nurse, second)
    layer = get_channel_layer()

    layer.go_down()
    layer.come_back()
    assert await _rejoined(layer, first) and await _rejoined(layer, second)
    to_patient = await _send(world.nurse, first, "For the patient")
    to_nurse = await _send(world.patient, second, "For the nurse")
    assert (await _message_event(patient))["message"] == str(to_patient.pk)
    assert (await _message_event(nurse))["message"] == str(to_nurse.pk)
    await patient.disconnect()
    await nurse.disconnect()


@committed
async def test_one_probe_joins_the_groups_of_every_waiting_socket_of_the_process(
    world, start, outage_layer, monkeypatch
):
    """Sockets joining one by one kept a process of 100 sockets out of its groups for a quarter of a second
    after a restart, and a message sent meanwhile waited for it: the first probe that succeeds joins them all."""
    joins = []
    join_groups = realtime_outage.join_groups

    async def counted(layer, pairs):
        await join_groups(layer, pairs)
        joins.append(sorted({channel for _group, channel in pairs}))

    monkeypatch.setattr(realtime_outage, "join_groups", counted)
    conversations = [await database_sync_to_async(start)(subject=f"Question {n}") for n in range(3)]
    sockets = [await _connect(world.patient) for _conversation in conversations]
    for socket, conversation in zip(sockets, conversations, strict=True):
        await _follow(socket, conversation)
    layer = get_channel_layer()

    layer.go_down()
    await asyncio.sleep(realtime_outage.POLL_SECONDS)  # every socket has met the outage
    layer.come_back()
    assert all([await _rejoined(layer, conversation) for conversation in conversations])
    assert len(joins) == 1 and len(joins[0]) == 3, joins
    for socket, conversation in zip(sockets, conversations, strict=True):
        sent = await _send(world.nurse, conversation, "Pushed to the right socket")
        assert (await _message_event(socket))["message"] == str(sent.pk)
        await socket.disconnect()


@committed
async def test_a_push_failing_on_a_connection_from_before_the_restart_is_sent_once_more(
    world, start, outage_layer, caplog
):
    """After a restart each pooled connection fails once when next used: a push meeting one is sent again at
    once, not left until the next event or reconnect."""
    conversation, patient, layer = await _following(start, world.patient)
    layer.fail_pushes(1)
    with caplog.at_level("WARNING", logger="portal_social.core.realtime"):
        sent = await _send(world.nurse, conversation, "Pushed at the second try")
        event = await _message_event(patient, timeout=realtime_outage.POLL_SECONDS)  # no outage: pushed
    assert event["message"] == str(sent.pk)
    assert "not delivered" not in caplog.text
    await patient.disconnect()


@committed
async def test_a_push_the_layer_lost_while_up_arrives_at_the_next_sweep(world, start, outage_layer, monkeypatch):
    """No read fails when only a push is lost (it failed twice, or the process's list was over capacity): the
    socket finds the message when it next compares what it sent with what was kept."""
    monkeypatch.setattr(realtime_outage, "SWEEP_SECONDS", 0.3)  # 15 s in production
    conversation, patient, layer = await _following(start, world.patient)
    layer.fail_pushes(2)  # the push and its second try
    sent = await _send(world.nurse, conversation, "Kept, never pushed")
    event = await _message_event(patient, timeout=2)
    assert event["message"] == str(sent.pk)
    assert await patient.receive_nothing(timeout=0.8)  # later sweeps find nothing more to send
    await patient.disconnect()


@committed
async def test_a_push_that_arrives_while_a_sweep_sends_what_was_missed_is_handed_on_too(
    world, start, outage_layer, monkeypatch
):
    monkeypatch.setattr(realtime_outage, "SWEEP_SECONDS", 0.3)
    conversation, patient, layer = await _following(start, world.patient)
    layer.fail_pushes(2)
    missed = await _send(world.nurse, conversation, "Kept, never pushed")
    kept_after = realtime_outage.kept_after
    pushed = []

    async def pushed_meanwhile(wanted):
        found = await kept_after(wanted)
        if found and not pushed:
            monkeypatch.setattr(realtime_outage, "SWEEP_SECONDS", 60)  # no later sweep to make up for a loss
            pushed.append(await _send(world.nurse, conversation, "Pushed while the sweep reads"))
            await asyncio.sleep(0.05)  # the layer's read receives it
        return found

    monkeypatch.setattr(realtime_outage, "kept_after", pushed_meanwhile)
    assert (await _message_event(patient, timeout=2))["message"] == str(missed.pk)
    assert (await _message_event(patient, timeout=1))["message"] == str(pushed[0].pk)
    assert await patient.receive_nothing(timeout=0.3)
    await patient.disconnect()


@committed
async def test_sweeps_that_find_nothing_send_nothing_and_leave_the_read_of_the_layer_alone(
    world, start, outage_layer, monkeypatch
):
    monkeypatch.setattr(realtime_outage, "SWEEP_SECONDS", 0.1)
    layer = get_channel_layer()
    reads = []
    receive = layer.receive

    async def counted_read(channel):
        reads.append(channel)
        return await receive(channel)

    monkeypatch.setattr(layer, "receive", counted_read)
    conversation, patient, _layer = await _following(start, world.patient)
    assert await patient.receive_nothing(timeout=0.6)  # several sweeps, nothing missed
    assert len(reads) == 1, reads  # one read of the layer, waited for across the sweeps
    pushed = []
    group_send = layer.group_send

    async def counted(group, message):
        pushed.append(message)
        await group_send(group, message)

    monkeypatch.setattr(layer, "group_send", counted)
    sent = await _send(world.nurse, conversation, "Pushed to the read that was left waiting")
    assert (await _message_event(patient))["message"] == str(sent.pk)
    assert pushed, "the message was not pushed"
    assert await patient.receive_nothing(timeout=0.5)
    await patient.disconnect()


@committed
async def test_a_caregiver_link_ended_during_the_outage_closes_the_socket_once_the_layer_is_back(
    world, start, outage_layer, monkeypatch
):
    monkeypatch.setattr(realtime_outage, "RECHECK_SPREAD_SECONDS", 0.3)  # 30 s in production
    conversation, caregiver, layer = await _following(start, world.caregiver)

    layer.go_down()
    await _end_link(world.patient, world.caregiver)  # its "access changed" push is lost with the layer
    layer.come_back()
    output = await caregiver.receive_output(timeout=3)
    while output.get("type") == "websocket.send":
        output = await caregiver.receive_output(timeout=3)
    assert output == {"type": "websocket.close", "code": realtime.CLOSE_ACCESS_ENDED}


@committed
async def test_a_socket_opened_while_the_layer_is_down_is_served_and_joins_later(world, start, outage_layer):
    conversation = await database_sync_to_async(start)()
    layer = get_channel_layer()
    layer.go_down()
    patient = await _connect(world.patient)  # connects and subscribes although no group can be joined
    await _follow(patient, conversation)
    during = await _send(world.nurse, conversation, "While the layer is away")
    assert (await _message_event(patient))["message"] == str(during.pk)
    layer.come_back()
    assert await _rejoined(layer, conversation)
    after = await _send(world.nurse, conversation, "Pushed again")
    assert (await _message_event(patient))["message"] == str(after.pk)
    assert await patient.receive_nothing(timeout=0.5)
    await patient.disconnect()


@committed
async def test_a_layer_failure_that_is_not_a_lost_connection_still_ends_the_socket(world, start, outage_layer):
    """Only a connection failure is waited out; anything else (a layer used from two event loops, a bug)
    ends the socket as before, so no socket retries a fault forever."""
    conversation, patient, layer = await _following(start, world.patient)
    layer.fail_with(RuntimeError("Two event loops are trying to receive() on one channel layer at once!"))
    with pytest.raises(RuntimeError):
        await patient.receive_output(timeout=3)


needs_redis = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set")


@needs_redis
def test_joining_many_groups_at_once_on_redis_is_what_group_add_does():
    """After an outage a process drops its idle connections and joins the groups of all its sockets in one
    round trip: each channel must then hear its groups' pushes, and each group key expire as channels-redis's
    own ``group_add`` sets it."""
    layer = get_channel_layer()
    assert type(layer).__name__ == "RedisChannelLayer"

    async def scenario():
        channels = [await layer.new_channel() for _n in range(3)]
        token = uuid.uuid4().hex
        groups = [f"portal_social.test.{token}.{n}" for n in range(2)]
        pairs = [(group, channel) for channel in channels for group in groups]
        await realtime_outage.drop_idle_connections(layer)  # as at a return: new connections are opened
        await realtime_outage.join_groups(layer, pairs)
        for n, group in enumerate(groups):
            await layer.group_send(group, {"type": "portal.event", "event": {"n": n}})
        heard = [[(await layer.receive(channel))["event"]["n"] for _n in groups] for channel in channels]
        connection = layer.connection(layer.consistent_hash(groups[0]))
        ttl = await connection.ttl(layer._group_key(groups[0]))
        for group, channel in pairs:
            await layer.group_discard(group, channel)
        return heard, ttl

    heard, ttl = async_to_sync(scenario)()
    assert heard == [[0, 1]] * 3
    assert 0 < ttl <= layer.group_expiry
