"""Trust levels: the counters (posts, reading, days), automatic promotion at the thresholds, locked
levels, the batch command, the moderator's hand, member cards and bounded queries on the thread page."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal_social.community import actions, trust
from portal_social.community.models import CommunityProfile, Penalty, Post, ThreadRead
from portal_social.core import roles, text
from portal_social.core.models import AuditEvent
from tests.community._people import *  # noqa: F403
from tests.community._people import client_for, published_thread, url

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def _counters(**values) -> trust.Counters:
    base = {
        "profile_id": 0,
        "user_id": 0,
        "trust_level": 0,
        "trust_level_locked": False,
        "post_count": 0,
        "posts_read": 0,
        "days_visited": 0,
        "created_at": timezone.now() - datetime.timedelta(days=365),
    }
    base.update(values)
    return trust.Counters(**base)


LEVEL_1 = {"posts_read": 10, "days_visited": 2}
LEVEL_2 = {"posts_read": 100, "post_count": 5, "days_visited": 10}
LEVEL_3 = {"posts_read": 500, "post_count": 20, "days_visited": 40}


@pytest.mark.parametrize(
    ("values", "level"),
    [
        ({}, 0),
        ({**LEVEL_1, "posts_read": 9}, 0),
        ({**LEVEL_1, "days_visited": 1}, 0),
        (LEVEL_1, 1),
        ({**LEVEL_1, "created_at": timezone.now() - datetime.timedelta(hours=2)}, 0),  # joined today
        ({**LEVEL_2, "post_count": 4}, 1),
        (LEVEL_2, 2),
        ({**LEVEL_2, "created_at": timezone.now() - datetime.timedelta(days=14)}, 1),
        ({**LEVEL_3, "days_visited": 39}, 2),
        (LEVEL_3, 3),
    ],
)
def test_the_level_earned_at_each_threshold(values, level):
    assert trust.earned_level(_counters(**values)) == level


def test_level_3_needs_no_penalty_in_the_last_180_days(cast):
    member = cast["member"]
    counters = _counters(user_id=member.pk, **LEVEL_3)
    penalty = Penalty.objects.create(
        user=member, kind="silence", ends_at=timezone.now() + DAY, reason="Rude", starts_at=timezone.now()
    )
    assert trust.earned_level(counters) == 2
    Penalty.objects.filter(pk=penalty.pk).update(starts_at=timezone.now() - datetime.timedelta(days=181))
    assert trust.earned_level(counters) == 3


def test_thresholds_follow_the_setting(settings):
    settings.PORTAL_SOCIAL_COMMUNITY_TRUST_LEVELS = {1: {"posts_read": 3, "days_visited": 1}}
    assert trust.earned_level(_counters(posts_read=3, days_visited=1)) == 1
    assert trust.earned_level(_counters(**LEVEL_2)) == 2  # level 2 keeps its defaults


# --------------------------------------------------------------------------- posts


def test_publishing_counts_posts_once_and_promotes_at_the_threshold(cast, community):
    member = cast["member"]
    profile = CommunityProfile.objects.get(user=member)
    CommunityProfile.objects.filter(pk=profile.pk).update(
        trust_level=1, posts_read=100, days_visited=10, post_count=0, created_at=timezone.now() - 20 * DAY
    )
    thread = published_thread(member, community)
    for n in range(3):
        actions.reply(author=member, thread=thread, body=f"Update {n}: walking further.")
    profile.refresh_from_db()
    assert (profile.post_count, profile.trust_level) == (4, 1)
    post = actions.reply(author=member, thread=thread, body="Fifth post.")
    profile.refresh_from_db()
    assert (profile.post_count, profile.trust_level) == (5, 2)
    event = AuditEvent.objects.filter(action="community.trust").get()
    assert event.details == {"member": str(member.pk), "from": 1, "to": 2, "reason": "automatic"}
    assert event.actor_id is None
    # Idempotent: the hook run again (a restore) changes nothing; a post taken down is counted out.
    trust.count_posts(post)
    profile.refresh_from_db()
    assert profile.post_count == 5
    Post.objects.filter(pk=post.pk).update(status=Post.Status.HELD)
    trust.count_posts(post)
    profile.refresh_from_db()
    assert (profile.post_count, profile.trust_level) == (4, 2)  # automatic changes only raise


def test_a_locked_level_is_left_alone(cast, community, django_capture_on_commit_callbacks):
    member = cast["member"]
    CommunityProfile.objects.filter(user=member).update(
        trust_level=0, trust_level_locked=True, posts_read=1000, days_visited=100, post_count=100
    )
    thread = published_thread(member, community)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(member).get(url("thread", community.slug, thread.pk))
    assert CommunityProfile.objects.get(user=member).days_visited == 101
    call_command("portal_social_community_trust", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert CommunityProfile.objects.get(user=member).trust_level == 0
    assert not AuditEvent.objects.filter(action="community.trust").exists()


# --------------------------------------------------------------------------- reading


def _fill(thread, author, count):
    now = timezone.now()
    for n in range(count):
        Post.objects.create(
            thread=thread,
            author=author,
            status=Post.Status.PUBLISHED,
            body_source=f"Reply {n}",
            body_html=text.render(f"Reply {n}"),
            created_at=now + datetime.timedelta(seconds=n + 1),
        )


def test_reading_counts_new_posts_and_days_and_writes_nothing_when_nothing_changed(
    cast, community, django_capture_on_commit_callbacks
):
    member, author = cast["member"], cast["mentor"]
    thread = published_thread(author, community)
    _fill(thread, author, 3)
    client = client_for(member)

    def visit():
        with django_capture_on_commit_callbacks(execute=True):
            assert client.get(url("thread", community.slug, thread.pk)).status_code == 200

    visit()
    profile = CommunityProfile.objects.get(user=member)
    read = ThreadRead.objects.get(thread=thread, user=member)
    assert (read.posts_seen, profile.posts_read, profile.days_visited) == (4, 4, 1)
    assert profile.last_visited_on == timezone.localdate()

    visit()  # nothing new, same day
    again = ThreadRead.objects.get(pk=read.pk)
    assert again.read_at == read.read_at
    profile.refresh_from_db()
    assert (profile.posts_read, profile.days_visited) == (4, 1)

    _fill(thread, author, 2)
    CommunityProfile.objects.filter(pk=profile.pk).update(last_visited_on=timezone.localdate() - DAY)
    visit()
    profile.refresh_from_db()
    assert (profile.posts_read, profile.days_visited, profile.last_visited_on) == (6, 2, timezone.localdate())
    assert ThreadRead.objects.get(pk=read.pk).posts_seen == 6


def test_reading_promotes_when_it_crosses_a_threshold(cast, community, django_capture_on_commit_callbacks):
    member = cast["member"]
    CommunityProfile.objects.filter(user=member).update(
        posts_read=9, days_visited=1, last_visited_on=timezone.localdate() - DAY, created_at=timezone.now() - 3 * DAY
    )
    thread = published_thread(cast["mentor"], community)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(member).get(url("thread", community.slug, thread.pk))
    profile = CommunityProfile.objects.get(user=member)
    assert (profile.posts_read, profile.days_visited, profile.trust_level) == (10, 2, 1)
    assert AuditEvent.objects.get(action="community.trust").details["to"] == 1


@pytest.mark.parametrize("who", ["anonymous", "non_member", "moderator"])
def test_only_members_reading_are_counted(cast, community, who, django_capture_on_commit_callbacks):
    community.visibility = "public"
    community.save()
    thread = published_thread(cast["member"], community)
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(cast[who]).get(url("thread", community.slug, thread.pk)).status_code == 200
    assert not ThreadRead.objects.exists()


def test_a_failing_counter_never_fails_the_page(cast, community, monkeypatch, django_capture_on_commit_callbacks):
    thread = published_thread(cast["mentor"], community)
    monkeypatch.setattr(trust, "_read_update_sql", lambda: "UPDATE no_such_table SET x = 1")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast["member"]).get(url("thread", community.slug, thread.pk))
    assert response.status_code == 200
    assert CommunityProfile.objects.get(user=cast["member"]).posts_read == 0


# --------------------------------------------------------------------------- the batch and the moderator


def test_the_batch_lowers_level_3_after_a_penalty_and_is_idempotent(cast):
    member = cast["member"]
    CommunityProfile.objects.filter(user=member).update(trust_level=3, created_at=timezone.now() - 90 * DAY, **LEVEL_3)
    Penalty.objects.create(user=member, kind="silence", ends_at=timezone.now() + DAY, reason="Spam")
    call_command("portal_social_community_trust", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert CommunityProfile.objects.get(user=member).trust_level == 2
    call_command("portal_social_community_trust", stdout=open("/dev/null", "w"))  # noqa: SIM115
    events = AuditEvent.objects.filter(action="community.trust")
    assert [e.details["to"] for e in events] == [2]


def test_a_moderator_sets_a_level_by_hand_which_locks_it(cast):
    moderator, member = cast["moderator"], cast["member"]
    client = client_for(moderator)
    response = client.post(url("member", "member-x"), {"do": "trust", "level": "2"})
    assert response.status_code == 302
    profile = CommunityProfile.objects.get(user=member)
    assert (profile.trust_level, profile.trust_level_locked) == (2, True)
    event = AuditEvent.objects.get(action="community.trust")
    assert event.actor_id == moderator.pk and event.details["reason"] == "moderator" and event.details["locked"]
    client.post(url("member", "member-x"), {"do": "trust", "level": "auto"})
    assert CommunityProfile.objects.get(user=member).trust_level_locked is False
    for junk in ("4", "-1", "two", "", "٢", "2.0", " 2x"):
        page = client.post(url("member", "member-x"), {"do": "trust", "level": junk})
        assert page.status_code == 200 and "Choose a trust level" in page.content.decode()


def test_only_moderators_set_levels(cast):
    with pytest.raises(actions.CommunityDenied):
        actions.set_trust_level(moderator=cast["mentor"], member=cast["member"], level=3)
    with pytest.raises(actions.CommunityDenied):
        actions.set_trust_level(moderator=cast["superuser"], member=cast["member"], level=3)


# --------------------------------------------------------------------------- member cards


def test_the_member_card_shows_joined_posts_and_badges(cast, community, make_user):
    community.visibility = "public"
    community.save()
    clinician = cast["clinician"]
    CommunityProfile.objects.filter(user=clinician).update(
        created_at=timezone.make_aware(datetime.datetime(2025, 3, 4))
    )
    thread = published_thread(clinician, community)
    page = client_for(None).get(url("thread", community.slug, thread.pk)).content.decode()
    assert "Verified clinician" in page
    assert "Joined March 2025" in page and "1 post" in page
    assert "/community/people/" not in page  # the member page is linked for moderators only
    moderator_page = client_for(cast["moderator"]).get(url("thread", community.slug, thread.pk)).content.decode()
    assert url("member", "clinician-x") in moderator_page


def _queries(client, address, callbacks) -> int:
    """The page's queries, and those of what it deferred until its transaction commits (the counters)."""
    with CaptureQueriesContext(connection) as captured, callbacks(execute=True):
        response = client.get(address)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("who", ["anonymous", "member", "moderator"])
def test_the_thread_page_makes_the_same_queries_for_5_and_50_posts_with_member_cards(
    cast, community, make_user, who, django_capture_on_commit_callbacks
):
    community.visibility = "public"
    community.save()
    authors = []
    for n in range(50):
        user = make_user(roles.CLINICIAN if n % 3 == 0 else roles.PATIENT)
        CommunityProfile.objects.create(user=user, handle=f"author-{n}", post_count=n)
        authors.append(user)
    small = published_thread(cast["mentor"], community, title="Small")
    large = published_thread(cast["mentor"], community, title="Large")
    for thread, count in ((small, 5), (large, 50)):
        now = timezone.now()
        for n in range(count):
            Post.objects.create(
                thread=thread,
                author=authors[n],
                status=Post.Status.PUBLISHED,
                body_source=f"Reply {n}",
                body_html=text.render(f"Reply {n}"),
                created_at=now + datetime.timedelta(seconds=n + 1),
            )
    client = client_for(cast[who])
    client.get(url("community", community.slug))  # sessions and caches warm
    cb = django_capture_on_commit_callbacks
    first_few = _queries(client, url("thread", community.slug, small.pk), cb)  # a first visit: counters written
    first_many = _queries(client, url("thread", community.slug, large.pk), cb)
    few = _queries(client, url("thread", community.slug, small.pk), cb)  # nothing new: nothing written
    many = _queries(client, url("thread", community.slug, large.pk), cb)
    assert first_few == first_many == few == many, (first_few, first_many, few, many)
    assert many <= 25
