"""Reactions: who may react to what, explicit on and off, refusals, the thread page's buttons and counts in a
fixed number of queries, and the "who reacted" page."""

from __future__ import annotations

import datetime

import pytest
from django.core import checks
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal_social.community import actions
from portal_social.community.actions import _common
from portal_social.community.actions.reactions import check_reactions_setting, kinds
from portal_social.community.models import Community, CommunityProfile, Membership, Post, Reaction
from portal_social.core import roles, text
from portal_social.core.models import AuditEvent
from portal_social.core.ratelimit import RateLimited
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

ESTABLISHED = datetime.timedelta(days=90)


@pytest.fixture
def people(established):
    found = {
        "anonymous": None,
        "author": established(roles.PATIENT),
        "member": established(roles.PATIENT),
        "non_member": established(roles.PATIENT),
        "moderator": established(roles.COMMUNITY_MODERATOR, mfa=True),
        "member_moderator": established(roles.COMMUNITY_MODERATOR, mfa=True),
        "superuser": established(None, is_superuser=True, is_staff=True, mfa=True),
    }
    for n, (name, user) in enumerate(found.items()):
        if user is not None:
            CommunityProfile.objects.create(user=user, handle=f"{name.replace('_', '-')}-{n}")
    return found


@pytest.fixture
def community(people):
    community = Community.objects.create(name="Heart health", slug="heart-health", visibility="public")
    for who in ("author", "member", "member_moderator"):
        Membership.objects.create(community=community, user=people[who])
    return community


@pytest.fixture
def post(people, community):
    opening = actions.start_thread(author=people["author"], community=community, title="Walking", body="Tips?")
    assert opening.status == Post.Status.PUBLISHED, opening.hold_reasons
    return opening


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        sign_in(client, user)
    return client


def url(name, *args):
    return reverse(f"portal_social_community:{name}", args=args)


# --------------------------------------------------------------------------- the action

#: Who may react to a published post in a public community (the author is a member too, but not on their own).
MAY_REACT = {
    "anonymous": False,
    "author": False,
    "member": True,
    "non_member": False,
    "moderator": False,  # a moderator who is not a member of the community
    "member_moderator": True,
    "superuser": False,  # no role, no reactions: is_superuser opens nothing
}


@pytest.mark.parametrize("who", list(MAY_REACT))
def test_who_may_react(people, post, who):
    user = people[who]
    if MAY_REACT[who]:
        assert actions.react(user=user, post=post, kind="helpful", on=True) is True
        assert Reaction.objects.filter(post=post, user=user, kind="helpful").count() == 1
        event = AuditEvent.objects.get(action="community.react")
        assert event.actor_id == user.pk and event.details["kind"] == "helpful" and event.details["on"] is True
    else:
        with pytest.raises(actions.CommunityDenied):
            actions.react(user=user, post=post, kind="helpful", on=True)
        assert not Reaction.objects.exists()
        assert not AuditEvent.objects.filter(action="community.react").exists()


def test_on_and_off_are_explicit_so_a_repeated_submit_changes_nothing(people, post):
    member = people["member"]
    assert actions.react(user=member, post=post, kind="hug", on=True) is True
    assert actions.react(user=member, post=post, kind="hug", on=True) is False  # not a toggle
    assert Reaction.objects.filter(post=post, kind="hug").count() == 1
    assert actions.react(user=member, post=post, kind="like", on=True) is True  # one of each kind
    assert actions.react(user=member, post=post, kind="hug", on=False) is True
    assert actions.react(user=member, post=post, kind="hug", on=False) is False
    assert list(Reaction.objects.values_list("kind", flat=True)) == ["like"]
    assert AuditEvent.objects.filter(action="community.react").count() == 3  # only real changes


def test_an_unknown_kind_and_a_wrong_type_are_field_errors(people, post):
    member = people["member"]
    for kind in ("explode", "", None, 3, "HELPFUL", "x" * 30):
        with pytest.raises(ValidationError) as caught:
            actions.react(user=member, post=post, kind=kind, on=True)
        assert "kind" in caught.value.error_dict
    with pytest.raises(ValidationError) as caught:
        actions.react(user=member, post=post, kind="hug", on="yes")
    assert "on" in caught.value.error_dict
    assert not Reaction.objects.exists()


def test_the_thread_pages_buttons_send_kind_and_state_together(people, post):
    client = client_for(people["member"])
    for _ in range(2):  # a double submit sets, never toggles
        assert client.post(url("react", post.pk), {"set": "hug:1"}).status_code == 302
    assert list(Reaction.objects.values_list("kind", flat=True)) == ["hug"]
    client.post(url("react", post.pk), {"set": "hug:0"})
    assert not Reaction.objects.exists()
    for bad in ("hug", "hug:2", ":1", "nonsense:1", "hug:1:1"):
        client.post(url("react", post.pk), {"set": bad})
    assert not Reaction.objects.exists()


def test_a_hidden_post_is_refused_clearly(people, post):
    post.status = Post.Status.HELD
    post.save(update_fields=["status"])
    with pytest.raises(actions.CommunityDenied) as caught:
        actions.react(user=people["member_moderator"], post=post, kind="hug", on=True)  # moderators see held posts
    assert caught.value.code == "not_published" and "not published" in caught.value.message
    with pytest.raises(actions.CommunityDenied) as caught:
        actions.react(user=people["member"], post=post, kind="hug", on=True)  # cannot see it at all
    assert caught.value.code != "not_published"
    for status in (Post.Status.REJECTED, Post.Status.DELETED):
        post.status = status
        with pytest.raises(actions.CommunityDenied):
            actions.react(user=people["member_moderator"], post=post, kind="hug", on=True)


def test_a_silenced_member_cannot_react(people, post, monkeypatch):
    def silenced(author, community, thread):
        return "You are silenced until tomorrow." if author.pk == people["member"].pk else None

    monkeypatch.setattr(_common, "POSTING_CHECKS", [*_common.POSTING_CHECKS, silenced])
    with pytest.raises(actions.CommunityDenied) as caught:
        actions.react(user=people["member"], post=post, kind="hug", on=True)
    assert caught.value.message == "You are silenced until tomorrow."
    assert not Reaction.objects.exists()


def test_slow_mode_does_not_stop_a_reaction(people, post):
    from portal_social.community.models import Thread

    Thread.objects.filter(pk=post.thread_id).update(slow_mode_seconds=3600)
    actions.reply(author=people["member"], thread=Thread.objects.get(pk=post.thread_id), body="Me too.")
    assert actions.react(user=people["member"], post=post, kind="hug", on=True) is True
    with pytest.raises(actions.CommunityDenied, match="Slow mode"):
        actions.reply(author=people["member"], thread=Thread.objects.get(pk=post.thread_id), body="And again.")


def test_reactions_are_rate_limited(people, post, settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"community_react": "2/h"}
    member = people["member"]
    actions.react(user=member, post=post, kind="hug", on=True)
    actions.react(user=member, post=post, kind="hug", on=False)
    with pytest.raises(RateLimited):
        actions.react(user=member, post=post, kind="hug", on=True)


def test_the_kinds_come_from_the_setting_and_a_bad_setting_is_reported(settings):
    assert [key for key, _label in kinds()] == ["helpful", "hug", "like"]
    assert check_reactions_setting() == []
    settings.PORTAL_SOCIAL_COMMUNITY_REACTIONS = {"thanks": "Thank you", "me_too": "Me too"}
    assert kinds() == [("thanks", "Thank you"), ("me_too", "Me too")]
    assert check_reactions_setting() == []
    settings.PORTAL_SOCIAL_COMMUNITY_REACTIONS = [("Thanks!", "Thank you"), ("ok", ""), ("ok", "Fine"), "abc"]
    (error,) = check_reactions_setting()
    assert isinstance(error, checks.Error) and error.id == "portal_social.E161"
    assert kinds() == [("ok", "Fine")]  # what is well formed still works; the page never breaks
    settings.PORTAL_SOCIAL_COMMUNITY_REACTIONS = 42
    assert check_reactions_setting() and kinds() == []


# --------------------------------------------------------------------------- the thread page


def _thread_page(client, post):
    return client.get(url("thread", post.thread.community.slug, post.thread_id))


def test_members_get_buttons_with_counts_and_pressed_state_signed_out_visitors_counts_only(people, post):
    actions.react(user=people["member"], post=post, kind="hug", on=True)
    actions.react(user=people["member_moderator"], post=post, kind="hug", on=True)
    page = _thread_page(client_for(people["member"]), post).content.decode()
    assert page.count('class="ps-reactions__form"') == 1  # one form, a button per reaction
    assert 'name="set" value="hug:0"' in page and 'name="set" value="helpful:1"' in page
    assert 'aria-pressed="true">Sending a hug <span class="ps-reactions__count" aria-hidden="true">2</span>' in page
    assert 'aria-pressed="false">Helpful' in page
    assert url("reactions", post.pk) in page and "Who reacted" in page
    assert url("permalink", post.pk) in page

    anonymous = _thread_page(client_for(None), post).content.decode()
    assert "ps-reactions__form" not in anonymous and "aria-pressed" not in anonymous
    assert "Sending a hug" in anonymous and "Link to this post" in anonymous
    assert "?quote=" not in anonymous  # no reply form, no quote link

    own = _thread_page(client_for(people["author"]), post).content.decode()
    assert "ps-reactions__form" not in own  # not on one's own post


def test_reacting_over_http_goes_back_to_the_post_and_a_resend_changes_nothing(people, post):
    client = client_for(people["member"])
    for _ in range(2):
        response = client.post(url("react", post.pk), {"kind": "helpful", "on": "1"})
        assert response.status_code == 302
        assert response["Location"].endswith(f"?page=1#post-{post.pk}")
    assert Reaction.objects.filter(post=post, kind="helpful").count() == 1
    client.post(url("react", post.pk), {"kind": "helpful", "on": "0"})
    assert not Reaction.objects.exists()


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", "login"),
        ("member", 302),
        ("non_member", 403),
        ("moderator", 403),
        ("superuser", 403),
        ("author", 403),
    ],
)
def test_the_react_endpoint_per_person(people, post, who, expected):
    response = client_for(people[who]).post(url("react", post.pk), {"kind": "like", "on": "1"})
    if expected == "login":
        assert response.status_code == 302 and "login" in response["Location"]
    else:
        assert response.status_code == expected
    assert Reaction.objects.exists() == (who == "member")


def test_junk_input_gets_a_message_not_an_error(people, post):
    client = client_for(people["member"])
    for data in ({"kind": "like", "on": "maybe"}, {"kind": "explode", "on": "1"}, {}, {"kind": "x" * 5000, "on": "1"}):
        response = client.post(url("react", post.pk), data, follow=True)
        assert response.status_code == 200
        assert not Reaction.objects.exists()


def test_reacting_to_a_post_one_cannot_see_is_not_found(people, post):
    private = Community.objects.create(name="Private", slug="private", visibility="private")
    Membership.objects.create(community=private, user=people["author"])
    hidden = actions.start_thread(author=people["author"], community=private, title="Quiet", body="Just us.")
    response = client_for(people["member"]).post(url("react", hidden.pk), {"kind": "like", "on": "1"})
    assert response.status_code == 404
    assert client_for(people["member"]).get(url("reactions", hidden.pk)).status_code == 404


def test_a_member_without_a_community_name_chooses_one_first(people, post):
    people["member"].community_profile.delete()
    response = client_for(people["member"]).post(url("react", post.pk), {"kind": "like", "on": "1"})
    assert response.status_code == 302 and url("handle") in response["Location"]
    assert not Reaction.objects.exists()


def _fill(thread, authors, count, reactors):
    now = timezone.now()
    for n in range(count):
        reply = Post.objects.create(
            thread=thread,
            author=authors[n % len(authors)],
            status=Post.Status.PUBLISHED,
            body_source=f"Reply {n}",
            body_html=text.render(f"Reply {n}"),
            created_at=now + datetime.timedelta(seconds=n + 1),
        )
        for m, user in enumerate(reactors):
            Reaction.objects.create(post=reply, user=user, kind=("helpful", "hug", "like")[(n + m) % 3])


def _queries(client, address) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(address)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("who", ["anonymous", "member", "member_moderator"])
def test_the_thread_page_with_reactions_makes_the_same_queries_for_5_and_50_posts(people, community, who):
    authors = [people["author"], people["member_moderator"]]
    reactors = [people["member"], people["member_moderator"], people["author"]]
    small = actions.start_thread(author=people["author"], community=community, title="Small", body="Hi").thread
    large = actions.start_thread(author=people["author"], community=community, title="Large", body="Hi").thread
    _fill(small, authors, 5, reactors)
    _fill(large, authors, 49, reactors)
    client = client_for(people[who])
    _queries(client, url("thread", community.slug, small.pk))  # sessions and caches warm
    few = _queries(client, url("thread", community.slug, small.pk))
    many = _queries(client, url("thread", community.slug, large.pk))
    assert few == many, (few, many)


def test_the_reactions_add_one_query_to_the_thread_page(people, post, monkeypatch):
    from portal_social.community.views import reactions

    actions.react(user=people["member_moderator"], post=post, kind="hug", on=True)
    client = client_for(people["member"])
    address = url("thread", post.thread.community.slug, post.thread_id)
    _queries(client, address)
    with_reactions = _queries(client, address)
    monkeypatch.setattr(reactions, "annotate_thread", lambda *args: None)
    assert with_reactions - _queries(client, address) <= 2


# --------------------------------------------------------------------------- who reacted


def test_who_reacted_lists_handles_by_kind(people, post):
    actions.react(user=people["member"], post=post, kind="hug", on=True)
    actions.react(user=people["member_moderator"], post=post, kind="helpful", on=True)
    page = client_for(None).get(url("reactions", post.pk)).content.decode()
    assert "member-2" in page and "member-moderator-5" in page
    assert "All (2)" in page and "Sending a hug (1)" in page
    only_hugs = client_for(None).get(url("reactions", post.pk) + "?kind=hug").content.decode()
    assert "member-2" in only_hugs and "member-moderator-5" not in only_hugs
    junk = client_for(None).get(url("reactions", post.pk) + "?kind=%00&page=-1")
    assert junk.status_code == 200


def test_who_reacted_is_paginated(people, post, make_user):
    for n in range(55):
        user = make_user(roles.PATIENT)
        Reaction.objects.create(post=post, user=user, kind="like")
    first = client_for(None).get(url("reactions", post.pk)).content.decode()
    assert first.count("ps-reacted-by__handle") == 50 and "Page 1 of 2" in first
    second = client_for(None).get(url("reactions", post.pk) + "?page=2").content.decode()
    assert second.count("ps-reacted-by__handle") == 5


def test_who_reacted_is_not_found_for_a_hidden_or_unknown_post(people, post):
    actions.react(user=people["member"], post=post, kind="hug", on=True)
    post.status = Post.Status.HELD
    post.save(update_fields=["status"])
    for who in ("anonymous", "member", "author"):
        assert client_for(people[who]).get(url("reactions", post.pk)).status_code == 404
    import uuid

    assert client_for(people["member"]).get(url("reactions", uuid.uuid4())).status_code == 404
