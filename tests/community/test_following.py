"""Following threads and communities: who may follow, who is told of new replies and new threads
(once, and only while they may read the thread), the daily digest, and batched queries."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal_social.community import actions
from portal_social.community.actions import following
from portal_social.community.models import Community, CommunityProfile, Membership, Post, ThreadFollow
from portal_social.core import access, notify, roles
from portal_social.core.notify.models import Notification, NotificationPreference
from tests.community import tools_world
from tests.community.tools_world import VISIBILITIES, WHO, client_for, thread_url, url

# The shared fixtures (tests/community/tools_world.py).
people, world = tools_world.people, tools_world.world

pytestmark = pytest.mark.django_db


def _told(key: str, user=None):
    found = Notification.objects.filter(key=key)
    return found.filter(recipient=user) if user is not None else found


def _follows(user, thread) -> bool:
    return ThreadFollow.objects.filter(user=user, thread=thread).exists()


# --------------------------------------------------------------------------- following a thread

#: What a POST to follow a thread answers, per visibility: 302 (done, or to sign in) or 404.
FOLLOW = {
    "anonymous": dict.fromkeys(VISIBILITIES, "login"),
    "outsider": {"public": 302, "members": 302, "private": 404},
    "member": dict.fromkeys(VISIBILITIES, 302),
    "author": dict.fromkeys(VISIBILITIES, 302),
    "moderator": dict.fromkeys(VISIBILITIES, 302),
    "superuser": {"public": 302, "members": 404, "private": 404},
}


@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize("who", WHO)
def test_whoever_may_read_a_thread_may_follow_it_and_others_get_404(world, who, visibility):
    thread = world["threads"][visibility]
    user = world["people"][who]
    response = client_for(user).post(thread_url("follow", thread), {"follow": "1"})
    expected = FOLLOW[who][visibility]
    if expected == "login":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        with pytest.raises(actions.CommunityDenied):
            actions.follow_thread(user=AnonymousUser(), thread=thread)
        return
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"] == thread_url("thread", thread) and _follows(user, thread)
    else:
        assert not _follows(user, thread)
        with pytest.raises(actions.CommunityDenied):
            actions.follow_thread(user=user, thread=thread)


def test_the_author_and_everyone_whose_reply_is_published_follow_without_asking(world, make_user):
    thread = world["threads"]["members"]
    assert _follows(world["people"]["author"], thread) and _follows(world["people"]["member"], thread)
    assert ThreadFollow.objects.filter(thread=thread).count() == 2
    # A held reply: its author follows once a moderator publishes it.
    late = make_user(roles.PATIENT)
    CommunityProfile.objects.create(user=late, handle="late-comer")
    Membership.objects.create(community=thread.community, user=late)
    thread.community.review_every_post = True
    thread.community.save()
    held = actions.reply(author=late, thread=thread, body="Hello, all.")
    assert held.status == Post.Status.HELD and not _follows(late, thread)
    actions.approve_post(moderator=world["people"]["moderator"], post=held)
    assert _follows(late, thread)


def test_follow_and_unfollow_buttons_repeat_harmlessly(world):
    thread = world["threads"]["public"]
    outsider = world["people"]["outsider"]
    client = client_for(outsider)
    page = client.get(thread_url("thread", thread)).content.decode()
    assert 'name="follow" value="1"' in page and ">Follow</button>" in page
    for _twice in range(2):
        assert client.post(thread_url("follow", thread), {"follow": "1"}).status_code == 302
    assert ThreadFollow.objects.filter(thread=thread, user=outsider).count() == 1
    page = client.get(thread_url("thread", thread)).content.decode()
    assert 'name="follow" value="0"' in page and ">Unfollow</button>" in page
    for _twice in range(2):
        assert client.post(thread_url("follow", thread), {"follow": "0"}).status_code == 302
    assert not _follows(outsider, thread)


@pytest.mark.parametrize("value", ["", "yes", "2", "\x00", "1" * 300])
def test_a_forged_follow_value_changes_nothing_and_says_why(world, value):
    thread = world["threads"]["public"]
    client = client_for(world["people"]["outsider"])
    response = client.post(thread_url("follow", thread), {"follow": value})
    assert response.status_code == 302
    assert "Choose to follow or to stop following." in client.get(response["Location"]).content.decode()
    assert not _follows(world["people"]["outsider"], thread)
    assert client.get(thread_url("follow", thread)).status_code == 405


def test_signed_out_visitors_see_no_follow_button(world):
    page = client_for(None).get(thread_url("thread", world["threads"]["public"])).content.decode()
    assert 'name="follow"' not in page


# --------------------------------------------------------------------------- told of new replies


def test_each_follower_but_the_replys_author_is_told_once_with_a_link_and_no_words(world):
    thread = world["threads"]["public"]
    author, member, outsider = (world["people"][w] for w in ("author", "member", "outsider"))
    actions.follow_thread(user=outsider, thread=thread)
    Notification.objects.all().delete()
    reply = actions.reply(author=member, thread=thread, body="Another tip: short walks after meals.")
    told = list(_told(following.REPLY))
    assert sorted(n.recipient_id for n in told) == sorted([author.pk, outsider.pk])
    assert all(n.params == {"thread": str(thread.pk), "post": str(reply.pk)} for n in told)
    message = notify.render_notification(told[0])
    assert message.url.endswith(url("thread_link", thread.pk))
    for part in (message.subject, message.text, message.html):
        assert "Walking after surgery" not in part and "short walks" not in part and "member-" not in part


def test_a_follower_who_left_a_private_community_is_not_told(world):
    thread = world["threads"]["private"]
    outsider = world["people"]["outsider"]
    Membership.objects.create(community=thread.community, user=outsider)
    actions.follow_thread(user=outsider, thread=thread)
    actions.leave(user=outsider, community=thread.community)
    Notification.objects.all().delete()
    actions.reply(author=world["people"]["member"], thread=thread, body="Still here.")
    assert list(_told(following.REPLY).values_list("recipient_id", flat=True)) == [world["people"]["author"].pk]


def test_followers_who_may_not_read_any_more_or_are_deactivated_are_not_told(world):
    thread = world["threads"]["members"]
    outsider, author = world["people"]["outsider"], world["people"]["author"]
    actions.follow_thread(user=outsider, thread=thread)
    outsider.groups.clear()  # no role that takes part in communities: a members-only community is closed to them
    author.is_active = False
    author.save()
    Notification.objects.all().delete()
    actions.reply(author=world["people"]["member"], thread=thread, body="Still here.")
    assert not _told(following.REPLY).exists()


def test_a_hidden_reply_restored_by_a_moderator_tells_nobody_twice(world, settings):
    settings.PORTAL_SOCIAL_COMMUNITY_FLAG_HIDE_SCORE = 0.5
    thread = world["threads"]["public"]
    Notification.objects.all().delete()
    reply = actions.reply(author=world["people"]["member"], thread=thread, body="A second thought.")
    assert _told(following.REPLY).count() == 1  # the author
    actions.flag_post(user=world["people"]["outsider"], post=reply, reason="off_topic")
    reply.refresh_from_db()
    assert reply.status == Post.Status.HELD
    actions.approve_post(moderator=world["people"]["moderator"], post=reply)
    reply.refresh_from_db()
    assert reply.status == Post.Status.PUBLISHED
    assert _told(following.REPLY).count() == 1
    assert ThreadFollow.objects.filter(thread=thread, user=world["people"]["member"]).count() == 1


def test_unfollowing_stops_the_notifications(world):
    thread = world["threads"]["public"]
    author = world["people"]["author"]
    actions.follow_thread(user=author, thread=thread, follow=False)
    Notification.objects.all().delete()
    actions.reply(author=world["people"]["member"], thread=thread, body="Anyone?")
    assert not _told(following.REPLY).exists()


def _publish_with_followers(world, make_user, count: int) -> int:
    community = world["communities"]["public"]
    opening = actions.start_thread(author=world["people"]["author"], community=community, title="Busy", body="Hi")
    thread = opening.thread
    for n in range(count):
        user = make_user(roles.PATIENT)
        ThreadFollow.objects.create(thread=thread, user=user)
        if n % 3 == 0:
            NotificationPreference.objects.create(user=user, frequency="daily")
    Notification.objects.all().delete()
    with CaptureQueriesContext(connection) as captured:
        actions.reply(author=world["people"]["member"], thread=thread, body=f"Reply for {count}")
    assert _told(following.REPLY).count() == count + 1  # and the thread's author
    return len(captured)


def test_telling_followers_takes_the_same_queries_for_3_and_30_followers(world, make_user):
    few = _publish_with_followers(world, make_user, 3)
    many = _publish_with_followers(world, make_user, 30)
    assert few == many, (few, many)


# --------------------------------------------------------------------------- following a community

#: What a POST of the community's "new threads" choice answers in a members-only community.
CHOOSE = {"anonymous": "login", "outsider": 403, "member": 302, "author": 302, "moderator": 403, "superuser": 404}


@pytest.mark.parametrize("who", WHO)
def test_only_active_members_choose_how_they_hear_of_new_threads(world, who):
    community = world["communities"]["members"]
    user = world["people"][who]
    response = client_for(user).post(url("community_notifications", community.slug), {"notifications": "daily"})
    expected = CHOOSE[who]
    if expected == "login":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        return
    assert response.status_code == expected
    chosen = Membership.objects.filter(community=community, user=user, notifications="daily").exists()
    assert chosen == (expected == 302)


def test_the_choice_is_shown_saved_and_repeats_harmlessly(world):
    community = world["communities"]["members"]
    client = client_for(world["people"]["member"])
    page = client.get(url("community", community.slug)).content.decode()
    assert 'name="notifications" value="off" id="notify-off" checked' in page
    for _twice in range(2):
        response = client.post(url("community_notifications", community.slug), {"notifications": "immediately"})
        assert response.status_code == 302
    page = client.get(url("community", community.slug)).content.decode()
    assert 'value="immediately" id="notify-immediately" checked' in page
    assert "You will be told at once of new threads here." in page
    assert (
        'name="notifications"'
        not in client_for(world["people"]["outsider"]).get(url("community", community.slug)).content.decode()
    )


@pytest.mark.parametrize("value", ["", "weekly", "IMMEDIATELY", "\x00", "x" * 500])
def test_a_forged_choice_is_refused_and_changes_nothing(world, value):
    community = world["communities"]["members"]
    client = client_for(world["people"]["member"])
    response = client.post(url("community_notifications", community.slug), {"notifications": value})
    assert response.status_code == 302
    assert "Choose how you want to hear of new threads." in client.get(response["Location"]).content.decode()
    assert Membership.objects.get(community=community, user=world["people"]["member"]).notifications == "off"
    with pytest.raises(ValidationError):
        actions.set_community_notifications(user=world["people"]["member"], community=community, choice=value)


def _choose(user, community, choice):
    actions.set_community_notifications(user=user, community=community, choice=choice)


def test_a_new_thread_tells_members_at_once_or_in_the_digest_and_never_its_author(world, make_user):
    community = world["communities"]["private"]
    member, author = world["people"]["member"], world["people"]["author"]
    daily, off, gone = (make_user(roles.PATIENT) for _ in range(3))
    for user in (daily, off, gone):
        Membership.objects.create(community=community, user=user)
    _choose(member, community, "immediately")
    _choose(author, community, "immediately")
    _choose(daily, community, "daily")
    _choose(gone, community, "immediately")
    actions.leave(user=gone, community=community)
    Notification.objects.all().delete()

    opening = actions.start_thread(author=author, community=community, title="New here", body="Hello, everyone.")
    told = {n.recipient_id: n for n in _told(following.NEW_THREAD)}
    assert set(told) == {member.pk, daily.pk}
    assert told[member.pk].status == Notification.Status.PENDING or told[member.pk].status == Notification.Status.SENT
    assert told[daily.pk].status == Notification.Status.DIGEST
    assert told[member.pk].params == {"thread": str(opening.thread_id)}

    # The daily digest carries it, in generic words.
    mail.outbox.clear()
    assert notify.send_digests() == 1
    assert mail.outbox[-1].to == [daily.email]
    assert "A new thread in a community you follow" in mail.outbox[-1].body
    assert "New here" not in mail.outbox[-1].body and "Hello, everyone" not in mail.outbox[-1].body


def test_a_person_who_turned_every_notification_off_is_not_sent_the_community_ones(world):
    community = world["communities"]["public"]
    member = world["people"]["member"]
    NotificationPreference.objects.create(user=member, frequency="off")
    _choose(member, community, "immediately")
    actions.start_thread(author=world["people"]["author"], community=community, title="Quiet", body="Shh.")
    assert _told(following.NEW_THREAD, member).get().status == Notification.Status.SKIPPED


def test_a_held_opening_post_tells_members_once_when_published_and_not_again_when_restored(world, settings):
    settings.PORTAL_SOCIAL_COMMUNITY_FLAG_HIDE_SCORE = 0.5
    community = world["communities"]["public"]
    member = world["people"]["member"]
    _choose(member, community, "immediately")
    community.review_every_post = True
    community.save()
    opening = actions.start_thread(
        author=world["people"]["author"],
        community=community,
        title="Questions about walking",
        body="What helps you keep going?",
    )
    assert opening.status == Post.Status.HELD and not _told(following.NEW_THREAD).exists()
    moderator = world["people"]["moderator"]
    actions.approve_post(moderator=moderator, post=opening)
    assert _told(following.NEW_THREAD, member).count() == 1
    opening = Post.objects.select_related("thread__community").get(pk=opening.pk)
    actions.flag_post(user=world["people"]["outsider"], post=opening, reason="spam")
    opening.refresh_from_db()
    assert opening.status == Post.Status.HELD
    actions.approve_post(moderator=moderator, post=opening)
    assert _told(following.NEW_THREAD, member).count() == 1


# --------------------------------------------------------------------------- who may read, in one query


@pytest.mark.parametrize("visibility", VISIBILITIES)
def test_the_batched_readers_match_the_access_rules_for_everyone(world, visibility, make_user):
    community = world["communities"][visibility]
    thread = world["threads"][visibility]
    extra = {
        "caregiver": make_user(roles.CAREGIVER),
        "clinician": make_user(roles.CLINICIAN, mfa=True),
        "px": make_user(roles.PATIENT_EXPERIENCE, mfa=True),
        "nobody": make_user(None),
        "left": make_user(roles.PATIENT),
        "asked": make_user(roles.PATIENT),
        "inactive": make_user(roles.PATIENT, is_active=False),
    }
    Membership.objects.create(community=community, user=extra["left"], status=Membership.Status.LEFT)
    Membership.objects.create(community=community, user=extra["asked"], status=Membership.Status.REQUESTED)
    everyone = [u for u in world["people"].values() if u is not None] + list(extra.values())
    from django.contrib.auth import get_user_model

    batched = set(
        get_user_model()
        .objects.filter(following.readers(community), pk__in=[u.pk for u in everyone])
        .values_list("pk", flat=True)
    )
    one_by_one = {u.pk for u in everyone if access.can(u, "view", thread)}
    assert batched == one_by_one


# --------------------------------------------------------------------------- the link in notifications


def test_the_notification_link_opens_the_thread_for_readers_only(world):
    private = world["threads"]["private"]
    link = url("thread_link", private.pk)
    response = client_for(world["people"]["member"]).get(link)
    assert response.status_code == 302 and response["Location"] == thread_url("thread", private)
    assert client_for(world["people"]["outsider"]).get(link).status_code == 404
    assert client_for(world["people"]["outsider"]).get(url("thread_link", uuid.uuid4())).status_code == 404
    # Signed out: sign in first, for a thread that exists or not.
    for address in (link, url("thread_link", uuid.uuid4())):
        response = client_for(None).get(address)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    public = world["threads"]["public"]
    assert client_for(None).get(url("thread_link", public.pk))["Location"] == thread_url("thread", public)
    assert client_for(world["people"]["member"]).post(link).status_code == 405


def test_a_community_page_for_a_visitor_who_is_no_member_offers_no_choice(world):
    community = Community.objects.get(slug="public-group")
    page = client_for(None).get(url("community", community.slug)).content.decode()
    assert 'name="notifications"' not in page
