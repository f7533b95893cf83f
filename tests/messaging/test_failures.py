"""When the database or Redis fails mid-send, the sender gets "please try again" with their words kept,
and nothing is half-saved; a failed live push never loses a message."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from redis.exceptions import ConnectionError as RedisConnectionError

from portal_social.core import ratelimit, realtime
from portal_social.messaging.models import Message
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

WORDS = "My ankle is still swollen after three days"


@pytest.fixture
def page(world, start):
    conversation = start()
    client = Client(raise_request_exception=False)
    sign_in(client, world.patient)
    return client, reverse("portal_social_messaging:conversation", args=[conversation.pk]), conversation


def _post(client, url):
    return client.post(url, {"body": WORDS, "submission": "7d6c3f0e-3c1b-4a52-9a83-7d0b4b1f5e21"})


def test_redis_down_while_sending_answers_try_again_with_the_words_kept(page, monkeypatch):
    client, url, conversation = page

    def down(*args, **kwargs):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(ratelimit, "_incr_all", down)
    response = _post(client, url)
    assert response.status_code == 503
    assert WORDS in response.content.decode()
    assert response["Retry-After"]
    assert conversation.messages.count() == 1  # nothing half-saved


def test_the_database_failing_mid_send_saves_nothing_and_keeps_the_words(page, monkeypatch):
    client, url, conversation = page
    real_create = Message.objects.create

    def broken(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(Message.objects, "create", broken)
    response = _post(client, url)
    assert response.status_code == 503 and WORDS in response.content.decode()
    monkeypatch.setattr(Message.objects, "create", real_create)
    conversation.refresh_from_db()
    assert conversation.messages.count() == 1 and conversation.last_seq == 1


def test_the_channel_layer_failing_after_commit_loses_nothing(page, monkeypatch, django_capture_on_commit_callbacks):
    client, url, conversation = page

    class Broken:
        async def group_send(self, group, message):
            raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(realtime, "get_channel_layer", lambda: Broken())
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, url)
    assert response.status_code == 302
    assert conversation.messages.filter(seq=2).exists()
    # A page that reconnects catches up from the kept events.
    missed, last_id, gap = realtime._missed_events("messaging.conversation", str(conversation.pk), 0)
    assert any(event.get("kind") == "message" for event in missed) and not gap
