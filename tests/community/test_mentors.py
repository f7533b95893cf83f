"""Mentors welcome new members (and cannot moderate); moderators make mentors and decide requests to
join private communities. Who sees what, the audit trail, notifications and repeated submits."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch
from django.utils import timezone

from portal_social.community import actions
from portal_social.community.models import CommunityProfile, Membership, Penalty
from portal_social.core import roles
from portal_social.core.models import AuditEvent
from portal_social.core.notify.models import Notification
from tests.community._people import *  # noqa: F403
from tests.community._people import client_for, published_thread, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def newcomers(make_user, community):
    """Two members who joined this week, one who joined long ago, one welcomed already."""
    people = {}
    for name, joined, welcomed in (
        ("new-a", 2, False),
        ("new-b", 5, False),
        ("old-c", 45, False),
        ("done-d", 3, True),
    ):
        user = make_user(roles.PATIENT)
        CommunityProfile.objects.create(user=user, handle=name)
        Membership.objects.create(
            community=community,
            user=user,
            joined_at=timezone.now() - datetime.timedelta(days=joined),
            welcomed_at=timezone.now() if welcomed else None,
        )
        people[name] = user
    return people


#: Who may open a community's "new members" page: its mentors and moderators; others 404.
WELCOME_PAGE = {
    "anonymous": 302,
    "member": 404,
    "non_member": 404,
    "clinician": 404,
    "superuser": 404,
    "mentor": 200,
    "moderator": 200,
}


@pytest.mark.parametrize(("who", "status"), WELCOME_PAGE.items())
def test_the_new_members_page_is_for_mentors_and_moderators(cast, community, newcomers, who, status):
    response = client_for(cast[who]).get(url("welcome", community.slug))
    assert response.status_code == status
    if status == 200:
        page = response.content.decode()
        assert "new-a" in page and "new-b" in page
        assert "old-c" not in page and "done-d" not in page and "mentor-x" not in page


def test_a_mentor_of_another_community_is_not_a_mentor_here(cast, community, make_user):
    from portal_social.community.models import Community

    other = Community.objects.create(name="Diabetes", slug="diabetes", visibility="members")
    assert client_for(cast["mentor"]).get(url("welcome", other.slug)).status_code == 404


def test_welcoming_records_it_tells_the_member_and_happens_once(cast, community, newcomers):
    client = client_for(cast["mentor"])
    membership = Membership.objects.get(user=newcomers["new-a"])
    response = client.post(url("welcome", community.slug), {"membership": str(membership.pk)})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.welcomed_by_id == cast["mentor"].pk and membership.welcomed_at is not None
    note = Notification.objects.get(recipient=newcomers["new-a"])
    assert note.key == "community.welcome" and note.params == {}
    event = AuditEvent.objects.get(action="community.welcome")
    assert event.actor_id == cast["mentor"].pk and event.details == {"member": str(newcomers["new-a"].pk)}
    again = client.post(url("welcome", community.slug), {"membership": str(membership.pk)}, follow=True)
    assert "welcomed already" in again.content.decode()
    assert AuditEvent.objects.filter(action="community.welcome").count() == 1
    assert "new-a" not in client.get(url("welcome", community.slug)).content.decode()
    # An old member, a mentor, someone else's membership, junk: refused, nothing recorded.
    for junk in (
        Membership.objects.get(user=newcomers["old-c"]).pk,
        Membership.objects.get(user=cast["mentor"]).pk,
        "abc",
        "",
        "١",
        "9" * 40,
    ):
        assert client.post(url("welcome", community.slug), {"membership": str(junk)}).status_code == 302
    assert AuditEvent.objects.filter(action="community.welcome").count() == 1


def test_members_cannot_welcome(cast, community, newcomers):
    membership = Membership.objects.get(user=newcomers["new-b"])
    for who in ("member", "superuser"):
        with pytest.raises(actions.CommunityDenied):
            actions.welcome(mentor=cast[who], membership=membership)
        assert (
            client_for(cast[who]).post(url("welcome", community.slug), {"membership": membership.pk}).status_code == 404
        )
    assert Membership.objects.get(pk=membership.pk).welcomed_at is None


def test_the_new_members_page_makes_the_same_queries_for_2_and_30_newcomers(cast, community, newcomers, make_user):
    client = client_for(cast["mentor"])
    client.get(url("welcome", community.slug))
    with CaptureQueriesContext(connection) as few:
        client.get(url("welcome", community.slug))
    for n in range(28):
        user = make_user(roles.PATIENT)
        CommunityProfile.objects.create(user=user, handle=f"fresh-{n}")
        Membership.objects.create(community=community, user=user)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url("welcome", community.slug)).content.decode()
    assert "fresh-27" in page
    assert len(many) == len(few)


# --------------------------------------------------------------------------- mentors cannot moderate


def test_a_mentor_cannot_silence_suspend_or_see_the_member_page(cast):
    mentor = cast["mentor"]
    with pytest.raises(actions.CommunityDenied):
        actions.penalize(moderator=mentor, member=cast["member"], kind="silence", reason="Be kind.")
    client = client_for(mentor)
    assert client.get(url("member", "member-x")).status_code == 404
    posted = client.post(url("member", "member-x"), {"do": "penalty", "kind": "silence", "reason": "Be kind."})
    assert posted.status_code == 404
    assert not Penalty.objects.exists()


def test_a_mentor_has_no_queue_requests_or_pin(cast, community, private):
    mentor = cast["mentor"]
    thread = published_thread(cast["member"], community)
    client = client_for(mentor)
    assert client.get(url("requests", community.slug)).status_code == 404
    queue = client.get("/cms/portal-social/moderation/")
    assert queue.status_code in (302, 403, 404)
    try:
        pin = url("pin", community.slug, thread.pk)
    except NoReverseMatch:  # pragma: no cover - pinning is another page's
        pin = None
    if pin:
        client.post(pin, {"on": "on"})
        thread.refresh_from_db()
        assert not thread.pinned


def test_a_moderator_makes_a_member_a_mentor_and_back(cast, community):
    client = client_for(cast["moderator"])
    membership = Membership.objects.get(user=cast["member"])
    response = client.post(url("member", "member-x"), {"do": "mentor", "membership": membership.pk, "role": "mentor"})
    assert response.status_code == 302
    assert Membership.objects.get(pk=membership.pk).role == "mentor"
    assert client_for(cast["member"]).get(url("welcome", community.slug)).status_code == 200
    client.post(url("member", "member-x"), {"do": "mentor", "membership": membership.pk, "role": "mentor"})  # again
    client.post(url("member", "member-x"), {"do": "mentor", "membership": membership.pk, "role": "member"})
    assert Membership.objects.get(pk=membership.pk).role == "member"
    events = AuditEvent.objects.filter(action="community.role").order_by("sequence")
    assert [(e.details["from"], e.details["to"]) for e in events] == [("member", "mentor"), ("mentor", "member")]
    # Another member's membership cannot be changed from this member's page.
    other = Membership.objects.get(user=cast["mentor"])
    page = client.post(url("member", "member-x"), {"do": "mentor", "membership": other.pk, "role": "member"})
    assert page.status_code == 200 and Membership.objects.get(pk=other.pk).role == "mentor"
    with pytest.raises(actions.CommunityDenied):
        actions.set_mentor(moderator=cast["mentor"], membership=membership, mentor=True)


# --------------------------------------------------------------------------- join requests


@pytest.fixture
def asking(cast, private):
    """The non-member asked to join the private community."""
    membership = actions.join(user=cast["non_member"], community=private)
    assert membership.status == "requested"
    return membership


#: Who may open a private community's requests: moderators; everyone else 404 (or sign in).
REQUESTS_PAGE = {
    "anonymous": 302,
    "member": 404,
    "non_member": 404,
    "clinician": 404,
    "superuser": 404,
    "mentor": 404,
    "moderator": 200,
}


@pytest.mark.parametrize(("who", "status"), REQUESTS_PAGE.items())
def test_the_requests_page_is_for_moderators(cast, private, asking, who, status):
    Membership.objects.create(community=private, user=cast["member"])
    Membership.objects.create(community=private, user=cast["mentor"], role="mentor")
    client = client_for(cast[who])
    response = client.get(url("requests", private.slug))
    assert response.status_code == status
    if status == 200:
        assert "non-member-x" in response.content.decode()
    decided = client.post(url("requests", private.slug), {"membership": asking.pk, "decision": "approve"})
    assert decided.status_code == (302 if status in (200, 302) else 404)
    assert Membership.objects.get(pk=asking.pk).status == ("active" if status == 200 else "requested")


def test_a_members_only_community_has_no_requests_page(cast, community):
    assert client_for(cast["moderator"]).get(url("requests", community.slug)).status_code == 404


def test_approving_lets_the_member_in_and_tells_them(cast, private, asking):
    client = client_for(cast["moderator"])
    assert client_for(cast["non_member"]).get(url("community", private.slug)).status_code == 404
    client.post(url("requests", private.slug), {"membership": asking.pk, "decision": "approve"})
    assert Membership.objects.get(pk=asking.pk).status == "active"
    assert client_for(cast["non_member"]).get(url("community", private.slug)).status_code == 200
    assert Notification.objects.get(recipient=cast["non_member"]).key == "community.join_approved"
    event = AuditEvent.objects.get(action="community.join_decision")
    assert event.details == {"member": str(cast["non_member"].pk), "decision": "approved"}
    again = client.post(url("requests", private.slug), {"membership": asking.pk, "decision": "decline"}, follow=True)
    assert "decided already" in again.content.decode()
    assert Membership.objects.get(pk=asking.pk).status == "active"
    assert AuditEvent.objects.filter(action="community.join_decision").count() == 1


def test_declining_tells_them_and_they_may_ask_again(cast, private, asking):
    client_for(cast["moderator"]).post(url("requests", private.slug), {"membership": asking.pk, "decision": "decline"})
    assert Membership.objects.get(pk=asking.pk).status == "left"
    note = Notification.objects.get(recipient=cast["non_member"])
    assert note.key == "community.join_declined" and note.params == {}
    assert AuditEvent.objects.get(action="community.join_decision").details["decision"] == "declined"
    assert actions.join(user=cast["non_member"], community=private).status == "requested"


def test_junk_decisions_change_nothing(cast, private, asking):
    client = client_for(cast["moderator"])
    for data in (
        {"membership": asking.pk, "decision": "maybe"},
        {"membership": asking.pk},
        {"membership": "x" * 5000, "decision": "approve"},
        {"membership": "-1", "decision": "approve"},
        {},
    ):
        assert client.post(url("requests", private.slug), data).status_code == 302
    assert Membership.objects.get(pk=asking.pk).status == "requested"
    assert not AuditEvent.objects.filter(action="community.join_decision").exists()


def test_the_requests_page_makes_the_same_queries_for_1_and_20_requests(cast, private, asking, make_user):
    client = client_for(cast["moderator"])
    client.get(url("requests", private.slug))
    with CaptureQueriesContext(connection) as few:
        client.get(url("requests", private.slug))
    for n in range(19):
        user = make_user(roles.PATIENT)
        CommunityProfile.objects.create(user=user, handle=f"asker-{n}")
        actions.join(user=user, community=private)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url("requests", private.slug)).content.decode()
    assert "asker-18" in page and len(many) == len(few)
