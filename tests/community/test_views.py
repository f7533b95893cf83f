"""The community pages over HTTP: who sees and does what, posting with personal details or
crisis language, double submits, locked threads, long posts, and bounded queries."""

from __future__ import annotations

import datetime
import re
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal_social.community import actions
from portal_social.community.models import Community, CommunityProfile, Membership, Post, Thread
from portal_social.core import roles, text
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

ESTABLISHED = datetime.timedelta(days=90)
VISIBILITIES = ("public", "members", "private")


def url(name, *args, **query):
    path = reverse(f"portal_social_community:{name}", args=args)
    if query:
        from urllib.parse import urlencode

        path += "?" + urlencode(query)
    return path


@pytest.fixture
def people(established):
    return {
        "anonymous": None,
        "member": established(roles.PATIENT),
        "non_member": established(roles.PATIENT),
        "caregiver": established(roles.CAREGIVER),
        "clinician": established(roles.CLINICIAN, mfa=True),
        "moderator": established(roles.COMMUNITY_MODERATOR, mfa=True),
        "superuser": established(None, is_superuser=True, is_staff=True, mfa=True),
    }


def _give_handle(user, handle):
    CommunityProfile.objects.create(user=user, handle=handle)


def _published_thread(author, community, title="Sleep after surgery", body="What helped you sleep?") -> Thread:
    post = actions.start_thread(author=author, community=community, title=title, body=body)
    assert post.status == Post.Status.PUBLISHED, post.hold_reasons
    return post.thread


@pytest.fixture
def world(people):
    """A community of each visibility with one published thread; ``member`` belongs to all three."""
    member = people["member"]
    for index, who in enumerate(("member", "non_member", "caregiver", "clinician", "moderator", "superuser")):
        _give_handle(people[who], f"{who.replace('_', '-')}-{index}")
    communities, threads = {}, {}
    for visibility in VISIBILITIES:
        community = Community.objects.create(
            name=f"{visibility.title()} heart group",
            slug=f"{visibility}-heart",
            visibility=visibility,
            description=f"The {visibility} group.",
            guidelines="Be kind. Keep personal details out of posts.",
        )
        Membership.objects.create(community=community, user=member)
        communities[visibility] = community
        threads[visibility] = _published_thread(member, community, title=f"Hello from {visibility}")
    return {"people": people, "communities": communities, "threads": threads}


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        sign_in(client, user)
    return client


# --------------------------------------------------------------------------- who sees and does what

#: Who may read each kind of community (the list, the community page, the thread page).
READS = {
    "anonymous": {"public"},
    "member": {"public", "members", "private"},
    "non_member": {"public", "members"},
    "caregiver": {"public", "members"},
    "clinician": {"public", "members"},
    "moderator": {"public", "members", "private"},
    "superuser": {"public"},
}
#: What a reply gets: "posted" (redirect to the new post), "login", "join first" (403), or 404.
REPLIES = {
    "anonymous": dict.fromkeys(VISIBILITIES, "login"),
    "member": dict.fromkeys(VISIBILITIES, "posted"),
    "non_member": {"public": "join first", "members": "join first", "private": 404},
    "caregiver": {"public": "join first", "members": "join first", "private": 404},
    "clinician": {"public": "join first", "members": "join first", "private": 404},
    "moderator": dict.fromkeys(VISIBILITIES, "join first"),
    "superuser": {"public": 403, "members": 404, "private": 404},
}
MATRIX = [(who, visibility) for who in READS for visibility in VISIBILITIES]


@pytest.mark.parametrize(("who", "visibility"), MATRIX)
def test_the_index_lists_exactly_the_communities_a_visitor_may_read(world, who, visibility):
    community = world["communities"][visibility]
    response = client_for(world["people"][who]).get(url("index"))
    assert response.status_code == 200
    listed = url("community", community.slug) in response.content.decode()
    assert listed == (visibility in READS[who])


@pytest.mark.parametrize(("who", "visibility"), MATRIX)
def test_a_community_page_opens_for_its_readers_and_is_not_found_for_others(world, who, visibility):
    community = world["communities"][visibility]
    response = client_for(world["people"][who]).get(url("community", community.slug))
    if visibility in READS[who]:
        assert response.status_code == 200
        page = response.content.decode()
        assert community.guidelines in page and f"Hello from {visibility}" in page
    else:
        assert response.status_code == 404


@pytest.mark.parametrize(("who", "visibility"), MATRIX)
def test_a_thread_opens_for_its_readers_and_is_not_found_for_others(world, who, visibility):
    thread = world["threads"][visibility]
    response = client_for(world["people"][who]).get(url("thread", thread.community.slug, thread.pk))
    if visibility in READS[who]:
        assert response.status_code == 200
        assert "What helped you sleep?" in response.content.decode()
    else:
        assert response.status_code == 404


@pytest.mark.parametrize(("who", "visibility"), MATRIX)
def test_only_active_members_reply(world, who, visibility):
    thread = world["threads"][visibility]
    address = url("thread", thread.community.slug, thread.pk)
    response = client_for(world["people"][who]).post(
        address, {"body": "Thank you, this helped.", "submission": str(uuid.uuid4())}
    )
    expected = REPLIES[who][visibility]
    replies = Post.objects.filter(thread=thread, is_opening=False)
    if expected == "posted":
        post = replies.get()
        assert response.status_code == 302
        assert response["Location"] == f"{address}?posted={post.pk}#post-{post.pk}"
        assert post.status == Post.Status.PUBLISHED
        return
    assert not replies.exists()
    if expected == "login":
        assert response.status_code == 302 and "login" in response["Location"]
    elif expected == "join first":
        assert response.status_code == 403
        assert "Join this community to reply." in response.content.decode()
    else:
        assert response.status_code == expected


def test_signed_out_visitors_see_public_communities_with_a_way_to_sign_in(world):
    page = Client().get(url("index")).content.decode()
    assert "Public heart group" in page and "Members heart group" not in page
    assert "Sign in to join" in page
    thread = world["threads"]["public"]
    page = Client().get(url("thread", "public-heart", thread.pk)).content.decode()
    assert "Sign in to reply" in page and 'name="body"' not in page
    assert "data-ps-stream" not in page  # the live updates need a session


def test_joining_and_leaving_change_the_membership_shown(world):
    patient = world["people"]["non_member"]
    client = client_for(patient)
    community = world["communities"]["members"]
    response = client.post(url("join", community.slug), {"next": url("index")})
    assert response.status_code == 302 and response["Location"] == url("index")
    assert Membership.objects.get(user=patient, community=community).status == Membership.Status.ACTIVE
    page = client.get(url("community", community.slug)).content.decode()
    assert "You are a member" in page and "Start a thread" in page
    response = client.post(url("leave", community.slug), {"next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == url("community", community.slug)
    assert Membership.objects.get(user=patient, community=community).status == Membership.Status.LEFT
    assert client.get(url("join", community.slug)).status_code == 405


def test_asking_to_join_a_community_one_cannot_see_is_not_found(world):
    client = client_for(world["people"]["non_member"])
    assert client.post(url("join", "private-heart")).status_code == 404
    assert client.post(url("leave", "private-heart")).status_code == 404
    assert client.post(url("join", "no-such-community")).status_code == 404


def _without_csrf_token(content: bytes) -> bytes:
    """The page with its CSRF token (masked afresh on every render, in the sign-out form) blanked."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", content)


def test_a_thread_hidden_from_the_visitor_answers_exactly_like_a_random_id(world):
    client = client_for(world["people"]["non_member"])
    private = world["threads"]["private"]
    for slug in ("private-heart", "public-heart"):
        hidden = client.get(url("thread", slug, private.pk))
        missing = client.get(url("thread", slug, uuid.uuid4()))
        assert hidden.status_code == missing.status_code == 404
        assert _without_csrf_token(hidden.content) == _without_csrf_token(missing.content)
        hidden = client.post(url("thread", slug, private.pk), {"body": "hi"})
        missing = client.post(url("thread", slug, uuid.uuid4()), {"body": "hi"})
        assert hidden.status_code == missing.status_code == 404
        assert _without_csrf_token(hidden.content) == _without_csrf_token(missing.content)


def test_a_thread_waiting_for_a_moderator_shows_only_to_its_author(world):
    member = world["people"]["member"]
    community = world["communities"]["public"]
    Community.objects.filter(pk=community.pk).update(review_every_post=True)
    community.refresh_from_db()
    post = actions.start_thread(author=member, community=community, title="Waiting title", body="A held post.")
    assert post.status == Post.Status.HELD
    mine = client_for(member).get(url("community", community.slug)).content.decode()
    assert "Waiting title" in mine and "Waiting for a moderator" in mine
    others = client_for(world["people"]["non_member"]).get(url("community", community.slug)).content.decode()
    assert "Waiting title" not in others
    assert (
        client_for(world["people"]["non_member"]).get(url("thread", community.slug, post.thread_id)).status_code == 404
    )


# --------------------------------------------------------------------------- handles


def test_posting_without_a_community_name_asks_for_one_first_then_comes_back(world, make_user):
    patient = make_user(roles.PATIENT, date_joined=timezone.now() - ESTABLISHED)
    community = world["communities"]["public"]
    Membership.objects.create(community=community, user=patient)
    client = client_for(patient)
    new = url("new_thread", community.slug)
    response = client.get(new)
    assert response.status_code == 302 and response["Location"] == url("handle", next=new)
    response = client.post(url("handle"), {"handle": "river-stone", "next": new})
    assert response.status_code == 302 and response["Location"] == new
    assert patient.community_profile.handle == "river-stone"
    thread = world["threads"]["public"]
    page = client.get(url("thread", community.slug, thread.pk)).content.decode()
    assert 'name="body"' in page


def test_the_community_name_page_never_sends_you_off_site(world):
    client = client_for(world["people"]["member"])
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = client.post(url("handle"), {"handle": "member-renamed", "next": target})
        assert response.status_code == 302 and response["Location"] == url("index")


def test_a_community_name_that_is_an_email_is_refused_on_the_field(world):
    response = client_for(world["people"]["member"]).post(url("handle"), {"handle": "a@b.example"})
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()


# --------------------------------------------------------------------------- posting


def test_a_new_thread_is_published_and_shown_to_its_author(world):
    member = world["people"]["member"]
    client = client_for(member)
    community = world["communities"]["members"]
    form = client.get(url("new_thread", community.slug)).content.decode()
    assert 'name="submission"' in form and 'name="title"' in form
    response = client.post(
        url("new_thread", community.slug),
        {"title": "Walking after a stent", "body": "How far do you **walk**?", "submission": str(uuid.uuid4())},
    )
    post = Post.objects.filter(thread__community=community).latest("created_at")
    assert response.status_code == 302 and post.body_source == "How far do you **walk**?"
    page = client.get(response["Location"]).content.decode()
    assert "Your reply is published." in page and f'id="post-{post.pk}"' in page
    assert "<strong>walk</strong>" in page


def test_personal_details_are_shown_back_highlighted_and_nothing_is_posted_until_confirmed(world):
    member, other = world["people"]["member"], world["people"]["non_member"]
    thread = world["threads"]["public"]
    address = url("thread", thread.community.slug, thread.pk)
    client = client_for(member)
    token = str(uuid.uuid4())
    body = "You can email me at jane.doe@example.com about it."
    response = client.post(address, {"body": body, "submission": token})
    page = response.content.decode()
    assert response.status_code == 200
    assert not Post.objects.filter(thread=thread, is_opening=False).exists()
    assert '<mark title="' in page and 'jane.doe@example.com<span class="visually-hidden"> (' in page
    assert 'name="confirm_phi"' in page and "Post anyway: a moderator reads it before it appears" in page
    assert body in page  # the text is kept in the textarea
    assert f'value="{token}"' in page

    response = client.post(address, {"body": body, "submission": token, "confirm_phi": "on"})
    post = Post.objects.get(thread=thread, is_opening=False)
    assert response.status_code == 302 and post.status == Post.Status.HELD
    page = client.get(response["Location"]).content.decode()
    assert "Your post is waiting for a moderator. You will be told when it is published." in page
    assert "jane.doe@example.com" in page and "Waiting for a moderator" in page
    assert "jane.doe@example.com" not in client_for(other).get(address).content.decode()
    # Somebody else's post named in ?posted= tells them nothing.
    stranger = client_for(other).get(address + f"?posted={post.pk}").content.decode()
    assert "waiting for a moderator" not in stranger.lower()


def test_a_title_with_personal_details_is_refused_even_when_confirmed(world):
    community = world["communities"]["public"]
    response = client_for(world["people"]["member"]).post(
        url("new_thread", community.slug),
        {"title": "Call 555-867-5309", "body": "Hello all.", "confirm_phi": "on", "submission": str(uuid.uuid4())},
    )
    assert response.status_code == 200
    assert 'id="id_title_errors"' in response.content.decode()
    assert Thread.objects.filter(community=community).count() == 1


def test_a_post_in_crisis_shows_crisis_resources_at_once(world):
    thread = world["threads"]["public"]
    client = client_for(world["people"]["member"])
    response = client.post(
        url("thread", thread.community.slug, thread.pk),
        {"body": "Some nights I want to end my life.", "submission": str(uuid.uuid4())},
    )
    post = Post.objects.get(thread=thread, is_opening=False)
    assert response.status_code == 302 and post.status == Post.Status.HELD and post.urgent
    page = client.get(response["Location"]).content.decode()
    assert 'class="ps-crisis"' in page
    assert "A moderator will read it first. If you need help now" in page


def test_the_same_form_sent_twice_makes_one_post(world):
    thread = world["threads"]["public"]
    client = client_for(world["people"]["member"])
    data = {"body": "Sent twice by a double click.", "submission": str(uuid.uuid4())}
    first = client.post(url("thread", thread.community.slug, thread.pk), data)
    second = client.post(url("thread", thread.community.slug, thread.pk), data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Post.objects.filter(thread=thread, is_opening=False).count() == 1
    thread.refresh_from_db()
    assert thread.reply_count == 1


def test_a_locked_thread_refuses_replies_and_says_so(world):
    thread = world["threads"]["public"]
    Thread.objects.filter(pk=thread.pk).update(locked=True)
    client = client_for(world["people"]["member"])
    address = url("thread", thread.community.slug, thread.pk)
    page = client.get(address).content.decode()
    assert "This thread is locked" in page and 'name="body"' not in page
    response = client.post(address, {"body": "Too late?", "submission": str(uuid.uuid4())})
    assert response.status_code == 403 and "This thread is locked" in response.content.decode()
    assert not Post.objects.filter(thread=thread, is_opening=False).exists()


def test_an_oversize_post_gets_a_field_error_and_keeps_the_text(world, settings):
    settings.PORTAL_SOCIAL_TEXT_MAX_LENGTH = 200
    thread = world["threads"]["public"]
    body = "Long story. " * 30
    response = client_for(world["people"]["member"]).post(
        url("thread", thread.community.slug, thread.pk), {"body": body, "submission": str(uuid.uuid4())}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_body_errors"' in page and "the limit is 200" in page
    assert body.strip() in page
    assert not Post.objects.filter(thread=thread, is_opening=False).exists()


def test_too_many_posts_answer_429_and_keep_the_form(world, settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"community_post": "4/h"}  # the fixture's three threads, one reply
    thread = world["threads"]["public"]
    client = client_for(world["people"]["member"])
    address = url("thread", thread.community.slug, thread.pk)
    client.post(address, {"body": "One.", "submission": str(uuid.uuid4())})
    response = client.post(address, {"body": "Two, kept.", "submission": str(uuid.uuid4())})
    assert response.status_code == 429
    assert "Two, kept." in response.content.decode()
    assert Post.objects.filter(thread=thread, is_opening=False).count() == 1


def test_badges_name_moderators_and_mentors(world):
    moderator = world["people"]["moderator"]
    community = world["communities"]["public"]
    Membership.objects.create(community=community, user=moderator)
    mentor = world["people"]["caregiver"]
    Membership.objects.create(community=community, user=mentor, role=Membership.Role.MENTOR)
    thread = world["threads"]["public"]
    actions.reply(author=moderator, thread=thread, body="Welcome, everyone.")
    actions.reply(author=mentor, thread=thread, body="Glad you are here.")
    page = Client().get(url("thread", community.slug, thread.pk)).content.decode()
    assert page.count('<span class="badge">Moderator</span>') == 1
    assert page.count('<span class="badge badge--ok">Mentor</span>') == 1


def test_signed_in_readers_get_the_live_notice_and_the_stream_position(world):
    thread = world["threads"]["public"]
    page = client_for(world["people"]["member"]).get(url("thread", "public-heart", thread.pk)).content.decode()
    assert f'data-ps-stream="{actions.THREAD_STREAM}"' in page and f'data-ps-target="{thread.pk}"' in page
    assert 'data-ps-after="1"' in page  # the opening post's event
    assert 'aria-live="polite" hidden' in page and "community_thread.js" in page


# --------------------------------------------------------------------------- bounded queries


def _queries(client, address) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(address)
    assert response.status_code == 200
    return len(captured)


def _fill_thread(thread, authors, count):
    now = timezone.now()
    for n in range(count):
        author = authors[n % len(authors)]
        Post.objects.create(
            thread=thread,
            author=author,
            status=Post.Status.PUBLISHED,
            body_source=f"Reply {n}",
            body_html=text.render(f"Reply {n}"),
            created_at=now + datetime.timedelta(seconds=n),
        )


@pytest.fixture
def authors(make_user, world):
    community = world["communities"]["public"]
    people = []
    for n in range(50):
        user = make_user(roles.COMMUNITY_MODERATOR if n % 7 == 0 else roles.PATIENT)
        _give_handle(user, f"author-{n}")
        Membership.objects.create(
            community=community, user=user, role=Membership.Role.MENTOR if n % 5 == 0 else Membership.Role.MEMBER
        )
        people.append(user)
    return people


@pytest.mark.parametrize("who", ["anonymous", "member", "moderator"])
def test_the_thread_page_makes_the_same_queries_for_5_and_50_posts(world, authors, who):
    community = world["communities"]["public"]
    small = _published_thread(world["people"]["member"], community, title="Small")
    large = _published_thread(world["people"]["member"], community, title="Large")
    _fill_thread(small, authors[:5], 5)
    _fill_thread(large, authors, 50)
    client = client_for(world["people"][who])
    _queries(client, url("thread", community.slug, small.pk))  # sessions and caches warm
    few = _queries(client, url("thread", community.slug, small.pk))
    many = _queries(client, url("thread", community.slug, large.pk))
    assert few == many, (few, many)
    assert many <= 19  # one of them: the unread-messages count in the site's navigation


@pytest.mark.parametrize("who", ["anonymous", "member", "moderator"])
def test_the_community_page_and_the_index_make_the_same_queries_for_5_and_50_threads(world, authors, who):
    small = world["communities"]["members"]
    large = world["communities"]["public"]
    for n in range(4):
        Thread.objects.create(community=small, author=authors[n], title=f"Small {n}", visible=True)
    for n in range(49):
        Thread.objects.create(community=large, author=authors[n], title=f"Large {n}", visible=True, pinned=n == 3)
    client = client_for(world["people"][who])
    if who == "anonymous":
        small = Community.objects.create(name="Another public", slug="another-public", visibility="public")
        for n in range(5):
            Thread.objects.create(community=small, author=authors[n], title=f"Small {n}", visible=True)
    _queries(client, url("community", small.slug))
    few = _queries(client, url("community", small.slug))
    many = _queries(client, url("community", large.slug))
    assert few == many, (few, many)
    assert many <= 20
    before = _queries(client, url("index"))
    for n in range(30):
        Community.objects.create(name=f"Extra {n}", slug=f"extra-{n}", visibility="public")
    assert _queries(client, url("index")) == before
