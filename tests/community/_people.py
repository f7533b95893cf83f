"""Fixtures the people tests share (trust, penalties, mentors): a cast of roles and a community of each kind.

Imported by ``test_trust``, ``test_penalties`` and ``test_mentors``:
``from tests.community._people import *``.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from portal_social.community import actions
from portal_social.community.models import Community, CommunityProfile, Membership, Post, Thread
from portal_social.core import roles
from tests.factories import sign_in

ESTABLISHED = datetime.timedelta(days=90)

__all__ = ["cast", "client_for", "community", "private", "published_thread", "url"]


def url(name, *args, **query):
    path = reverse(f"portal_social_community:{name}", args=args)
    return path + ("?" + urlencode(query) if query else "")


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        sign_in(client, user)
    return client


def published_thread(author, community, title="Sleep after surgery", body="What helped you sleep?") -> Thread:
    post = actions.start_thread(author=author, community=community, title=title, body=body)
    assert post.status == Post.Status.PUBLISHED, post.hold_reasons
    return post.thread


@pytest.fixture
def community():
    return Community.objects.create(name="Heart health", slug="heart-health", visibility="members")


@pytest.fixture
def private():
    return Community.objects.create(name="Transplant families", slug="transplant", visibility="private")


@pytest.fixture
def cast(established, community):
    """Who is who: a member, a mentor (of ``community``), a moderator, a non-member patient, a clinician
    member, a superuser without any role, and a signed-out visitor (None). Everyone but the visitor and
    the superuser has a community name."""
    people = {
        "anonymous": None,
        "member": established(roles.PATIENT),
        "mentor": established(roles.PATIENT),
        "non_member": established(roles.PATIENT),
        "clinician": established(roles.CLINICIAN, mfa=True),
        "moderator": established(roles.COMMUNITY_MODERATOR, mfa=True),
        "superuser": established(None, is_superuser=True, is_staff=True, mfa=True),
    }
    for who in ("member", "mentor", "non_member", "clinician", "moderator"):
        CommunityProfile.objects.create(user=people[who], handle=f"{who.replace('_', '-')}-x")
    Membership.objects.create(community=community, user=people["member"])
    Membership.objects.create(community=community, user=people["clinician"])
    Membership.objects.create(community=community, user=people["mentor"], role=Membership.Role.MENTOR)
    return people
