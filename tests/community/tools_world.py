"""Fixtures for the thread tools and following tests: one community of each visibility, a thread by
``author`` with a reply by ``member`` in each, and the people of the permission matrix."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from portal_social.community import actions
from portal_social.community.models import Community, CommunityProfile, Membership, Post
from portal_social.core import roles
from tests.factories import sign_in

ESTABLISHED = datetime.timedelta(days=90)
VISIBILITIES = ("public", "members", "private")
#: The permission matrix: signed out, a patient who is not a member, a member who did not start the
#: thread, the thread's author, a moderator (not a member), and a superuser without any role.
WHO = ("anonymous", "outsider", "member", "author", "moderator", "superuser")


@pytest.fixture
def people(established):
    found = {
        "anonymous": None,
        "outsider": established(roles.PATIENT),
        "member": established(roles.PATIENT),
        "author": established(roles.PATIENT),
        "moderator": established(roles.COMMUNITY_MODERATOR, mfa=True),
        "superuser": established(None, is_superuser=True, is_staff=True, mfa=True),
    }
    for index, (who, user) in enumerate(found.items()):
        if user is not None:
            CommunityProfile.objects.create(user=user, handle=f"{who}-{index}")
    return found


@pytest.fixture
def world(people):
    """Per visibility: the community, its thread (by ``author``) and ``member``'s published reply."""
    communities, threads, replies = {}, {}, {}
    for visibility in VISIBILITIES:
        community = Community.objects.create(
            name=f"{visibility} group", slug=f"{visibility}-group", visibility=visibility
        )
        for who in ("member", "author"):
            Membership.objects.create(community=community, user=people[who])
        opening = actions.start_thread(
            author=people["author"], community=community, title="Walking after surgery", body="How far do you walk?"
        )
        assert opening.status == Post.Status.PUBLISHED, opening.hold_reasons
        reply = actions.reply(author=people["member"], thread=opening.thread, body="Ten minutes, twice a day.")
        assert reply.status == Post.Status.PUBLISHED, reply.hold_reasons
        communities[visibility], threads[visibility], replies[visibility] = community, opening.thread, reply
    return {"people": people, "communities": communities, "threads": threads, "replies": replies}


def url(name, *args, **query) -> str:
    path = reverse(f"portal_social_community:{name}", args=args)
    return path + ("?" + urlencode(query) if query else "")


def thread_url(name, thread, *more) -> str:
    return url(name, thread.community.slug, thread.pk, *more)


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        sign_in(client, user)
    return client
