"""Permalinks and quotes: a post's lasting address finds its page, and a quote holds only what readers see."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal_social.community import actions
from portal_social.community.models import Community, CommunityProfile, Membership, Post
from portal_social.core import roles, text
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

ESTABLISHED = datetime.timedelta(days=90)


@pytest.fixture
def make_member(make_user):
    def make(handle, *communities, role=roles.PATIENT, **kwargs):
        user = make_user(role, date_joined=timezone.now() - ESTABLISHED, **kwargs)
        CommunityProfile.objects.create(user=user, handle=handle)
        for community in communities:
            Membership.objects.create(community=community, user=user)
        return user

    return make


@pytest.fixture
def community():
    return Community.objects.create(name="Heart health", slug="heart-health", visibility="public")


@pytest.fixture
def author(make_member, community):
    return make_member("steady_beat", community)


@pytest.fixture
def thread(author, community):
    return actions.start_thread(author=author, community=community, title="Walking", body="Tips?").thread


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        sign_in(client, user)
    return client


def url(name, *args):
    return reverse(f"portal_social_community:{name}", args=args)


def _fill(thread, author, count) -> list[Post]:
    now = timezone.now()
    return [
        Post.objects.create(
            thread=thread,
            author=author,
            status=Post.Status.PUBLISHED,
            body_source=f"Reply {n}",
            body_html=text.render(f"Reply {n}"),
            created_at=now + datetime.timedelta(seconds=n + 1),
        )
        for n in range(count)
    ]


# --------------------------------------------------------------------------- permalinks


def test_a_permalink_finds_the_page_of_its_post(author, thread):
    replies = _fill(thread, author, 60)  # the opening post is number 1, so reply 49 is post 50
    thread_url = url("thread", thread.community.slug, thread.pk)
    expectations = {replies[0]: 1, replies[48]: 1, replies[49]: 2, replies[59]: 2}  # post 51 is on page 2
    for post, page in expectations.items():
        response = client_for(None).get(url("permalink", post.pk))
        assert response.status_code == 302
        assert response["Location"] == f"{thread_url}?page={page}#post-{post.pk}"
    page_two = client_for(None).get(f"{thread_url}?page=2").content.decode()
    assert f'id="post-{replies[49].pk}"' in page_two


def test_a_permalink_counts_only_the_posts_the_visitor_sees(make_member, author, thread, community):
    replies = _fill(thread, author, 50)
    writer = make_member("writer1", community)
    Post.objects.filter(pk__in=[r.pk for r in replies[:5]]).update(status=Post.Status.HELD)
    last = replies[-1]
    response = client_for(writer).get(url("permalink", last.pk))
    assert response["Location"].endswith(f"?page=1#post-{last.pk}")  # 46 posts shown: one page


def test_a_permalink_is_not_found_for_what_the_visitor_may_not_see(make_member, author, thread, community):
    private = Community.objects.create(name="Private", slug="private", visibility="private")
    Membership.objects.create(community=private, user=author)
    hidden = actions.start_thread(author=author, community=private, title="Quiet", body="Just us.")
    held = Post.objects.create(
        thread=thread, author=author, status=Post.Status.HELD, body_source="Held", body_html=text.render("Held")
    )
    reader = make_member("reader1", community)
    for post in (hidden, held):
        assert client_for(reader).get(url("permalink", post.pk)).status_code == 404
    assert client_for(reader).get(url("permalink", uuid.uuid4())).status_code == 404
    # Signed out: asked to sign in, alike for a hidden post and for none (a notification's link works after).
    for post_id in (hidden.pk, held.pk, uuid.uuid4()):
        response = client_for(None).get(url("permalink", post_id))
        assert response.status_code == 302 and "login" in response["Location"]
    assert client_for(author).get(url("permalink", held.pk)).status_code == 302  # the author sees their own
    assert client_for(author).post(url("permalink", held.pk)).status_code == 405


def test_every_post_shows_its_link(author, thread):
    page = client_for(None).get(url("thread", thread.community.slug, thread.pk)).content.decode()
    opening = thread.posts.get()
    assert f'href="{url("permalink", opening.pk)}"' in page and "Link to this post" in page


# --------------------------------------------------------------------------- quotes


def _quote_page(client, thread, post):
    address = url("thread", thread.community.slug, thread.pk) + f"?quote={post.pk}"
    response = client.get(address)
    assert response.status_code == 200
    return response.content.decode()


def test_quote_fills_the_reply_form_with_what_readers_see_and_a_link(make_member, author, thread, community):
    writer = make_member("writer1", community)
    opening = thread.posts.get()
    page = _quote_page(client_for(writer), thread, opening)
    assert "&gt; Tips?" in page  # in the textarea, escaped
    assert f"http://testserver{url('permalink', opening.pk)}" in page
    assert f'name="quote" value="{opening.pk}"' in page
    assert f"?page=1&amp;quote={opening.pk}#reply-title" in page  # the "Quote" link under each post

    reply = actions.reply(
        author=writer, thread=thread, body="> Tips?\n\nShort walks.", quoted_post=str(opening.pk), submission=None
    )
    assert reply.quoted_post_id == opening.pk


def test_a_quote_never_holds_what_a_moderator_hid(make_member, make_user, author, thread, community):
    moderator = make_user(roles.COMMUNITY_MODERATOR, mfa=True)
    body = "Write to me at jane.doe@example.com about the walking group."
    held = actions.reply(author=author, thread=thread, body=body, confirm_phi=True)
    assert held.status == Post.Status.HELD
    actions.redact_post(moderator=moderator, post=held)  # hides the email address
    held.refresh_from_db()
    assert "jane.doe" in held.body_source and "jane.doe" not in held.body_html
    writer = make_member("writer1", community)
    page = _quote_page(client_for(writer), thread, held)
    assert "jane.doe" not in page and "example.com" not in page
    assert "about the walking group" in page and "removed]" in page


def test_a_quote_of_a_post_the_reader_cannot_see_fills_nothing(make_member, author, thread, community):
    private = Community.objects.create(name="Private", slug="private", visibility="private")
    Membership.objects.create(community=private, user=author)
    secret = actions.start_thread(author=author, community=private, title="Quiet", body="Private words.")
    writer = make_member("writer1", community)
    page = _quote_page(client_for(writer), thread, secret)
    assert "Private words" not in page and f'value="{secret.pk}"' not in page
    for junk in ("not-a-uuid", "x" * 100, ""):
        response = client_for(writer).get(url("thread", community.slug, thread.pk) + f"?quote={junk}")
        assert response.status_code == 200


def test_the_action_keeps_a_quoted_post_only_when_the_author_may_see_it_in_this_community(
    make_member, author, thread, community
):
    other_thread = actions.start_thread(author=author, community=community, title="Sleep", body="Naps?").thread
    elsewhere = Community.objects.create(name="Elsewhere", slug="elsewhere", visibility="public")
    Membership.objects.create(community=elsewhere, user=author)
    other_community_post = actions.start_thread(author=author, community=elsewhere, title="Hi", body="Hello.")
    private = Community.objects.create(name="Private", slug="private", visibility="private")
    Membership.objects.create(community=private, user=author)
    secret = actions.start_thread(author=author, community=private, title="Quiet", body="Private words.")
    held = Post.objects.create(
        thread=thread, author=author, status=Post.Status.HELD, body_source="Held", body_html=text.render("Held")
    )
    writer = make_member("writer1", community)

    def quoted(value):
        return actions.reply(
            author=writer, thread=thread, body="A reply that quotes another post.", quoted_post=value
        ).quoted_post_id

    same_community = other_thread.posts.get()
    assert quoted(same_community) == same_community.pk  # another thread of this community: fine
    assert quoted(str(same_community.pk)) == same_community.pk
    assert quoted(secret.pk) is None  # a community the writer cannot see: left out silently
    assert quoted(held.pk) is None  # not published
    assert quoted(other_community_post.pk) is None  # another community: its words stay there
    assert quoted("junk") is None and quoted(uuid.uuid4()) is None and quoted(None) is None


def test_a_quoted_reply_over_http_keeps_the_link(make_member, author, thread, community):
    writer = make_member("writer1", community)
    opening = thread.posts.get()
    client = client_for(writer)
    response = client.post(
        url("thread", community.slug, thread.pk), {"body": "> Tips?\n\nShort walks.", "quote": str(opening.pk)}
    )
    assert response.status_code == 302
    assert Post.objects.get(author=writer).quoted_post_id == opening.pk
    response = client.post(url("thread", community.slug, thread.pk), {"body": "Again", "quote": "x" * 500})
    assert response.status_code == 302
    latest = Post.objects.filter(author=writer).order_by("-created_at", "-pk").first()  # the text is encrypted
    assert latest.body_source == "Again" and latest.quoted_post_id is None
