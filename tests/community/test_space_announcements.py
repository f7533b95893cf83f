"""Announcements in clinician spaces: posted by the space's owners and moderators only, pinned, audited, and
every member who may read the space is told (whatever they chose for new threads), nobody else."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal_social.community import actions
from portal_social.community.models import Membership, Thread
from portal_social.core.models import AuditEvent
from portal_social.core.notify.models import Notification
from tests.community import test_spaces
from tests.community.test_spaces import client_for

pytestmark = pytest.mark.django_db

#: The spaces' fixtures: a case-review space (owner, colleague, nurse), a staff space, a patient community.
people, world = test_spaces.people, test_spaces.world

TITLE = "Cath lab closed Saturday for maintenance"


def _newest(world) -> Thread:
    """The case space's newest thread (titles are encrypted: no lookup by title)."""
    return Thread.objects.filter(community=world["case_review"]).order_by("-created_at", "-pk").first()


def _announce(world, who="owner", **kwargs):
    kwargs.setdefault("community", world["case_review"])
    return actions.start_thread(
        author=world["people"][who],
        title=TITLE,
        body="Emergencies go to the Northside lab.",
        announcement=True,
        **kwargs,
    )


def test_an_owner_announces_from_the_form_pinned_audited_and_every_member_is_told(world):
    people = world["people"]
    owner_page = client_for(people["owner"]).get(reverse("portal_social_community:new_thread", args=["case-review"]))
    assert 'name="announcement"' in owner_page.content.decode()
    Membership.objects.filter(community=world["case_review"], user=people["nurse"]).update(notifications="daily")
    response = client_for(people["owner"]).post(
        reverse("portal_social_community:new_thread", args=["case-review"]),
        {"title": TITLE, "body": "Emergencies go to the Northside lab.", "announcement": "on"},
    )
    assert response.status_code == 302
    thread = _newest(world)
    assert thread.announcement and thread.pinned
    event = AuditEvent.objects.get(action="space.announcement")
    assert event.actor_id == people["owner"].pk and event.target_id == str(thread.pk)
    told = Notification.objects.filter(key="space.announcement", params__thread=str(thread.pk))
    assert {n.recipient_id: n.status == "digest" for n in told} == {
        people["colleague"].pk: False,
        people["nurse"].pk: True,
    }
    assert not Notification.objects.filter(key="community.new_thread", params__thread=str(thread.pk)).exists()
    listing = client_for(people["colleague"]).get(reverse("portal_social_community:community", args=["case-review"]))
    page = client_for(people["colleague"]).get(
        reverse("portal_social_community:thread", args=["case-review", thread.pk])
    )
    for shown in (listing, page):
        assert "Announcement" in shown.content.decode()


def test_notices_name_the_space_and_nothing_of_the_announcement(world):
    from portal_social.core import notify

    thread = _announce(world).thread
    notice = Notification.objects.filter(key="space.announcement", params__thread=str(thread.pk)).first()
    message = notify.render_notification(notice)
    words = " ".join(str(value) for value in vars(message).values())
    assert "Sign in to read it" in words and "Cardiology case review" in words  # the space's name, set by staff
    for secret in ("Cath", "Saturday", "Northside", "maintenance", "Emergencies"):
        assert secret not in words


@pytest.mark.parametrize("who", ["colleague", "nurse"])
def test_members_who_do_not_moderate_the_space_cannot_announce(world, who):
    with pytest.raises(actions.CommunityDenied):
        _announce(world, who=who)
    page = client_for(world["people"][who]).get(reverse("portal_social_community:new_thread", args=["case-review"]))
    assert 'name="announcement"' not in page.content.decode()
    # Sent anyway, the box is not on their form: the thread is an ordinary one.
    client_for(world["people"][who]).post(
        reverse("portal_social_community:new_thread", args=["case-review"]),
        {"title": TITLE, "body": "Emergencies go to the Northside lab.", "announcement": "on"},
    )
    thread = _newest(world)
    assert not thread.announcement and not thread.pinned
    assert not Notification.objects.filter(key="space.announcement").exists()


def test_a_moderator_of_the_space_announces_and_nothing_announces_outside_spaces(world):
    people = world["people"]
    Membership.objects.filter(community=world["case_review"], user=people["colleague"]).update(role="moderator")
    assert _announce(world, who="colleague").thread.announcement
    Membership.objects.filter(community=world["patients"], user=people["owner"]).update(role="moderator")
    with pytest.raises(actions.CommunityDenied):
        _announce(world, community=world["patients"])
    with pytest.raises(actions.CommunityDenied):
        _announce(world, who="community_moderator", community=world["patients"])
    assert Thread.objects.filter(announcement=True).count() == 1


def test_a_referral_request_is_never_an_announcement(world):
    from portal_social.profiles.models import Specialty

    cardiology = Specialty.objects.create(name="Cardiology", slug="cardiology")
    with pytest.raises(actions.CommunityDenied):
        _announce(world, referral={"specialty": cardiology, "urgency": "soon"})
    assert _newest(world).title != TITLE


def test_a_removed_member_is_not_told(world):
    from portal_social.community.actions import spaces as space_actions

    people = world["people"]
    space_actions.remove_member(actor=people["owner"], space=world["case_review"], user=people["nurse"])
    thread = _announce(world).thread
    told = set(
        Notification.objects.filter(key="space.announcement", params__thread=str(thread.pk)).values_list(
            "recipient_id", flat=True
        )
    )
    assert told == {people["colleague"].pk}
