"""Joining a clinician space by request: one answer whether or not the space exists, the space stays
hidden until an owner or moderator approves, and each decision is audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal_social.community.actions import space_requests
from portal_social.community.models import Community, Membership
from portal_social.core import roles
from portal_social.core.models import AuditEvent
from portal_social.core.notify.models import Notification
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

ASK = "portal_social_community:space_ask"
ANSWER = "If a clinician space has that name or address, its owners will see your request."


@pytest.fixture
def space(owned_space):
    return owned_space


def test_the_answer_is_the_same_whether_or_not_the_space_exists(client, space, established):
    colleague = established(roles.CLINICIAN, mfa=True)
    sign_in(client, colleague)
    pages = []
    for name in ("Cardiology case review", "No such space", "heart-health", "case-review"):
        response = client.post(reverse(ASK), {"name": name}, follow=True)
        pages.append((response.status_code, ANSWER in response.content.decode()))
    assert pages == [(200, True)] * 4
    Community.objects.create(name="Heart health", slug="heart-health")  # a patient community: never joined this way
    client.post(reverse(ASK), {"name": "heart-health"})
    assert list(Membership.objects.filter(user=colleague).values_list("community__slug", "status")) == [
        ("case-review", "requested")
    ]
    # Asked twice: the owner is told once.
    assert Notification.objects.filter(recipient=space.owner, key="space.join_requested").count() == 1
    # Asking is not belonging: the space still answers 404.
    assert client.get(reverse("portal_social_community:community", args=["case-review"])).status_code == 404
    assert client.get(reverse("portal_social_community:space_members", args=["case-review"])).status_code == 404


@pytest.mark.parametrize("role", [roles.PATIENT, roles.CAREGIVER, roles.COMMUNITY_MODERATOR])
def test_only_people_who_may_use_spaces_can_ask(client, space, established, role):
    person = established(role, mfa=role == roles.COMMUNITY_MODERATOR)
    sign_in(client, person)
    assert client.get(reverse(ASK)).status_code == 404
    assert client.post(reverse(ASK), {"name": "case-review"}).status_code == 404
    assert not Membership.objects.filter(user=person).exists()


def test_bad_names_get_a_clear_error(client, space, established):
    sign_in(client, established(roles.CLINICIAN, mfa=True))
    for name in ("", "   ", "x" * 121):
        response = client.post(reverse(ASK), {"name": name})
        assert response.status_code == 400
    assert "Ensure this value has at most 120 characters" in response.content.decode()


def test_an_owner_approves_or_declines_on_the_member_page(client, space, established):
    asking, other = established(roles.CLINICIAN, mfa=True), established(roles.CARE_TEAM, mfa=True)
    for person in (asking, other):
        space_requests.request_to_join(user=person, name="case-review")
    sign_in(client, space.owner)
    members = reverse("portal_social_community:space_members", args=["case-review"])
    html = client.get(members).content.decode()
    assert "Asking to join" in html and asking.get_full_name() in html
    first = Membership.objects.get(user=asking)
    second = Membership.objects.get(user=other)
    assert client.post(members, {"do": "approve", "membership": first.pk}).status_code == 302
    assert client.post(members, {"do": "decline", "membership": second.pk}).status_code == 302
    assert Membership.objects.get(pk=first.pk).status == "active"
    assert Membership.objects.get(pk=second.pk).status == "left"
    assert Notification.objects.filter(recipient=asking, key="space.join_approved").count() == 1
    # Deciding again is refused with a reason, and records nothing.
    response = client.post(members, {"do": "approve", "membership": second.pk})
    assert response.status_code == 400 and "decided already" in response.content.decode()
    decided = AuditEvent.objects.filter(action="space.join_decided", target_id=str(space.pk))
    assert sorted(e.details["approved"] for e in decided) == [False, True]
    client.logout()
    sign_in(client, asking)
    assert client.get(reverse("portal_social_community:community", args=["case-review"])).status_code == 200


def test_a_member_who_is_not_a_manager_cannot_decide(client, space, established):
    member, asking = established(roles.CLINICIAN, mfa=True), established(roles.CLINICIAN, mfa=True)
    Membership.objects.create(community=space, user=member)
    space_requests.request_to_join(user=asking, name="Cardiology Case Review")
    pending = Membership.objects.get(user=asking)
    sign_in(client, member)
    members = reverse("portal_social_community:space_members", args=["case-review"])
    assert "Asking to join" not in client.get(members).content.decode()
    assert client.post(members, {"do": "approve", "membership": pending.pk}).status_code == 404
    assert Membership.objects.get(pk=pending.pk).status == "requested"
