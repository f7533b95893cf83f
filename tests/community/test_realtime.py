"""Live updates of a thread: a published post is announced by id after commit only, to readers the
policy allows, and a reconnecting reader gets what it missed."""

from __future__ import annotations

import datetime
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.utils import timezone

from portal_social.community import actions
from portal_social.community.models import Community, Membership, Post
from portal_social.core import realtime, roles
from portal_social.routing import websocket_urlpatterns

PATH = "/ws/portal-social/"
STREAM = "community.thread"
committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def pushed(monkeypatch):
    """What reached the channel layer, by group."""
    sent = []
    monkeypatch.setattr(realtime, "publish", lambda group, message: sent.append((group, message)))
    return sent


def _setup(make_user, visibility="members"):
    community = Community.objects.create(name="Heart", slug="heart", visibility=visibility)
    people = []
    for _n in range(2):
        user = make_user(roles.PATIENT, date_joined=timezone.now() - datetime.timedelta(days=60))
        Membership.objects.create(community=community, user=user)
        people.append(user)
    author, reader = people
    opening = actions.start_thread(author=author, community=community, title="Hello", body="Hi all")
    assert opening.status == Post.Status.PUBLISHED
    return community, author, reader, opening.thread


def _to_thread(sent, thread):
    group = realtime.stream_group_name(STREAM, str(thread.pk))
    return [message["event"] for g, message in sent if g == group]


@pytest.mark.django_db
def test_a_published_reply_is_pushed_after_commit_only(make_user, pushed, django_capture_on_commit_callbacks):
    _community, author, _reader, thread = _setup(make_user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post = actions.reply(author=author, thread=thread, body="Walking helps me")
        assert _to_thread(pushed, thread) == []
    assert _to_thread(pushed, thread) == []  # still not committed
    for callback in callbacks:
        callback()
    [event] = _to_thread(pushed, thread)
    assert event == {"kind": "post", "post": str(post.pk), "stream": STREAM, "target": str(thread.pk), "id": 2}


@pytest.mark.django_db
def test_a_rolled_back_reply_is_never_pushed(make_user, pushed, django_capture_on_commit_callbacks):
    _community, author, _reader, thread = _setup(make_user)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        actions.reply(author=author, thread=thread, body="Walking helps me")
        raise RuntimeError("the request failed after the action")
    assert _to_thread(pushed, thread) == []
    assert not Post.objects.filter(is_opening=False).exists()
    assert realtime.last_event_ids([STREAM], str(thread.pk)) == {STREAM: 1}


@pytest.mark.django_db
def test_a_held_post_is_pushed_only_once_a_moderator_publishes_it(
    make_user, pushed, django_capture_on_commit_callbacks
):
    _community, author, _reader, thread = _setup(make_user)
    with django_capture_on_commit_callbacks(execute=True):
        held = actions.reply(author=author, thread=thread, body="Call me at 555-867-5309", confirm_phi=True)
        crisis = actions.reply(author=author, thread=thread, body="Some days I want to kill myself")
    assert held.status == crisis.status == Post.Status.HELD
    assert _to_thread(pushed, thread) == []
    moderator = make_user(roles.COMMUNITY_MODERATOR, mfa=True)
    with django_capture_on_commit_callbacks(execute=True):
        actions.redact_post(moderator=moderator, post=held)
    assert [e["post"] for e in _to_thread(pushed, thread)] == [str(held.pk)]
    for _group, message in pushed:
        assert "555-867-5309" not in str(message) and "kill myself" not in str(message)


# --------------------------------------------------------------------------- the socket


def _socket(user):
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), PATH)
    communicator.scope["user"] = user
    communicator.scope["session"] = {}
    return communicator


async def _subscribe(socket, target, after=0):
    await socket.send_json_to({"type": "subscribe", "stream": STREAM, "target": target, "after": after})
    return await socket.receive_json_from()


@database_sync_to_async
def _reply(author, thread, body):
    return actions.reply(author=author, thread=thread, body=body)


@committed
async def test_a_member_following_a_thread_receives_a_reply_once_it_commits(make_user):
    _community, author, reader, thread = await database_sync_to_async(_setup)(make_user, "private")
    socket = _socket(reader)
    assert (await socket.connect())[0]
    answer = await _subscribe(socket, str(thread.pk), after=1)
    assert answer == {"type": "subscribed", "stream": STREAM, "target": str(thread.pk), "last_id": 1, "reload": False}
    assert await socket.receive_nothing(timeout=0.1)

    post = await _reply(author, thread, "Walking helps me")
    event = await socket.receive_json_from(timeout=2)
    assert event == {"kind": "post", "post": str(post.pk), "stream": STREAM, "target": str(thread.pk), "id": 2}
    await socket.disconnect()


@committed
async def test_a_thread_the_user_may_not_see_answers_like_one_that_does_not_exist(make_user):
    _community, author, _reader, thread = await database_sync_to_async(_setup)(make_user, "private")
    outsider = await database_sync_to_async(make_user)(roles.PATIENT)
    socket = _socket(outsider)
    assert (await socket.connect())[0]
    hidden = await _subscribe(socket, str(thread.pk))
    missing = await _subscribe(socket, str(uuid.uuid4()))
    assert hidden["type"] == missing["type"] == "error"
    assert hidden["error"] == missing["error"] == "not_found"
    assert set(hidden) == set(missing)
    assert {k: v for k, v in hidden.items() if k != "target"} == {k: v for k, v in missing.items() if k != "target"}
    # Its events never reach the outsider.
    await _reply(author, thread, "Walking helps me")
    assert await socket.receive_nothing(timeout=0.2)
    await socket.disconnect()


@committed
async def test_a_reader_who_reconnects_gets_the_replies_it_missed_in_order(make_user):
    _community, author, reader, thread = await database_sync_to_async(_setup)(make_user)
    socket = _socket(reader)
    await socket.connect()
    assert (await _subscribe(socket, str(thread.pk), after=1))["last_id"] == 1
    await socket.disconnect()

    missed = [await _reply(author, thread, f"Reply {n}") for n in range(3)]
    socket = _socket(reader)
    await socket.connect()
    answer = await _subscribe(socket, str(thread.pk), after=2)
    assert (answer["type"], answer["last_id"], answer["reload"]) == ("subscribed", 4, False)
    events = [await socket.receive_json_from(timeout=2) for _n in range(2)]
    assert [(e["id"], e["post"]) for e in events] == [(3, str(missed[1].pk)), (4, str(missed[2].pk))]
    assert await socket.receive_nothing(timeout=0.1)
    await socket.disconnect()
