"""Sending a reply through the form makes a fixed, small number of SQL queries, whatever the conversation's size."""

from __future__ import annotations

import uuid

import pytest

from portal_social.messaging import actions
from tests.factories import sign_in
from tests.messaging.test_views import _conversation_with, _repeated, page

pytestmark = pytest.mark.django_db

#: A reply through the form, to a conversation assigned to the nurse: the sign-in's own reads, the
#: conversation, the submission check, then one transaction (lock, message, counters, read state, both
#: live-update streams, the notification, the audit event).
REPLY_POST_QUERIES = {"patient": 24, "nurse": 26}


@pytest.mark.parametrize("sender", ["patient", "nurse"])
def test_a_reply_makes_the_same_few_queries_in_a_short_and_a_long_conversation(
    client, world, start, settings, django_assert_max_num_queries, sender
):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"message": "1000/10m"}
    conversations = {}
    for name, count in (("warm", 3), ("small", 3), ("large", 30)):
        conversations[name] = _conversation_with(world, start, count, subject=name)
        actions.assign_conversation(actor=world.nurse, conversation=conversations[name], assignee=world.nurse)
    sign_in(client, getattr(world, sender))

    def reply(conversation):
        response = client.post(page(conversation), {"body": "One more question.", "submission": str(uuid.uuid4())})
        assert response.status_code == 302
        return response

    reply(conversations["warm"])
    ceiling = REPLY_POST_QUERIES[sender]
    with django_assert_max_num_queries(ceiling) as few:
        reply(conversations["small"])
    with django_assert_max_num_queries(ceiling) as many:
        reply(conversations["large"])
    assert len(few) == len(many), _repeated(few, many)
    newest = conversations["large"].messages.order_by("-seq").first()
    assert newest.seq == 31 and newest.author == getattr(world, sender) and newest.body_source == "One more question."
