"""Clinician spaces by department group: people in a space's groups belong to it while they are in
the group and hold the clinician-space permission; what owners decided in person stays decided."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse

from portal_social.community.actions import space_groups
from portal_social.community.actions import spaces as space_actions
from portal_social.community.models import Community, Membership
from portal_social.core import realtime, roles
from portal_social.core.models import AuditEvent
from tests.factories import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def space(owned_space):
    return owned_space


@pytest.fixture
def cardiology():
    return Group.objects.create(name="Cardiology department")


def active(space, user) -> bool:
    return Membership.objects.filter(community=space, user=user, status="active").exists()


def test_joining_and_leaving_the_group_adds_and_removes_the_member(
    space, cardiology, established, django_capture_on_commit_callbacks, monkeypatch
):
    rechecked = []
    monkeypatch.setattr(realtime, "recheck_access_after_commit", lambda ids: rechecked.append(list(ids)))
    doctor = established(roles.CLINICIAN, mfa=True)
    call_command("portal_social_space_groups", "case-review", "--group", "Cardiology department", stdout=io.StringIO())
    assert not active(space, doctor)
    with django_capture_on_commit_callbacks(execute=True):
        doctor.groups.add(cardiology)
    membership = Membership.objects.get(community=space, user=doctor)
    assert (membership.status, membership.source, membership.role) == ("active", "group", "member")
    with django_capture_on_commit_callbacks(execute=True):
        cardiology.user_set.remove(doctor)
    assert not Membership.objects.filter(community=space, user=doctor).exists()
    assert rechecked == [[doctor.pk]]  # their open sockets on the space close
    events = AuditEvent.objects.filter(target_id=str(space.pk)).exclude(details__by__isnull=True)
    assert sorted((action, str(member)) for action, member in events.values_list("action", "details__member")) == [
        ("space.member_added", str(doctor.pk)),
        ("space.member_removed", str(doctor.pk)),
    ]
    assert AuditEvent.objects.filter(action="space.groups", target_id=str(space.pk)).count() == 1


def test_only_people_who_may_use_spaces_are_added(space, cardiology, established, django_capture_on_commit_callbacks):
    patient = established(roles.PATIENT)
    moderator = established(roles.COMMUNITY_MODERATOR, mfa=True)
    inactive = established(roles.CLINICIAN, mfa=True, is_active=False)
    nurse = established(roles.CARE_TEAM, mfa=True)
    for user in (patient, moderator, inactive, nurse):
        user.groups.add(cardiology)
    space_groups.set_groups(space=space, groups=[cardiology])
    assert [active(space, u) for u in (patient, moderator, inactive, nurse)] == [False, False, False, True]
    # Losing the clinician-space role ends a group membership too (roles are groups).
    with django_capture_on_commit_callbacks(execute=True):
        roles.revoke_role(user=nurse, role=roles.CARE_TEAM)
    assert not active(space, nurse)


def test_what_owners_decided_in_person_stays(space, cardiology, established, django_capture_on_commit_callbacks):
    invited, removed = established(roles.CLINICIAN, mfa=True), established(roles.CLINICIAN, mfa=True)
    space_actions.add_member(actor=space.owner, space=space, user=invited)
    for user in (invited, removed):
        user.groups.add(cardiology)
    space_groups.set_groups(space=space, groups=[cardiology])
    assert Membership.objects.get(community=space, user=invited).source == "personal"
    assert Membership.objects.get(community=space, user=removed).source == "group"
    space_actions.remove_member(actor=space.owner, space=space, user=removed)
    assert space_groups.sync() == (0, 0)  # the removed member is not added back by the group
    assert not active(space, removed)
    with django_capture_on_commit_callbacks(execute=True):
        invited.groups.remove(cardiology)
    assert active(space, invited)  # added in person: stays
    # The owner is never touched by groups.
    space_groups.set_groups(space=space, groups=[])
    assert active(space, space.owner) and active(space, invited)


def test_the_members_page_says_who_came_through_a_group(client, space, cardiology, established):
    doctor = established(roles.CLINICIAN, mfa=True)
    doctor.groups.add(cardiology)
    space_groups.set_groups(space=space, groups=[cardiology])
    sign_in(client, space.owner)
    html = client.get(reverse("portal_social_community:space_members", args=[space.slug])).content.decode()
    assert "Everyone in these department groups belongs to this space: Cardiology department." in html
    assert "through a department group" in html


def test_the_command_refuses_role_groups_unknown_groups_and_patient_communities(space, cardiology):
    Community.objects.create(name="Heart health", slug="heart-health")
    with pytest.raises(CommandError, match="portal role"):
        call_command("portal_social_space_groups", "case-review", "--group", roles.ROLES[roles.PATIENT].group_name)
    with pytest.raises(CommandError, match="No group"):
        call_command("portal_social_space_groups", "case-review", "--group", "Nope")
    with pytest.raises(CommandError, match="No clinician space"):
        call_command("portal_social_space_groups", "heart-health", "--group", "Cardiology department")
    out = io.StringIO()
    call_command("portal_social_space_groups", "--sync", stdout=out)
    assert out.getvalue().strip() == "added 0, removed 0"


def test_posts_and_reading_in_a_space_count_towards_nothing_a_patient_community_shows(space, established, settings):
    from portal_social.community import actions
    from portal_social.community.models import CommunityProfile, MemberBadge

    settings.PORTAL_SOCIAL_COMMUNITY_HELD_FIRST_POSTS = 0
    doctor = established(roles.CLINICIAN, mfa=True)
    Membership.objects.create(community=space, user=doctor)
    patients = Community.objects.create(name="Heart health", slug="heart-health", visibility="public")
    Membership.objects.create(community=patients, user=doctor)
    CommunityProfile.objects.create(user=doctor, handle="dr-h")
    for n in range(3):
        actions.start_thread(author=doctor, community=space, title=f"Protocol {n}", body="Updated protocol.")
    profile = CommunityProfile.objects.get(user=doctor)
    assert (profile.post_count, profile.posts_read) == (0, 0)
    assert not MemberBadge.objects.filter(user=doctor).exists()
    actions.start_thread(author=doctor, community=patients, title="Walking after surgery", body="Start slowly.")
    assert CommunityProfile.objects.get(user=doctor).post_count == 1
