"""Bounded queries: each community page makes the same number of SQL queries at two sizes.

The thread page (5 and 50 posts), the community index (3 and 30 communities),
a community page (3 and 30 threads) and the moderation queue filtered to
community posts (3 and 30 items). The data around the posts is varied on
purpose (reactions, edits with earlier versions, flags, quotes, mentors and
moderators among the authors, a solved thread, the viewer's own held post),
so a helper that reads one of those per post shows up as a difference
between the sizes. The pages change as features are added, so the tests
compare the two sizes rather than a fixed number, under a generous ceiling.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal_social.community import actions
from portal_social.community.models import (
    Community,
    CommunityProfile,
    Membership,
    Post,
    PostFlag,
    PostRevision,
    Reaction,
    Thread,
)
from portal_social.core import roles, text
from portal_social.core.moderation.models import ModerationItem
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

ESTABLISHED = datetime.timedelta(days=90)
QUEUE = "/cms/portal-social/moderation/"
#: Generous: a page that reads something per row would exceed it at the larger size long before this.
PAGE_CEILING = 40
QUEUE_CEILING = 60
REACTION_KINDS = ("like", "me_too", "hug")


def url(name, *args):
    return reverse(f"portal_social_community:{name}", args=args)


@pytest.fixture
def people(established):
    found = {
        "anonymous": None,
        "member": established(roles.PATIENT),
        "moderator": established(roles.COMMUNITY_MODERATOR, mfa=True),
        "superuser": established(None, is_superuser=True, is_staff=True, mfa=True),
    }
    for index, who in enumerate(("member", "moderator", "superuser")):
        CommunityProfile.objects.create(user=found[who], handle=f"{who}-{index}", trust_level=1)
    return found


@pytest.fixture
def public(people):
    community = Community.objects.create(name="Heart health", slug="heart-health", visibility="public")
    Membership.objects.create(community=community, user=people["member"])
    return community


@pytest.fixture
def authors(make_user, public):
    """50 members of ``public``: some moderators, some mentors, every one with a community name."""
    found = []
    for n in range(50):
        user = make_user(
            roles.COMMUNITY_MODERATOR if n % 7 == 0 else roles.PATIENT, date_joined=timezone.now() - ESTABLISHED
        )
        CommunityProfile.objects.create(user=user, handle=f"author-{n}", trust_level=n % 4)
        Membership.objects.create(
            community=public, user=user, role=Membership.Role.MENTOR if n % 5 == 0 else Membership.Role.MEMBER
        )
        found.append(user)
    return found


def count_queries(client, address) -> int:
    client.get(address)  # the session, caches and lazily built settings warm alike for both sizes
    with CaptureQueriesContext(connection) as captured:
        response = client.get(address)
    assert response.status_code == 200, (address, response.status_code)
    return len(captured)


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        sign_in(client, user)
    return client


# --------------------------------------------------------------------------- the thread page


def _thread(author, community, title) -> Thread:
    opening = actions.start_thread(author=author, community=community, title=title, body="What helped you?")
    assert opening.status == Post.Status.PUBLISHED, opening.hold_reasons
    return opening.thread


def _fill(thread, authors, count, *, viewer):
    """``count`` published replies with everything a post may carry around it, plus the viewer's held post."""
    start = timezone.now()
    posts = []
    for n in range(count):
        body = f"Reply {n}: short walks helped."
        posts.append(
            Post.objects.create(
                thread=thread,
                author=authors[n % len(authors)],
                status=Post.Status.PUBLISHED,
                body_source=body,
                body_html=text.render(body),
                created_at=start + datetime.timedelta(seconds=n),
                quoted_post=posts[-1] if n % 4 == 3 else None,
                edited_at=start + datetime.timedelta(seconds=n, minutes=5) if n % 3 == 0 else None,
            )
        )
    for n, post in enumerate(posts):
        for reactor in authors[n % 3 : n % 3 + 3]:
            Reaction.objects.create(post=post, user=reactor, kind=REACTION_KINDS[n % len(REACTION_KINDS)])
        if post.edited_at:
            PostRevision.objects.create(post=post, body_source="An earlier version.", edited_by=post.author)
        if n % 6 == 1:
            PostFlag.objects.create(post=post, flagger=authors[(n + 1) % len(authors)], reason="off_topic")
    if viewer is not None and Membership.objects.filter(user=viewer, community=thread.community).exists():
        Post.objects.create(
            thread=thread,
            author=viewer,
            status=Post.Status.HELD,
            hold_reasons=[{"code": "language"}],
            body_source="Waiting for a moderator.",
            body_html=text.render("Waiting for a moderator."),
            created_at=start + datetime.timedelta(seconds=count + 1),
        )
    Thread.objects.filter(pk=thread.pk).update(
        reply_count=count, solved_post=posts[1], solved_by=thread.author, solved_at=timezone.now()
    )


@pytest.mark.parametrize("who", ["anonymous", "member", "moderator", "superuser"])
def test_the_thread_page_makes_the_same_queries_for_5_and_50_posts(people, public, authors, who):
    viewer = people[who]
    small = _thread(people["member"], public, "Small")
    large = _thread(people["member"], public, "Large")
    _fill(small, authors[:5], 5, viewer=viewer)
    _fill(large, authors, 50, viewer=viewer)
    client = client_for(viewer)
    few = count_queries(client, url("thread", public.slug, small.pk))
    many = count_queries(client, url("thread", public.slug, large.pk))
    assert few == many, (few, many)
    assert many <= PAGE_CEILING, many


# --------------------------------------------------------------------------- the index and a community page


@pytest.mark.parametrize("who", ["anonymous", "member", "moderator", "superuser"])
def test_the_community_index_makes_the_same_queries_for_3_and_30_communities(people, who):
    viewer = people[who]
    client = client_for(viewer)
    visibilities = ("public", "members", "private")

    def add(count):
        for n in range(Community.objects.count(), count):
            community = Community.objects.create(
                name=f"Community {n:02d}", slug=f"community-{n:02d}", visibility=visibilities[n % 3]
            )
            if n % 2 == 0 and people["member"] is not None:
                Membership.objects.create(
                    community=community,
                    user=people["member"],
                    status=Membership.Status.ACTIVE if n % 4 == 0 else Membership.Status.REQUESTED,
                )
            for t in range(2):
                Thread.objects.create(community=community, author=people["member"], title=f"T{t}", visible=True)

    add(3)
    few = count_queries(client, url("index"))
    add(30)
    many = count_queries(client, url("index"))
    assert few == many, (few, many)
    assert many <= PAGE_CEILING, many


@pytest.mark.parametrize("who", ["anonymous", "member", "moderator", "superuser"])
def test_a_community_page_makes_the_same_queries_for_3_and_30_threads(people, public, authors, who):
    other = Community.objects.create(name="Walking", slug="walking", visibility="public")
    Membership.objects.create(community=other, user=people["member"])
    for community, count in ((other, 3), (public, 30)):
        for n in range(count):
            thread = Thread.objects.create(
                community=community,
                author=authors[n % len(authors)],
                title=f"Thread {n}",
                visible=True,
                pinned=n == 1,
                locked=n == 2,
                reply_count=n,
                last_post_at=timezone.now() - datetime.timedelta(minutes=n),
            )
            opening = Post.objects.create(
                thread=thread,
                author=thread.author,
                is_opening=True,
                status=Post.Status.PUBLISHED,
                body_source="Hello",
                body_html=text.render("Hello"),
            )
            if n % 3 == 0:
                Thread.objects.filter(pk=thread.pk).update(solved_post=opening, solved_at=timezone.now())
    # The member's own thread waiting for a moderator is listed for them, at both sizes.
    for community in (other, public):
        waiting = Thread.objects.create(community=community, author=people["member"], title="Mine")
        Post.objects.create(
            thread=waiting,
            author=people["member"],
            is_opening=True,
            status=Post.Status.HELD,
            body_source="Waiting",
            body_html=text.render("Waiting"),
        )
    client = client_for(people[who])
    few = count_queries(client, url("community", other.slug))
    many = count_queries(client, url("community", public.slug))
    assert few == many, (few, many)
    assert many <= PAGE_CEILING, many


# --------------------------------------------------------------------------- the moderation queue


PHONE = "413-555-0186"


def _queue_items(people, public, authors, flaggers, count):
    """Community items in the queue up to ``count``, from the same three authors whatever the count.

    The queue writes one ``moderation.view`` audit event per patient shown, so the
    authors stay the same three: only the number of items changes between sizes.
    """
    thread = Thread.objects.filter(community=public, visible=True).first()
    if thread is None:
        thread = _thread(people["member"], public, "Questions for the moderators")
    n = ModerationItem.objects.filter(kind="community_post", status="pending").count()
    while n < count:
        author = authors[n % 3]
        kind = n % 3
        if kind == 0:  # personal details, posted anyway
            post = actions.reply(author=author, thread=thread, body=f"Call me at {PHONE}, item {n}.", confirm_phi=True)
            assert post.status == Post.Status.HELD
        elif kind == 1:  # crisis language: urgent
            post = actions.reply(author=author, thread=thread, body=f"I feel there is nothing to live for ({n}).")
            assert post.status == Post.Status.HELD and post.urgent
        else:  # a published post members flagged
            post = actions.reply(author=author, thread=thread, body=f"Buy my miracle cure, item {n}.")
            assert post.status == Post.Status.PUBLISHED
            actions.flag_post(user=flaggers[n % len(flaggers)], post=post, reason="spam")
        n += 1
    assert ModerationItem.objects.filter(kind="community_post", status="pending").count() == count


def test_the_moderation_queue_of_community_posts_makes_the_same_queries_for_3_and_30_items(
    people, public, authors, make_user
):
    posting = authors[1:4]  # patients; authors[0] is a moderator
    flaggers = []
    for n in range(3):
        flagger = make_user(roles.PATIENT, date_joined=timezone.now() - ESTABLISHED)
        CommunityProfile.objects.create(user=flagger, handle=f"flagger-{n}", trust_level=0)
        Membership.objects.create(community=public, user=flagger)
        flaggers.append(flagger)
    client = client_for(people["moderator"])
    address = QUEUE + "?type=community_post"
    sizes = []
    for size in (3, 30):
        _queue_items(people, public, posting, flaggers, size)
        sizes.append(count_queries(client, address))
        response = client.get(address)
        assert len(response.context["rows"]) == min(size, 25)  # one page of items
    few, many = sizes
    assert few == many, (few, many)
    assert many <= QUEUE_CEILING, many
