"""What every community test may ask for."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

#: How long ago a long-standing member joined the portal: past the new-account hold on first posts.
ESTABLISHED = datetime.timedelta(days=90)


@pytest.fixture
def established(make_user):
    """``make_user`` for a person who joined the portal ``ESTABLISHED`` ago (their posts are not held as new)."""

    def make(role=None, **kwargs):
        return make_user(role, date_joined=timezone.now() - ESTABLISHED, **kwargs)

    return make


@pytest.fixture(autouse=True)
def _no_first_post_hold(settings):
    """A member's first posts are not held for a moderator: posts publish unless screening holds them.
    The tests of the hold itself set ``PORTAL_SOCIAL_COMMUNITY_HELD_FIRST_POSTS`` again."""
    settings.PORTAL_SOCIAL_COMMUNITY_HELD_FIRST_POSTS = 0


@pytest.fixture
def owned_space(established):
    """The clinician space "Cardiology case review" (``case-review``) with one owner (``.owner``)."""
    from portal_social.community.models import Community, Membership
    from portal_social.core import roles

    owner = established(roles.CLINICIAN, mfa=True)
    found = Community.objects.create(name="Cardiology case review", slug="case-review", kind="space")
    Membership.objects.create(community=found, user=owner, role=Membership.Role.OWNER)
    found.owner = owner
    return found
