"""A reply published while a thread is open appears in place: the page's script hears the post's id on
the socket and asks ``thread_post`` for its markup. That answer is the thread page's own list item for
this reader, checked like the page: 404 alike for whatever the reader may not see."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal_social.community import actions
from portal_social.community.models import Community, Membership, Post
from portal_social.core import roles
from tests.community.test_views import _give_handle, _published_thread, client_for, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(established):
    people = {
        "author": established(roles.PATIENT),
        "reader": established(roles.PATIENT),
        "outsider": established(roles.PATIENT),
        "moderator": established(roles.COMMUNITY_MODERATOR, mfa=True),
        "superuser": established(None, is_superuser=True, is_staff=True, mfa=True),
    }
    for n, (who, user) in enumerate(people.items()):
        _give_handle(user, f"{who}-{n}")
    communities = {}
    for visibility in ("public", "private"):
        community = Community.objects.create(
            name=f"{visibility} hearts", slug=f"{visibility}-hearts", visibility=visibility
        )
        for who in ("author", "reader"):
            Membership.objects.create(community=community, user=people[who])
        communities[visibility] = community
    threads = {v: _published_thread(people["author"], c, title=f"Walking in {v}") for v, c in communities.items()}
    replies = {
        v: actions.reply(author=people["author"], thread=t, body=f"Ten minutes in {v}.") for v, t in threads.items()
    }
    return {"people": people, "communities": communities, "threads": threads, "replies": replies}


def _live_url(post) -> str:
    thread = post.thread
    return url("thread_post", thread.community.slug, thread.pk, post.pk)


def _item(page: str, post) -> str:
    """The thread page's ``<li>`` of ``post``."""
    start = page.rindex("<li>", 0, page.index(f'<article class="ps-post" id="post-{post.pk}"'))
    end = page.index("</article>", start)
    return page[start : page.index("</li>", end) + len("</li>")]


def _normal(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r"\s+", " ", html).strip()


def test_a_new_reply_comes_as_the_thread_pages_own_markup_for_this_reader(world):
    reply = world["replies"]["public"]
    reader = client_for(world["people"]["reader"])
    response = reader.get(_live_url(reply))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    fragment = response.content.decode()
    assert fragment.lstrip().startswith("<li>") and "Ten minutes in public." in fragment
    assert "<html" not in fragment and "csrfmiddlewaretoken" in fragment  # its reaction buttons post
    assert re.search(r'<button[^>]*name="set" value="helpful:1"', fragment)
    page = reader.get(url("thread", reply.thread.community.slug, reply.thread_id)).content.decode()
    assert _normal(fragment) == _normal(_item(page, reply))


#: Who gets the public thread's reply (200) or a 404, in the public and the private community.
WHO = {
    "anonymous": {"public": 404, "private": 404},  # live updates need a session
    "author": {"public": 200, "private": 200},
    "reader": {"public": 200, "private": 200},
    "outsider": {"public": 200, "private": 404},
    "moderator": {"public": 200, "private": 200},
    "superuser": {"public": 200, "private": 404},  # no role, no pass
}


@pytest.mark.parametrize(("who", "visibility"), [(w, v) for w in WHO for v in ("public", "private")])
def test_who_gets_a_post_in_place(world, who, visibility):
    client = client_for(world["people"].get(who))
    assert client.get(_live_url(world["replies"][visibility])).status_code == WHO[who][visibility]


def test_what_the_reader_may_not_see_answers_404_like_nothing(world):
    reader = client_for(world["people"]["reader"])
    reply, public = world["replies"]["public"], world["threads"]["public"]
    other_thread = world["threads"]["private"]
    # A post of another thread, under this thread's address.
    assert reader.get(url("thread_post", "public-hearts", public.pk, world["replies"]["private"].pk)).status_code == 404
    assert reader.get(url("thread_post", "private-hearts", other_thread.pk, reply.pk)).status_code == 404
    # Someone else's post waiting for a moderator; the author sees their own.
    held = actions.reply(
        author=world["people"]["author"], thread=public, body="Call me on 555-867-5309.", confirm_phi=True
    )
    assert held.status == Post.Status.HELD
    assert reader.get(_live_url(held)).status_code == 404
    assert client_for(world["people"]["author"]).get(_live_url(held)).status_code == 200
    # A post taken down.
    Post.objects.filter(pk=reply.pk).update(status=Post.Status.DELETED)
    assert reader.get(_live_url(reply)).status_code == 404
    # Only reading: a write answers 405 once the post is found, 404 before.
    live = world["replies"]["private"]
    assert reader.post(_live_url(live)).status_code == 405


def test_one_post_in_place_costs_a_fixed_number_of_queries(world, established):
    reader = client_for(world["people"]["reader"])
    thread = world["threads"]["public"]
    last = None
    counts = []
    for size in (3, 30):
        while Post.objects.filter(thread=thread, status=Post.Status.PUBLISHED).count() < size:
            author = established(roles.PATIENT)
            Membership.objects.create(community=thread.community, user=author)
            last = actions.reply(author=author, thread=thread, body="Me too.")
        reader.get(_live_url(last))  # warm
        with CaptureQueriesContext(connection) as captured:
            assert reader.get(_live_url(last)).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts


def test_a_reply_landing_while_the_thread_renders_is_shown_or_replayed(world, monkeypatch):
    """``data-ps-after`` is read before the posts: a reply published while the page renders is either on
    the page or after that position, so the page's script replays it."""
    from portal_social.community.views import pages
    from portal_social.core.realtime_models import RealtimeEvent

    thread = world["threads"]["public"]
    real_rows = pages._post_rows
    landed = []

    def rows_then_a_reply(request, community, shown_thread, posts, context):
        landed.append(actions.reply(author=world["people"]["author"], thread=thread, body="Landed mid-render."))
        return real_rows(request, community, shown_thread, posts, context)

    monkeypatch.setattr(pages, "_post_rows", rows_then_a_reply)
    html = client_for(world["people"]["reader"]).get(url("thread", thread.community.slug, thread.pk)).content.decode()

    after = int(re.search(r'data-ps-after="(\d+)"', html).group(1))
    event = RealtimeEvent.objects.filter(payload__post=str(landed[0].pk)).get()
    assert f'id="post-{landed[0].pk}"' in html or event.event_id > after, "the reply is neither shown nor replayed"
