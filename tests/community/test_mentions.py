"""Mentions: @names are checked before a post is saved, and the members named are told once, when it is
published, if they can read it."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal_social.community import actions
from portal_social.community.actions import mentions
from portal_social.community.models import Community, CommunityProfile, Membership, Mention, Post
from portal_social.core import roles
from portal_social.core.notify.models import Notification
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

ESTABLISHED = datetime.timedelta(days=90)


@pytest.fixture
def make_member(make_user):
    def make(handle, community=None, role=roles.PATIENT, **kwargs):
        user = make_user(role, date_joined=timezone.now() - ESTABLISHED, **kwargs)
        CommunityProfile.objects.create(user=user, handle=handle, trust_level=1)
        if community is not None:
            Membership.objects.create(community=community, user=user)
        return user

    return make


@pytest.fixture
def community():
    return Community.objects.create(name="Heart health", slug="heart-health", visibility="members")


@pytest.fixture
def private():
    return Community.objects.create(name="Caregivers", slug="caregivers", visibility="private")


@pytest.fixture
def thread(make_member, community):
    author = make_member("steady_beat", community)
    return actions.start_thread(author=author, community=community, title="Walking", body="Tips?").thread


def _mentions_of(user):
    return Notification.objects.filter(recipient=user, key="community.mention")


def test_a_member_named_in_a_published_reply_is_told_once_with_a_link_to_the_post(make_member, community, thread):
    sam = make_member("Sam_T", community)
    writer = make_member("writer1", community)
    post = actions.reply(author=writer, thread=thread, body="@sam_t what do you think? And again, @Sam_T.")
    assert post.status == Post.Status.PUBLISHED, post.hold_reasons  # a member's name is not a social handle
    assert list(Mention.objects.filter(post=post).values_list("user_id", flat=True)) == [sam.pk]
    (notification,) = _mentions_of(sam)
    assert notification.params == {"post": str(post.pk)}  # an opaque id for the link, nothing anyone wrote
    from portal_social.core import notify

    message = notify.render_notification(notification)
    assert "sam" not in (message.subject + message.text).lower() and "think" not in message.text
    assert message.url.endswith(reverse("portal_social_community:permalink", args=[post.pk]))


def test_someone_who_cannot_read_the_thread_is_neither_recorded_nor_told(make_member, private, community):
    author = make_member("quiet_one", private)
    outsider = make_member("outsider", community)  # exists, but not a member of the private community
    opening = actions.start_thread(author=author, community=private, title="Just us", body="Hello @outsider")
    assert opening.status == Post.Status.PUBLISHED
    assert not Mention.objects.exists()
    assert not _mentions_of(outsider).exists()


def test_the_author_is_not_told_of_their_own_name(make_member, community, thread):
    writer = make_member("writer1", community)
    actions.reply(author=writer, thread=thread, body="Signed, @writer1")
    assert not Mention.objects.exists() and not Notification.objects.filter(key="community.mention").exists()


def test_a_held_post_tells_nobody_until_it_is_published_and_never_twice(
    make_member, make_user, community, thread, settings
):
    settings.PORTAL_SOCIAL_COMMUNITY_FLAG_HIDE_SCORE = 1
    moderator = make_user(roles.COMMUNITY_MODERATOR, mfa=True)
    sam = make_member("sam_t", community)
    writer = make_member("writer1", community)
    community.review_every_post = True
    community.save()
    post = actions.reply(author=writer, thread=thread, body="Thanks @sam_t")
    assert post.status == Post.Status.HELD
    assert not _mentions_of(sam).exists()
    actions.approve_post(moderator=moderator, post=post)
    assert _mentions_of(sam).count() == 1
    # Members' flags hide it; a moderator keeps it: published again, nobody told twice.
    actions.flag_post(user=make_member("flagger", community), post=post, reason="off_topic")
    post.refresh_from_db()
    assert post.status == Post.Status.HELD
    actions.approve_post(moderator=moderator, post=post)
    post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHED
    assert _mentions_of(sam).count() == 1 and Mention.objects.count() == 1


def test_a_name_a_moderator_hid_tells_nobody(make_member, make_user, community, thread):
    moderator = make_user(roles.COMMUNITY_MODERATOR, mfa=True)
    sam = make_member("sam_t", community)
    writer = make_member("writer1", community)
    community.review_every_post = True
    community.save()
    body = "Thanks @sam_t"
    post = actions.reply(author=writer, thread=thread, body=body)
    start = body.index("@")
    actions.redact_post(moderator=moderator, post=post, spans=[(start, len(body))], use_findings=False)
    assert not _mentions_of(sam).exists()


def test_an_unknown_name_is_refused_before_anything_is_saved(make_member, community, thread):
    writer = make_member("writer1", community)
    with pytest.raises(ValidationError) as caught:
        actions.reply(author=writer, thread=thread, body="Hello @nobody_here and @ghost.")
    messages = caught.value.message_dict["body"]
    assert messages == [
        "No member is called @nobody_here. Check the community name, or write it without the @.",
        "No member is called @ghost. Check the community name, or write it without the @.",
    ]
    assert Post.objects.filter(author=writer).count() == 0
    with pytest.raises(ValidationError):
        actions.start_thread(author=writer, community=community, title="Hi", body="@nobody_here hi")


def test_email_addresses_code_and_quotes_are_not_mentions(make_member, community, thread):
    make_member("example", community)
    writer = make_member("writer1", community)
    assert (
        mentions.mentioned_names(
            "<p>jane@example.com, <code>@ghost</code></p><blockquote><p>@ghost2 said</p></blockquote>"
        )
        == []
    )
    assert mentions.mentioned_names("<p>(@sam) @sam_t. @x @7pm</p>") == ["sam", "sam_t.", "7pm"]
    # Typed as an email address: no error about an unknown member (screening may still hold the address).
    try:
        actions.reply(author=writer, thread=thread, body="Mail ghost@nowhere-member.com for the leaflet")
    except ValidationError as exc:
        assert "No member is called" not in str(exc)
    assert not Mention.objects.exists()


def test_too_many_mentions_are_refused(make_member, community, thread):
    names = [f"member{n:02d}" for n in range(mentions.MAX_MENTIONS + 1)]
    for name in names:
        make_member(name, community)
    writer = make_member("writer1", community)
    with pytest.raises(ValidationError) as caught:
        actions.reply(author=writer, thread=thread, body=" ".join(f"@{n}" for n in names))
    assert caught.value.message_dict["body"] == [f"You can mention up to {mentions.MAX_MENTIONS} members in one post."]
    post = actions.reply(author=writer, thread=thread, body=" ".join(f"@{n}" for n in names[:-1]))
    assert Mention.objects.filter(post=post).count() == mentions.MAX_MENTIONS


def test_the_reply_form_keeps_the_text_and_names_the_unknown_member(make_member, community, thread):
    writer = make_member("writer1", community)
    client = Client()
    sign_in(client, writer)
    body = "Thank you @nobody_here for the walking tips!"
    response = client.post(reverse("portal_social_community:thread", args=[community.slug, thread.pk]), {"body": body})
    assert response.status_code == 200
    page = response.content.decode()
    assert "No member is called @nobody_here" in page
    assert "Thank you @nobody_here for the walking tips!</textarea>" in page
    assert Post.objects.filter(author=writer).count() == 0


def test_a_handle_that_looks_like_a_social_handle_but_is_unknown_is_still_refused_not_held(
    make_member, community, thread
):
    writer = make_member("writer1", community)
    with pytest.raises(ValidationError) as caught:
        actions.reply(author=writer, thread=thread, body="Follow @jane_doe_insta", confirm_phi=True)
    assert "No member is called @jane_doe_insta" in str(caught.value)
